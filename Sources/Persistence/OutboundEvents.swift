public import Accounting
import Foundation
import GRDB

/// Ledgerwire's own events, sent to webhook subscriptions (API.md "Outbound events").
public enum EventType: String, Sendable, Hashable, CaseIterable {
    case paymentRecorded = "ledger.payment.recorded"
    case invoiceChanged = "ledger.invoice.changed"
    case creditNoteCreated = "ledger.credit_note.created"
    case syncFailed = "sync.failed"
    case syncNeedsMapping = "sync.needs_mapping"
    case conflictDetected = "conflict.detected"
    /// A person resolved a held conflict: the values billing should now hold.
    case conflictResolved = "conflict.resolved"
    case integrationDisconnected = "integration.disconnected"
    /// A subscription whose receiver kept failing was disabled (sent to the other subscriptions).
    case subscriptionDisabled = "subscription.disabled"
}

/// A receiver of Ledgerwire's events. Its secret signs every delivery (Standard Webhooks) and is shown once.
public struct WebhookSubscription: Sendable, Hashable {
    public enum Status: String, Sendable, Hashable {
        case active, disabled
    }

    public var id: String
    /// `nil`: every tenant's events (an unscoped admin's subscription).
    public var tenantID: String?
    public var url: String
    /// Event type names; `*` is every type.
    public var eventTypes: [String]
    public var description: String?
    public var status: Status
    public var disabledReason: String?
    /// The first failed attempt since the last delivered one.
    public var failingSince: Timestamp?
    public var createdAt: Timestamp
}

/// One attempt to deliver one event to one subscription.
public struct EventDeliveryAttempt: Sendable, Hashable {
    public var eventID: String
    public var eventType: String
    public var attempt: Int
    public var attemptedAt: Timestamp
    public var durationMilliseconds: Int
    /// The receiver's HTTP status, when it answered.
    public var responseStatus: Int?
    public var error: String?
    /// Whether the attempt delivered the event (a 2xx answer).
    public var delivered: Bool { responseStatus.map { (200..<300).contains($0) } ?? false }
}

/// An event due to be sent to one subscription, claimed by one dispatcher until `leaseExpiresAt`.
public struct PendingEventDelivery: Sendable {
    public var seq: Int64
    public var subscriptionID: String
    public var url: String
    public var secret: String
    public var eventID: String
    public var payload: String
    /// Attempts made before this one.
    public var attempts: Int
}

