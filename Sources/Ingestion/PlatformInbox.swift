public import Accounting
public import Connectors
public import Persistence

/// `POST /webhooks/{source}` of a platform, without HTTP: verify → read → route by company → record, durably.
///
/// The platform's `PlatformWebhooks` (from the connector registry) verifies and reads; the delivery goes through the
/// same group-committed `Inbox` as billing's, so a burst of notifications shares transactions. The raw delivery is
/// kept whatever became of it, for replay.
public struct PlatformInbox: Sendable {
    /// What became of a verified delivery.
    public struct Receipt: Sendable {
        /// `nil` for an empty delivery (`PlatformWebhooks.isEmptyDelivery`): verified, and nothing kept.
        public var outcome: DeliveryOutcome?
        /// How many of its notifications reached an integration.
        public var routed: Int
        /// The body could not be read: the delivery is kept as `rejected` with its errors.
        public var isRejected: Bool
        /// The body was not JSON at all (a 400 rather than a 422).
        public var isMalformed: Bool
    }

    /// Why a delivery was refused before anything was kept.
    public enum Refusal: Error, Hashable, Sendable {
        /// The source has no active secret.
        case noActiveSecret(source: String, secretName: String)
        /// The signature header did not come.
        case missingSignature(header: String)
        /// The signature is not the body's under any active secret.
        case badSignature(header: String)
        /// No platform sends webhooks as this source.
        case unknownSource(String)

        /// A bounded label for logs and metrics.
        public var code: String {
            switch self {
            case .noActiveSecret: "no_active_secret"
            case .missingSignature: "missing_signature"
            case .badSignature: "bad_signature"
            case .unknownSource: "unknown_source"
            }
        }
    }

    private let inbox: Inbox
    private let secrets: WebhookSecretStore
    private let registry: ConnectorRegistry
    private let now: @Sendable () -> Timestamp

    public init(
        inbox: Inbox, secrets: WebhookSecretStore, registry: ConnectorRegistry,
        now: @escaping @Sendable () -> Timestamp = Timestamp.now
    ) {
        self.inbox = inbox
        self.secrets = secrets
        self.registry = registry
        self.now = now
    }

    /// Whether `source` is a platform's webhook source this inbox takes.
    public func takes(source: String) -> Bool { registry.webhooks(source: source) != nil }

    /// Whether `source`'s platform wants answers without bodies (`PlatformWebhooks.answersWithEmptyBodies`).
    public func answersWithEmptyBodies(source: String) -> Bool {
        registry.webhooks(source: source)?.answersWithEmptyBodies ?? false
    }

    /// Verifies, reads, routes and records one delivery of `source`.
    /// - Parameter header: a header's value by lower-case name.
    /// - Throws: `Refusal` when it does not verify or no platform sends as `source` (nothing is recorded), or a
    ///   storage error.
    public func receive(source: String, header: (String) -> String?, body: [UInt8]) async throws -> Receipt {
        guard let webhooks = registry.webhooks(source: source) else { throw Refusal.unknownSource(source) }
        let active = try await secrets.secrets(for: source).map(\.secret)
        guard !active.isEmpty else {
            throw Refusal.noActiveSecret(source: source, secretName: webhooks.secretName)
        }
        switch webhooks.verify(header: header, body: body, secrets: active) {
        case .valid: break
        case .missingSignature: throw Refusal.missingSignature(header: webhooks.signatureHeader)
        case .badSignature: throw Refusal.badSignature(header: webhooks.signatureHeader)
        }
        // Xero's intent-to-receive: a verified check with no events is answered, not kept (API.md "Platforms").
        if webhooks.isEmptyDelivery(body: body) {
            return Receipt(outcome: nil, routed: 0, isRejected: false, isMalformed: false)
        }
        let receivedAt = now()
        let (content, routing, isMalformed) = try await Self.read(body, webhooks: webhooks, database: inbox.database)
        let delivery = IncomingDelivery(
            source: source, webhookID: webhooks.webhookID(header: header, body: body), receivedAt: receivedAt,
            tenantID: routing?.tenantID.map(Tenant.ID.init), eventType: routing == nil ? nil : webhooks.eventType,
            headers: webhooks.keptHeaders(header: header), body: body, content: content)
        return Receipt(
            outcome: try await inbox.record(delivery), routed: routing?.notifications.count ?? 0,
            isRejected: routing == nil, isMalformed: isMalformed)
    }

