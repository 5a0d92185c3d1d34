public import Accounting
public import Persistence

/// `POST /webhooks/billing`, without HTTP: verify → record → normalize → dedup → resolve, durably.
public struct BillingInbox: Sendable {
    public static let source = "billing"
    /// The longest `webhook-id` kept: ids are message ids (`msg_…`), not payloads.
    public static let maximumWebhookIDLength = 256

    /// What happened to a received webhook.
    public struct Receipt: Sendable {
        public var outcome: DeliveryOutcome
        /// The body was not JSON at all (a 400 rather than a 422).
        public var isMalformedJSON: Bool
    }

    private let inbox: Inbox
    private let secrets: WebhookSecretStore
    private let tolerance: Int64
    private let now: @Sendable () -> Timestamp

    /// - Parameter toleranceSeconds: how far `webhook-timestamp` may be from now, either way.
    public init(
        inbox: Inbox,
        secrets: WebhookSecretStore,
        toleranceSeconds: Int64 = StandardWebhooks.defaultTolerance,
        now: @escaping @Sendable () -> Timestamp = Timestamp.now
    ) {
        self.inbox = inbox
        self.secrets = secrets
        self.tolerance = toleranceSeconds
        self.now = now
    }

    /// Verifies and records one delivery.
    /// - Parameter header: a header's value by lower-case name.
    /// - Throws: `IngestionError` when it does not verify (nothing is recorded), or a storage error.
    public func receive(header: (String) -> String?, body: [UInt8]) async throws -> Receipt {
        guard let id = header("webhook-id"), !id.isEmpty else { throw IngestionError.missingHeader("webhook-id") }
        guard id.utf8.count <= Self.maximumWebhookIDLength else {
            throw IngestionError.invalidHeader(
                name: "webhook-id", reason: "is longer than \(Self.maximumWebhookIDLength) bytes")
        }
        guard let timestamp = header("webhook-timestamp") else {
            throw IngestionError.missingHeader("webhook-timestamp")
        }
        guard let signature = header("webhook-signature") else {
            throw IngestionError.missingHeader("webhook-signature")
        }
        let active = try await secrets.secrets(for: Self.source)
        guard !active.isEmpty else { throw IngestionError.noActiveSecret(source: Self.source) }
        let keys = active.compactMap { try? StandardWebhooks.keyBytes(fromSecret: $0.secret) }
        let receivedAt = now()
        try StandardWebhooks.verify(
            id: id,
            timestamp: timestamp,
            signatureHeader: signature,
            body: body,
            keys: keys,
            now: receivedAt.microsecondsSinceEpoch / 1_000_000,
            tolerance: tolerance
        )
        let (normalized, isMalformedJSON) = Self.normalize(body)
        let delivery = IncomingDelivery(
            source: Self.source,
            webhookID: id,
            receivedAt: receivedAt,
            tenantID: normalized.tenantID,
            eventType: normalized.type,
            headers: ["webhook-id": id, "webhook-timestamp": timestamp],
            body: body,
            content: normalized.content
        )
        return Receipt(outcome: try await inbox.record(delivery), isMalformedJSON: isMalformedJSON)
    }

    /// Processes a kept delivery again, as stored or with a corrected body, under today's rules.
    /// - Parameters:
    ///   - tenantID: the caller's tenant scope; a delivery of another tenant is not found.
    ///   - actor: who asked, for the audit log.
    public func replay(
        deliveryID: String,
        correctedBody: [UInt8]?,
        tenantID: String?,
        actor: String
    ) async throws -> DeliveryOutcome {
        guard let stored = try await inbox.database.delivery(id: deliveryID, tenantID: tenantID),
            stored.source == Self.source
        else { throw IngestionError.deliveryNotFound(deliveryID) }
        let (normalized, _) = Self.normalize(correctedBody ?? stored.body)
        if let tenantID, let eventTenant = normalized.tenantID, eventTenant.rawValue != tenantID {
            // A tenant's key cannot move a delivery into another tenant.
            throw IngestionError.deliveryNotFound(deliveryID)
        }
        return try await inbox.database.replayDelivery(
            id: deliveryID,
            tenantID: tenantID,
            content: normalized.content,
            correctedBody: correctedBody,
            deliveryTenantID: normalized.tenantID,
            eventType: normalized.type,
            actor: actor,
            at: now()
        )
    }

    private struct Normalized {
        var type: String?
        var tenantID: Tenant.ID?
        var content: IncomingDelivery.Content
    }

    private static func normalize(_ body: [UInt8]) -> (Normalized, isMalformedJSON: Bool) {
        let document: JSONValue
        do {
            document = try JSONValue(parsing: body)
        } catch {
            let errors = [FieldError(field: "body", message: "is not JSON: \(error)")]
            return (Normalized(content: .rejected(errors)), true)
        }
        let event = BillingEvent(json: document)
        let content: IncomingDelivery.Content =
            event.errors.isEmpty ? .commands(event.commands) : .rejected(event.errors)
        return (Normalized(type: event.type, tenantID: event.tenantID, content: content), false)
    }
}
