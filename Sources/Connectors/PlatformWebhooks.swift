public import Accounting

/// How a platform's webhooks are taken in: which headers prove them, and how a body reads into notifications.
///
/// A connector's platform supplies one; Ingestion's platform inbox runs it for `POST /webhooks/{source}`: verify,
/// read, route each notification by its company to an integration, keep the delivery (group-committed).
public protocol PlatformWebhooks: Sendable {
    /// The platform whose companies the notifications name.
    var platform: Platform { get }
    /// The webhook source: the path segment of `POST /webhooks/{source}` and the name its secrets are kept under.
    var source: String { get }
    /// The delivery's event type as kept (`quickbooks.notification`).
    var eventType: String { get }
    /// The name of the company id in the platform's payload (`realmId`), for the errors of an unroutable delivery.
    var companyField: String { get }
    /// What the platform calls a company, for the errors of an unroutable delivery (`QuickBooks realm`).
    var companyName: String { get }
    /// The header the signature comes in (`intuit-signature`).
    var signatureHeader: String { get }
    /// What the platform calls the source's secret (`verifier token`), for the answer when none is configured.
    var secretName: String { get }

    /// Whether the delivery is the platform's, under one of the source's active secrets. Compared in constant time.
    /// - Parameters:
    ///   - header: a header's value by lower-case name.
    ///   - secrets: the source's active secrets (never empty).
    func verify(header: (String) -> String?, body: [UInt8], secrets: [String]) -> WebhookVerification

    /// The headers kept with the delivery, for replay: those that verified it, never a secret.
    func keptHeaders(header: (String) -> String?) -> [String: String]

    /// The id the delivery is deduplicated by: the same delivery again has the same id.
    func webhookID(header: (String) -> String?, body: [UInt8]) -> String

    /// The notifications of a verified body, those of records Ledgerwire does not sync left out.
    /// - Throws: `PlatformWebhookError`: the body is not JSON (`malformed`) or not the platform's shape.
    func notifications(body: [UInt8]) throws(PlatformWebhookError) -> [PlatformNotification]

    /// Whether the platform wants every answer without a body (Xero): the status alone says what happened — a refused
    /// signature is a bare 401, an empty delivery (`isEmptyDelivery`) a bare 200. `false` (the default): Ledgerwire's
    /// problem details and receipts.
    var answersWithEmptyBodies: Bool { get }

    /// Whether a verified body is a check of the endpoint that carries nothing (Xero's intent-to-receive: no events):
    /// it is answered, and never kept as a delivery. `false` by default.
    func isEmptyDelivery(body: [UInt8]) -> Bool
}

extension PlatformWebhooks {
    public var answersWithEmptyBodies: Bool { false }

    public func isEmptyDelivery(body: [UInt8]) -> Bool { false }
}

/// What a webhook's signature check found.
public enum WebhookVerification: Sendable, Hashable {
    case valid
    /// No signature header came.
    case missingSignature
    /// A signature came that none of the secrets gives.
    case badSignature
}

/// One record changed in one platform company. Its data is not in the notification: the record is fetched.
public struct PlatformNotification: Hashable, Sendable {
    /// The platform's id of the company (a QuickBooks realm, a Xero organisation): what it is routed by.
    public var companyID: String
    public var recordType: RecordType
    public var remoteID: String
    /// `create`, `update`, `delete`, `void`, `merge` or `emailed`.
    public var operation: String
    /// When the platform last updated the record.
    public var occurredAt: Timestamp
    /// The same change has the same key in every format and every redelivery.
    public var idempotencyKey: String

    public init(
        companyID: String, recordType: RecordType, remoteID: String, operation: String, occurredAt: Timestamp,
        idempotencyKey: String
    ) {
        self.companyID = companyID
        self.recordType = recordType
        self.remoteID = remoteID
        self.operation = operation
        self.occurredAt = occurredAt
        self.idempotencyKey = idempotencyKey
    }
}

/// A verified webhook body that cannot be read.
public enum PlatformWebhookError: Error, Hashable, Sendable {
    /// Not JSON (or not the platform's encoding) at all: a 400.
    case malformed(String)
    /// Not the platform's shape: a 422 naming each field.
    case invalid([FieldError])

    /// The errors the delivery is kept with.
    public var errors: [FieldError] {
        switch self {
        case .malformed(let reason): [FieldError(field: "body", message: "is not JSON: \(reason)")]
        case .invalid(let errors): errors
        }
    }
}
