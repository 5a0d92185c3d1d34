public import Accounting
import Foundation
import GRDB

/// A platform's word that one of its records changed, routed to an integration: the record is fetched by a
/// worker and handled like any change heard from the books.
public struct LedgerNotification: Sendable, Hashable {
    public var id: String
    public var integrationID: String
    public var recordType: RecordType
    public var remoteID: String
    /// `create`, `update`, `delete`, `void`, …
    public var operation: String
    public var occurredAt: Timestamp
    public var idempotencyKey: String
    public var attempts: Int

    public init(
        integrationID: String, recordType: RecordType, remoteID: String, operation: String, occurredAt: Timestamp,
        idempotencyKey: String
    ) {
        self.id = Identifiers.make("ntf")
        self.integrationID = integrationID
        self.recordType = recordType
        self.remoteID = remoteID
        self.operation = operation
        self.occurredAt = occurredAt
        self.idempotencyKey = idempotencyKey
        self.attempts = 0
    }

    /// `nil` for a row of a record type this build does not know: it is never read as another type's.
    init?(row: Row) {
        guard let recordType = RecordType(rawValue: row["record_type"]) else { return nil }
        id = row["id"]
        integrationID = row["integration_id"]
        self.recordType = recordType
        remoteID = row["remote_id"]
        operation = row["operation"]
        occurredAt = Timestamp(microsecondsSinceEpoch: row["occurred_at"])
        idempotencyKey = row["idempotency_key"]
        attempts = row["attempts"]
    }
}

extension AppDatabase {
    /// Keeps a platform's verified webhook delivery and the notifications routed from it, in one transaction: the
    /// inbox's write (`Inbox` group-commits the same), for a caller without an inbox.
    ///
    /// The same body again is the same delivery (`isRedelivery`); a notification already known by its idempotency
    /// key is not kept twice, and a delivery that brought nothing new is a `duplicate`. With nothing routed (an
    /// unknown company), the delivery is kept as `unroutable` with `unroutable` as its errors.
    public func recordPlatformDelivery(
        source: String, webhookID: String, receivedAt: Timestamp, tenantID: String?, eventType: String?,
        headers: [String: String], body: [UInt8], notifications: [LedgerNotification], unroutable: [FieldError]
    ) async throws -> DeliveryOutcome {
        try await record([
            IncomingDelivery(
                source: source, webhookID: webhookID, receivedAt: receivedAt, tenantID: tenantID.map(Tenant.ID.init),
                eventType: eventType, headers: headers, body: body,
                content: .notifications(notifications, unroutable: unroutable))
        ])[0].get()
    }

    /// Keeps `notifications` for the workers, each once (by its idempotency key); returns how many were new.
    static func keep(
        _ notifications: [LedgerNotification], deliveryID: String, at receivedAt: Timestamp, db: Database
    ) throws -> Int {
        var added = 0
        for notification in notifications {
            try db.cachedStatement(
                sql: """
                    INSERT INTO ledger_notifications (id, delivery_id, integration_id, idempotency_key, record_type,
                        remote_id, operation, occurred_at, status, next_attempt_at, created_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?)
                    ON CONFLICT (idempotency_key) DO NOTHING
                    """
            ).execute(
                arguments: [
                    notification.id, deliveryID, notification.integrationID, notification.idempotencyKey,
                    notification.recordType.rawValue, notification.remoteID, notification.operation,
                    notification.occurredAt.microsecondsSinceEpoch, receivedAt.microsecondsSinceEpoch,
                    receivedAt.rfc3339,
                ])
            added += db.changesCount
        }
        return added
    }

