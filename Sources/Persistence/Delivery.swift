public import Accounting
import Foundation

/// What became of a delivery.
public enum DeliveryStatus: String, Sendable, Hashable, CaseIterable {
    /// At least one of its commands changed a record.
    case accepted
    /// Everything in it was known already (the same webhook id, or the same changes under another id).
    case duplicate
    /// Its changes are older than what is stored: kept, never applied.
    case superseded
    /// Signed but invalid: kept with its errors, replayable once fixed.
    case rejected
    /// Signed but for no known tenant or integration: kept, never applied to another.
    case unroutable
}

/// A verified delivery on its way into the inbox, already normalized.
///
/// Everything the write needs that does not depend on what is stored — ids, canonical JSON, timestamps as text — is
/// prepared when the delivery is made, on the request's task, so the single database writer only writes.
public struct IncomingDelivery: Sendable {
    /// What the delivery asks for.
    public enum Content: Sendable {
        case commands([SyncCommand])
        case rejected([FieldError])
        case unroutable(String)
        /// A platform's notifications, routed to integrations, and the errors of those routed nowhere (an unknown
        /// company). With none routed and some not, the delivery is `unroutable`.
        case notifications([LedgerNotification], unroutable: [FieldError])
    }

    public let source: String
    public let webhookID: String
    public let receivedAt: Timestamp
    public let tenantID: Tenant.ID?
    public let eventType: String?
    /// The headers that verified it (never a secret).
    public let headers: [String: String]
    public let body: [UInt8]
    public let content: Content
    let prepared: PreparedDelivery

    public init(
        source: String,
        webhookID: String,
        receivedAt: Timestamp,
        tenantID: Tenant.ID?,
        eventType: String?,
        headers: [String: String],
        body: [UInt8],
        content: Content
    ) {
        self.source = source
        self.webhookID = webhookID
        self.receivedAt = receivedAt
        self.tenantID = tenantID
        self.eventType = eventType
        self.headers = headers
        self.body = body
        self.content = content
        self.prepared = PreparedDelivery(headers: headers, body: body, receivedAt: receivedAt, content: content)
    }
}

/// The parts of a delivery's rows that can be computed before the write transaction.
struct PreparedDelivery: Sendable {
    let id: String
    let headers: String
    let body: Data
    let receivedAt: String
    let status: DeliveryStatus
    let errors: [FieldError]
    let errorsJSON: String
    let commands: [PreparedCommand]

    init(headers: [String: String], body: [UInt8], receivedAt: Timestamp, content: IncomingDelivery.Content) {
        id = Identifiers.make("dlv")
        self.headers = JSONValue.object(headers.mapValues(JSONValue.string)).canonicalString
        self.body = Data(body)
        self.receivedAt = receivedAt.rfc3339
        switch content {
        case .commands(let commands):
            (status, errors, self.commands) = (.accepted, [], commands.map(PreparedCommand.init))
        case .rejected(let errors):
            (status, self.errors, commands) = (.rejected, errors, [])
        case .unroutable(let reason):
            (status, errors, commands) = (.unroutable, [FieldError(field: "", message: reason)], [])
        case .notifications(let notifications, let unroutable):
            let status: DeliveryStatus = notifications.isEmpty && !unroutable.isEmpty ? .unroutable : .accepted
            (self.status, errors, commands) = (status, unroutable, [])
        }
        errorsJSON = FieldErrorCoding.encode(errors)
    }
}

/// A command with its canonical JSON and the ids it gets if it creates a record.
struct PreparedCommand: Sendable {
    let command: SyncCommand
    let data: String
    let newRecordID: String

    init(_ command: SyncCommand) {
        self.command = command
        data = command.data.canonicalString
        newRecordID = Identifiers.make("rec")
    }
}

/// What the inbox did with a delivery.
public struct DeliveryOutcome: Sendable, Hashable {
    public var deliveryID: String
    public var status: DeliveryStatus
    public var errors: [FieldError]
    /// The webhook id had been received before: nothing was written this time.
    public var isRedelivery: Bool
    /// The records this delivery created or changed.
    public var changes: [RecordChange]
    /// Jobs were queued in its transaction (for the workers to be told).
    public var queuedJobs: Bool

    public init(
        deliveryID: String,
        status: DeliveryStatus,
        errors: [FieldError] = [],
        isRedelivery: Bool = false,
        changes: [RecordChange] = [],
        queuedJobs: Bool = false
    ) {
        self.deliveryID = deliveryID
        self.status = status
        self.errors = errors
        self.isRedelivery = isRedelivery
        self.changes = changes
        self.queuedJobs = queuedJobs
    }
}

/// A record that a command created or changed, at its new version.
public struct RecordChange: Sendable, Hashable {
    public var recordID: String
    public var recordType: RecordType
    public var localID: String
    public var version: Int
}

/// A delivery as the inbox keeps it.
public struct StoredDelivery: Sendable, Hashable {
    public var id: String
    public var source: String
    public var webhookID: String
    public var status: DeliveryStatus
    public var tenantID: String?
    public var eventType: String?
    public var receivedAt: Timestamp
    public var headers: [String: String]
    public var body: [UInt8]
    public var errors: [FieldError]
    public var replays: Int
    public var lastReplayedAt: Timestamp?
}