extension AppDatabase {
    /// Records an event in the transaction that caused it, with a delivery for every active subscription that
    /// wants its type (and sees its tenant). Sent afterwards by the dispatcher, so an event is never lost to a
    /// crash between the fact and the send.
    static func emit(
        _ type: EventType,
        tenantID: String?,
        integrationID: String?,
        data: [String: JSONValue],
        at now: Timestamp,
        db: Database,
        except excludedSubscription: String? = nil
    ) throws {
        let id = Identifiers.make("evt")
        var body: [String: JSONValue] = [
            "id": .string(id), "type": .string(type.rawValue), "timestamp": .string(now.rfc3339),
            "data": .object(data),
        ]
        if let tenantID { body["tenant_id"] = .string(tenantID) }
        if let integrationID { body["integration_id"] = .string(integrationID) }
        try db.execute(
            sql: """
                INSERT INTO events (id, type, tenant_id, integration_id, payload, created_at)
                VALUES (?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                id, type.rawValue, tenantID, integrationID, JSONValue.object(body).canonicalString, now.rfc3339,
            ]
        )
        try db.execute(
            sql: """
                INSERT INTO event_deliveries (subscription_id, event_id, status, next_attempt_at, created_at,
                    updated_at)
                SELECT s.id, :event, 'pending', :due, :now, :now FROM webhook_subscriptions s
                WHERE s.status = 'active' AND (s.tenant_id IS NULL OR s.tenant_id = :tenant)
                    AND s.id IS NOT :excluded
                    AND EXISTS (SELECT 1 FROM json_each(s.event_types) WHERE value IN (:type, '*'))
                ORDER BY s.seq
                """,
            arguments: [
                "event": id, "due": now.microsecondsSinceEpoch, "now": now.rfc3339, "tenant": tenantID,
                "excluded": excludedSubscription, "type": type.rawValue,
            ]
        )
    }

    /// Stores a subscription with its secret sealed under the master key.
    public func createWebhookSubscription(
        tenantID: String?,
        url: String,
        eventTypes: [String],
        description: String?,
        secret: String,
        box: SecretBox,
        actor: String,
        at now: Timestamp = .now()
    ) async throws -> WebhookSubscription {
        let subscription = WebhookSubscription(
            id: Identifiers.make("sub"), tenantID: tenantID, url: url, eventTypes: eventTypes,
            description: description, status: .active, disabledReason: nil, failingSince: nil, createdAt: now)
        let sealed = try box.seal(Data(secret.utf8), context: "webhook_subscription:\(subscription.id)")
        let types = JSONValue.array(eventTypes.map(JSONValue.string)).canonicalString
        try await writer.write { db in
            try db.execute(
                sql: """
                    INSERT INTO webhook_subscriptions (id, tenant_id, url, event_types, description, sealed_secret,
                        status, created_at, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, 'active', ?, ?)
                    """,
                arguments: [
                    subscription.id, tenantID, url, types, description, sealed, now.rfc3339, now.rfc3339,
                ]
            )
            var audit = try AuditLog(db, key: auditKey)
            try audit.append(
                db, at: now, tenantID: tenantID, recordID: nil, actor: actor, action: "subscription.created",
                entityType: "webhook_subscription", entityID: subscription.id, oldValue: nil,
                newValue: JSONValue.object([
                    "url": .string(url), "event_types": .array(eventTypes.map(JSONValue.string)),
                ])
                .canonicalString)
        }
        return subscription
    }

    /// Subscriptions, oldest first; a tenant's own only when `tenantID` is given.
    public func webhookSubscriptions(tenantID: String?, page: PageRequest) async throws -> Page<WebhookSubscription> {
        try await writer.read { db in
            var filter = SQLFilter()
            filter.add("tenant_id = ?", tenantID)
            return try Self.rowPage(
                of: "webhook_subscriptions", filter, page, db: db, item: WebhookSubscription.init(row:))
        }
    }

    public func webhookSubscription(id: String, tenantID: String?) async throws -> WebhookSubscription? {
        try await writer.read { db in try Self.fetchWebhookSubscription(id: id, tenantID: tenantID, db: db) }
    }

    static func fetchWebhookSubscription(id: String, tenantID: String?, db: Database) throws -> WebhookSubscription? {
        var filter = SQLFilter()
        filter.add("id = ?", id)
        filter.add("tenant_id = ?", tenantID)
        return try Row.fetchOne(
            db, sql: "SELECT * FROM webhook_subscriptions \(filter.whereClause)", arguments: filter.arguments
        ).map(WebhookSubscription.init(row:))
    }

    /// Deletes a subscription and its pending deliveries; `false` when there is none (of `tenantID`).
    public func deleteWebhookSubscription(
        id: String, tenantID: String?, actor: String, at now: Timestamp = .now()
    ) async throws -> Bool {
        try await writer.write { db in
            guard let subscription = try Self.fetchWebhookSubscription(id: id, tenantID: tenantID, db: db) else {
                return false
            }
            try db.execute(sql: "DELETE FROM webhook_subscriptions WHERE id = ?", arguments: [id])
            var audit = try AuditLog(db, key: auditKey)
            try audit.append(
                db, at: now, tenantID: subscription.tenantID, recordID: nil, actor: actor,
                action: "subscription.deleted", entityType: "webhook_subscription", entityID: id,
                oldValue: JSONValue.object(["url": .string(subscription.url)]).canonicalString, newValue: nil)
            return true
        }
    }

    /// Every attempt to deliver to a subscription, oldest first.
    public func webhookSubscriptionAttempts(subscriptionID: String, page: PageRequest) async throws -> Page<
        EventDeliveryAttempt
    > {
        try await writer.read { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT a.seq, a.event_id, e.type, a.attempt, a.attempted_at, a.duration_ms, a.response_status,
                        a.error
                    FROM event_delivery_attempts a JOIN events e ON e.id = a.event_id
                    WHERE a.subscription_id = ? AND a.seq > ? ORDER BY a.seq LIMIT ?
                    """,
                arguments: [subscriptionID, page.after ?? 0, page.limit + 1]
            )
            return Page(rows: rows, limit: page.limit, cursor: { $0["seq"] }) { row in
                EventDeliveryAttempt(
                    eventID: row["event_id"],
                    eventType: row["type"],
                    attempt: row["attempt"],
                    attemptedAt: Timestamp(rfc3339: row["attempted_at"]) ?? Timestamp(microsecondsSinceEpoch: 0),
                    durationMilliseconds: row["duration_ms"],
                    responseStatus: row["response_status"],
                    error: row["error"]
                )
            }
        }
    }

    /// Events of a tenant (all when `nil`), oldest first: what was, or will be, sent.
    public func events(tenantID: String?, type: String? = nil, page: PageRequest) async throws -> Page<JSONValue> {
        try await writer.read { db in
            var filter = SQLFilter()
            filter.add("tenant_id = ?", tenantID)
            filter.add("type = ?", type)
            return try Self.rowPage(of: "events", filter, page, db: db) { row in
                try JSONValue(parsing: Array((row["payload"] as String).utf8))
            }
        }
    }

    /// Claims the deliveries due at `now` (pending, or sending under an expired lease: the dispatcher died) of
    /// active subscriptions, oldest first, until `now + lease`; at most `perSubscription` of one subscription in flight
    /// (counting those already sending).
    public func claimEventDeliveries(
        now: Timestamp, lease: Duration, limit: Int, perSubscription: Int = .max, box: SecretBox
    ) async throws -> [PendingEventDelivery] {
        guard limit > 0 else { return [] }
        return try await writer.write { db in
            let candidates = try Row.fetchAll(
                db,
                sql: """
                    SELECT d.seq, d.subscription_id, d.event_id, d.attempts, s.url, s.sealed_secret, e.payload
                    FROM event_deliveries d
                    JOIN webhook_subscriptions s ON s.id = d.subscription_id
                    JOIN events e ON e.id = d.event_id
                    WHERE ((d.status = 'pending' AND d.next_attempt_at <= :now)
                            OR (d.status = 'sending' AND d.lease_expires_at <= :now))
                        AND s.status = 'active'
                    ORDER BY d.next_attempt_at, d.seq
                    LIMIT :scan
                    """,
                arguments: [
                    "now": now.microsecondsSinceEpoch,
                    "scan": perSubscription == .max ? limit : limit.multipliedReportingOverflow(by: 4).partialValue,
                ]
            )
            // A subscription whose receiver is slow holds at most `perSubscription` attempts in flight, so it cannot
            // take every slot from the others.
            var sending: [String: Int] = [:]
            if perSubscription != .max {
                for row in try Row.fetchAll(
                    db,
                    sql: """
                        SELECT subscription_id, COUNT(*) FROM event_deliveries
                        WHERE status = 'sending' AND lease_expires_at > ? GROUP BY subscription_id
                        """,
                    arguments: [now.microsecondsSinceEpoch])
                {
                    sending[row[0]] = row[1]
                }
            }
            var rows: [Row] = []
            for row in candidates where rows.count < limit {
                let subscriptionID: String = row["subscription_id"]
                guard sending[subscriptionID, default: 0] < perSubscription else { continue }
                sending[subscriptionID, default: 0] += 1
                rows.append(row)
            }
            return try rows.map { row in
                let seq: Int64 = row["seq"]
                let subscriptionID: String = row["subscription_id"]
                try db.execute(
                    sql:
                        "UPDATE event_deliveries SET status = 'sending', lease_expires_at = ?, updated_at = ? WHERE seq = ?",
                    arguments: [now.microsecondsSinceEpoch + lease.wholeMicroseconds, now.rfc3339, seq]
                )
                let secret = try box.open(row["sealed_secret"], context: "webhook_subscription:\(subscriptionID)")
                return PendingEventDelivery(
                    seq: seq, subscriptionID: subscriptionID, url: row["url"],
                    secret: String(decoding: secret, as: UTF8.self), eventID: row["event_id"],
                    payload: row["payload"], attempts: row["attempts"])
            }
        }
    }

    /// How a delivery attempt ended: delivered, or failed with the time of the next attempt (`nil`: give up).
    public struct EventAttemptResult: Sendable {
        public var attemptedAt: Timestamp
        public var duration: Duration
        public var responseStatus: Int?
        public var error: String?
        public var nextAttemptAt: Timestamp?

        public init(
            attemptedAt: Timestamp, duration: Duration, responseStatus: Int?, error: String?,
            nextAttemptAt: Timestamp?
        ) {
            self.attemptedAt = attemptedAt
            self.duration = duration
            self.responseStatus = responseStatus
            self.error = error
            self.nextAttemptAt = nextAttemptAt
        }

        var delivered: Bool { responseStatus.map { (200..<300).contains($0) } ?? false }
    }

    /// Records an attempt and settles the delivery. After a failed attempt, `decide` (the engine's
    /// `SubscriptionDisabling`) says whether the subscription is disabled, which is audited and itself sent as
    /// `subscription.disabled` to the other subscriptions.
    /// - Returns: whether the subscription was disabled by this attempt.
    @discardableResult
    public func recordEventAttempt(
        _ delivery: PendingEventDelivery,
        result: EventAttemptResult,
        decide: @escaping @Sendable (SubscriptionFailureFacts) -> SubscriptionFailureDecision
    ) async throws -> Bool {
        try await writer.write { db in
            let now = result.attemptedAt
            try db.execute(
                sql: """
                    INSERT INTO event_delivery_attempts (delivery_seq, subscription_id, event_id, attempt, attempted_at,
                        duration_ms, response_status, error)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    delivery.seq, delivery.subscriptionID, delivery.eventID, delivery.attempts + 1, now.rfc3339,
                    result.duration.wholeMicroseconds / 1000, result.responseStatus, result.error,
                ]
            )
            let status = result.delivered ? "delivered" : result.nextAttemptAt == nil ? "failed" : "pending"
            try db.execute(
                sql: """
                    UPDATE event_deliveries SET status = ?, attempts = attempts + 1,
                        next_attempt_at = COALESCE(?, next_attempt_at), lease_expires_at = NULL, updated_at = ?
                    WHERE seq = ?
                    """,
                arguments: [status, result.nextAttemptAt?.microsecondsSinceEpoch, now.rfc3339, delivery.seq]
            )
            if result.delivered {
                try db.execute(
                    sql:
                        "UPDATE webhook_subscriptions SET failing_since = NULL WHERE id = ? AND failing_since IS NOT NULL",
                    arguments: [delivery.subscriptionID])
                return false
            }
            try db.execute(
                sql: "UPDATE webhook_subscriptions SET failing_since = ? WHERE id = ? AND failing_since IS NULL",
                arguments: [now.microsecondsSinceEpoch, delivery.subscriptionID])
            guard
                let subscription = try Row.fetchOne(
                    db, sql: "SELECT * FROM webhook_subscriptions WHERE id = ?", arguments: [delivery.subscriptionID]
                ).map(WebhookSubscription.init(row:)),
                let failingSince = subscription.failingSince,
                case .disable(let reason) = decide(
                    SubscriptionFailureFacts(
                        status: subscription.status, failingSince: failingSince, attemptedAt: now,
                        responseStatus: result.responseStatus, error: result.error))
            else { return false }
            try db.execute(
                sql:
                    "UPDATE webhook_subscriptions SET status = 'disabled', disabled_reason = ?, updated_at = ? WHERE id = ?",
                arguments: [reason, now.rfc3339, subscription.id])
            var audit = try AuditLog(db, key: auditKey)
            try audit.append(
                db, at: now, tenantID: subscription.tenantID, recordID: nil, actor: "dispatcher",
                action: "subscription.disabled", entityType: "webhook_subscription", entityID: subscription.id,
                oldValue: JSONValue.object(["status": "active"]).canonicalString,
                newValue: JSONValue.object(["status": "disabled", "reason": .string(reason)]).canonicalString)
            try Self.emit(
                .subscriptionDisabled, tenantID: subscription.tenantID, integrationID: nil,
                data: [
                    "subscription_id": .string(subscription.id), "url": .string(subscription.url),
                    "failing_since": .string(failingSince.rfc3339), "reason": .string(reason),
                ],
                at: now, db: db, except: subscription.id)
            return true
        }
    }

    /// Turns a disabled subscription back on; its undelivered events are sent again from now.
    public func enableWebhookSubscription(
        id: String, tenantID: String?, actor: String, at now: Timestamp = .now()
    ) async throws -> WebhookSubscription? {
        try await writer.write { db in
            guard let subscription = try Self.fetchWebhookSubscription(id: id, tenantID: tenantID, db: db) else {
                return nil
            }
            guard subscription.status == .disabled else { return subscription }
            try db.execute(
                sql: """
                    UPDATE webhook_subscriptions SET status = 'active', disabled_reason = NULL, failing_since = NULL,
                        updated_at = ?
                    WHERE id = ?
                    """,
                arguments: [now.rfc3339, id])
            try db.execute(
                sql: """
                    UPDATE event_deliveries SET next_attempt_at = ?, updated_at = ?
                    WHERE subscription_id = ? AND status = 'pending'
                    """,
                arguments: [now.microsecondsSinceEpoch, now.rfc3339, id])
            var audit = try AuditLog(db, key: auditKey)
            try audit.append(
                db, at: now, tenantID: subscription.tenantID, recordID: nil, actor: actor,
                action: "subscription.enabled", entityType: "webhook_subscription", entityID: id,
                oldValue: JSONValue.object(["status": "disabled"]).canonicalString,
                newValue: JSONValue.object(["status": "active"]).canonicalString)
            return try Row.fetchOne(db, sql: "SELECT * FROM webhook_subscriptions WHERE id = ?", arguments: [id])
                .map(WebhookSubscription.init(row:))
        }
    }
}

extension WebhookSubscription {
    init(row: Row) {
        let types = (try? JSONValue(parsing: Array((row["event_types"] as String).utf8)))?.arrayValue ?? []
        self.init(
            id: row["id"],
            tenantID: row["tenant_id"],
            url: row["url"],
            eventTypes: types.compactMap(\.stringValue),
            description: row["description"],
            status: Status(rawValue: row["status"]) ?? .disabled,
            disabledReason: row["disabled_reason"],
            failingSince: (row["failing_since"] as Int64?).map(Timestamp.init(microsecondsSinceEpoch:)),
            createdAt: Timestamp(rfc3339: row["created_at"]) ?? Timestamp(microsecondsSinceEpoch: 0)
        )
    }
}