    /// Replays a kept platform delivery as it came (`unroutable` once its company is connected, `rejected` once the
    /// reader is fixed): `notifications` and `unroutable` are its body read and routed again by the caller, exactly
    /// as a new delivery's; a notification kept before is not kept twice. Audited as `delivery.replayed`.
    /// - Parameter rejection: the errors when the body still cannot be read; the delivery stays `rejected`.
    public func replayPlatformDelivery(
        id: String, tenantID: String?, deliveryTenantID: String?, notifications: [LedgerNotification],
        unroutable: [FieldError], rejection: [FieldError]?, actor: String, at now: Timestamp
    ) async throws -> DeliveryOutcome {
        try await writer.write { db in
            guard let stored = try Self.fetchDelivery(id: id, tenantID: tenantID, db: db) else {
                throw PersistenceError.notFound(entity: "delivery", id: id)
            }
            // What was taken in already did its work; only what could not be is worth another try.
            guard stored.status == .unroutable || stored.status == .rejected else {
                throw PersistenceError.conflict(
                    "delivery \(id) is \(stored.status.rawValue); only an unroutable or rejected platform delivery "
                        + "is replayed")
            }
            let added = try Self.keep(notifications, deliveryID: id, at: now, db: db)
            let status: DeliveryStatus =
                rejection != nil
                ? .rejected : notifications.isEmpty ? .unroutable : added == 0 ? .duplicate : .accepted
            let errors = rejection ?? unroutable
            try db.execute(
                sql: """
                    UPDATE deliveries SET status = ?, errors = ?, tenant_id = ?, replays = replays + 1,
                        last_replayed_at = ?
                    WHERE id = ?
                    """,
                arguments: [
                    status.rawValue, FieldErrorCoding.encode(errors), deliveryTenantID ?? stored.tenantID,
                    now.rfc3339, id,
                ])
            var audit = try AuditLog(db, key: auditKey)
            try audit.append(
                db, at: now, tenantID: deliveryTenantID ?? stored.tenantID, recordID: nil, actor: actor,
                action: "delivery.replayed", entityType: "delivery", entityID: id,
                oldValue: Self.replayAudit(status: stored.status, body: nil),
                newValue: Self.replayAudit(status: status, body: nil))
            return DeliveryOutcome(deliveryID: id, status: status, errors: errors)
        }
    }

    /// Notifications due for fetching, oldest change first, of connected integrations (but those `excluding` names:
    /// their fetches are already in flight). One of a record type this build does not know (a newer version heard
    /// it) waits for a build that does.
    public func dueLedgerNotifications(
        limit: Int, at now: Timestamp, excluding integrationIDs: Set<String> = []
    ) async throws -> [LedgerNotification] {
        try await writer.read { db in
            var arguments: StatementArguments = [now.microsecondsSinceEpoch]
            var exclusion = ""
            if !integrationIDs.isEmpty {
                exclusion =
                    "AND n.integration_id NOT IN (\(Array(repeating: "?", count: integrationIDs.count).joined(separator: ", ")))"
                for id in integrationIDs.sorted() { arguments += [id] }
            }
            arguments += [limit]
            return try Row.fetchAll(
                db,
                sql: """
                    SELECT n.* FROM ledger_notifications n
                    WHERE n.status = 'pending' AND n.next_attempt_at <= ?
                        AND n.integration_id IN (SELECT id FROM integration_configs WHERE status = 'connected')
                        AND n.record_type IN (\(Self.knownRecordTypes))
                        \(exclusion)
                    ORDER BY n.occurred_at, n.rowid LIMIT ?
                    """,
                arguments: arguments
            ).compactMap(LedgerNotification.init(row:))
        }
    }

    /// The record types this build knows, as an SQL list.
    private static let knownRecordTypes = RecordType.allCases.map { "'\($0.rawValue)'" }.joined(separator: ", ")

    /// The notifications are fetched: what the platform holds now is among the changes heard.
    public func markLedgerNotificationsFetched(ids: [String]) async throws {
        guard !ids.isEmpty else { return }
        try await writer.write { db in
            for id in ids {
                try db.execute(
                    sql: "UPDATE ledger_notifications SET status = 'fetched', last_error = NULL WHERE id = ?",
                    arguments: [id])
            }
        }
    }

    /// A fetch failed: tried again at `retryAt`.
    public func deferLedgerNotification(id: String, error: String, retryAt: Timestamp) async throws {
        try await writer.write { db in
            try db.execute(
                sql: """
                    UPDATE ledger_notifications SET attempts = attempts + 1, last_error = ?, next_attempt_at = ?
                    WHERE id = ?
                    """,
                arguments: [error, retryAt.microsecondsSinceEpoch, id])
        }
    }
}