    /// Replays a kept platform delivery as it came, through the same reading and routing as `receive`: once its
    /// company is connected (`unroutable`) or the reader fixed (`rejected`). Its body is what the platform signed, so
    /// it is never corrected. A tenant's key may replay only what routes to its own tenant.
    /// - Throws: `IngestionError.deliveryNotFound` for a delivery that is not a platform's, or that routes to
    ///   another tenant than `tenantID`.
    public func replay(
        _ stored: StoredDelivery, tenantID: String?, actor: String
    ) async throws -> DeliveryOutcome {
        guard let webhooks = registry.webhooks(source: stored.source) else {
            throw IngestionError.deliveryNotFound(stored.id)
        }
        let (content, routing, _) = try await Self.read(stored.body, webhooks: webhooks, database: inbox.database)
        guard let routing, case .notifications(let notifications, let unroutable) = content else {
            guard case .rejected(let errors) = content else { throw IngestionError.deliveryNotFound(stored.id) }
            return try await inbox.database.replayPlatformDelivery(
                id: stored.id, tenantID: tenantID, deliveryTenantID: nil, notifications: [], unroutable: [],
                rejection: errors, actor: actor, at: now())
        }
        if let tenantID, routing.tenants.contains(where: { $0 != tenantID }) {
            throw IngestionError.deliveryNotFound(stored.id)
        }
        return try await inbox.database.replayPlatformDelivery(
            id: stored.id, tenantID: tenantID, deliveryTenantID: routing.tenantID, notifications: notifications,
            unroutable: unroutable, rejection: nil, actor: actor, at: now())
    }

    /// Notifications routed by their company, each to the one active integration connected to that company, or
    /// unroutable.
    struct Routing {
        var notifications: [LedgerNotification] = []
        var unroutable: [FieldError] = []
        /// The integrations' tenants.
        var tenants: Set<String> = []

        /// The delivery's tenant: the one tenant it reached, if just one.
        var tenantID: String? { tenants.count == 1 ? tenants.first : nil }
    }

    /// The body read and routed: what to keep, the routing (`nil` when the body could not be read), and whether it
    /// was not JSON at all.
    private static func read(
        _ body: [UInt8], webhooks: any PlatformWebhooks, database: AppDatabase
    ) async throws -> (IncomingDelivery.Content, Routing?, isMalformed: Bool) {
        let notifications: [PlatformNotification]
        do {
            notifications = try webhooks.notifications(body: body)
        } catch {
            if case .malformed = error { return (.rejected(error.errors), nil, true) }
            return (.rejected(error.errors), nil, false)
        }
        let routing = try await route(notifications, webhooks: webhooks, database: database)
        return (.notifications(routing.notifications, unroutable: routing.unroutable), routing, false)
    }

    private static func route(
        _ notifications: [PlatformNotification], webhooks: any PlatformWebhooks, database: AppDatabase
    ) async throws -> Routing {
        var routing = Routing()
        var integrations: [String: Integration?] = [:]
        for notification in notifications {
            let company = notification.companyID
            if integrations[company] == nil {
                integrations[company] = .some(
                    try await database.integration(platform: webhooks.platform, remoteTenantID: company))
            }
            guard let integration = integrations[company] ?? nil else {
                let error = FieldError(
                    field: webhooks.companyField,
                    message: "no integration is connected to \(webhooks.companyName) \(company)")
                if !routing.unroutable.contains(error) { routing.unroutable.append(error) }
                continue
            }
            routing.tenants.insert(integration.tenantID)
            routing.notifications.append(
                LedgerNotification(
                    integrationID: integration.id, recordType: notification.recordType, remoteID: notification.remoteID,
                    operation: notification.operation, occurredAt: notification.occurredAt,
                    idempotencyKey: notification.idempotencyKey))
        }
        return routing
    }
}
