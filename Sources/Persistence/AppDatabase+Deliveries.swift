public import Accounting
import Crypto
import Foundation
import GRDB

extension AppDatabase {
    /// The inbox, newest last (or first, for the dashboard), filtered by status, source and tenant. List items carry
    /// no body.
    public func deliveries(
        status: DeliveryStatus? = nil,
        source: String? = nil,
        tenantID: String? = nil,
        newestFirst: Bool = false,
        page: PageRequest
    ) async throws -> Page<StoredDelivery> {
        try await writer.read { db in
            let (sql, arguments) = Self.deliveriesStatement(
                status: status, source: source, tenantID: tenantID, newestFirst: newestFirst, after: page.after,
                limit: page.limit)
            let rows = try Row.fetchAll(db, sql: sql, arguments: arguments)
            return Page(rows: rows, limit: page.limit, cursor: { $0["rowid"] }, item: StoredDelivery.init(row:))
        }
    }

    /// A page of the inbox: `limit + 1` deliveries after `after` in arrival order (newest first when asked).
    static func deliveriesStatement(
        status: DeliveryStatus?, source: String?, tenantID: String?, newestFirst: Bool, after: Int64?, limit: Int
    ) -> (String, StatementArguments) {
        var filter = SQLFilter()
        filter.add("status = ?", status?.rawValue)
        if let status, status != .accepted {
            // The term of the partial index `deliveries_needing_attention`, so the planner can use it.
            filter.add("status <> 'accepted'")
        }
        // With a status that needs attention, its partial index is the narrower one: `+` keeps the planner off
        // `deliveries_source` (a source's every delivery, to find its few rejected ones).
        filter.add(status.map { $0 != .accepted } == true ? "+source = ?" : "source = ?", source)
        filter.add("tenant_id = ?", tenantID)
        filter.add(newestFirst ? "rowid < ?" : "rowid > ?", after)
        return (
            """
            SELECT rowid, id, source, webhook_id, status, tenant_id, event_type, received_at, headers, X'' AS body,
                errors, replays, last_replayed_at
            FROM deliveries \(filter.whereClause) ORDER BY rowid \(newestFirst ? "DESC" : "") LIMIT ?
            """,
            filter.arguments + [limit + 1]
        )
    }

    /// One delivery with its raw body; `nil` when absent or of another tenant than `tenantID`.
    public func delivery(id: String, tenantID: String? = nil) async throws -> StoredDelivery? {
        try await writer.read { db in try Self.fetchDelivery(id: id, tenantID: tenantID, db: db) }
    }

    static func fetchDelivery(id: String, tenantID: String?, db: Database) throws -> StoredDelivery? {
        var filter = SQLFilter()
        filter.add("id = ?", id)
        filter.add("tenant_id = ?", tenantID)
        return try Row.fetchOne(db, sql: "SELECT * FROM deliveries \(filter.whereClause)", arguments: filter.arguments)
            .map(StoredDelivery.init(row:))
    }

    /// Processes a kept delivery again — as it is, or with a corrected body — and records the replay.
    ///
    /// Only a `rejected` delivery's body may be corrected (anything else is a ``PersistenceError/conflict(_:)``):
    /// the body it replaces is kept in `delivery_bodies` with who replaced it, and the audit entry names both
    /// bodies' SHA-256. Commands that were applied before are duplicates now, so replaying an accepted delivery
    /// changes nothing.
    /// - Parameters:
    ///   - content: the delivery's body normalized again, by the caller, with today's rules.
    ///   - correctedBody: the body that `content` came from, when it is not the stored one.
    public func replayDelivery(
        id: String,
        tenantID: String?,
        content: IncomingDelivery.Content,
        correctedBody: [UInt8]?,
        deliveryTenantID: Tenant.ID?,
        eventType: String?,
        actor: String,
        at now: Timestamp
    ) async throws -> DeliveryOutcome {
        try await writer.write { db in
            guard let stored = try Self.fetchDelivery(id: id, tenantID: tenantID, db: db) else {
                throw PersistenceError.notFound(entity: "delivery", id: id)
            }
            if correctedBody != nil, stored.status != .rejected {
                throw PersistenceError.conflict(
                    "only a rejected delivery's body may be corrected; this one is \(stored.status.rawValue): replay it as it is"
                )
            }
            var state = try WriteState(db, auditKey: auditKey, pushed: pushedRecordTypes)
            var status: DeliveryStatus
            var errors: [FieldError] = []
            var changes: [RecordChange] = []
            switch content {
            case .commands(let commands):
                (status, changes) = try Self.apply(
                    commands.map(PreparedCommand.init),
                    deliveryID: id,
                    at: Moment(now),
                    actor: actor,
                    db: db,
                    state: &state
                )
            case .rejected(let fieldErrors):
                status = .rejected
                errors = fieldErrors
            case .unroutable(let reason):
                status = .unroutable
                errors = [FieldError(field: "", message: reason)]
            case .notifications(let notifications, let unroutable):
                let added = try Self.keep(notifications, deliveryID: id, at: now, db: db)
                status = notifications.isEmpty ? .unroutable : added == 0 ? .duplicate : .accepted
                errors = unroutable
            }
            if let correctedBody {
                try Self.keepReplacedBody(deliveryID: id, actor: actor, at: now, db: db)
                try db.execute(
                    sql: "UPDATE deliveries SET original_body = COALESCE(original_body, body), body = ? WHERE id = ?",
                    arguments: [Data(correctedBody), id]
                )
            }
            try db.execute(
                sql: """
                    UPDATE deliveries SET status = ?, errors = ?, tenant_id = ?, event_type = ?, replays = replays + 1,
                        last_replayed_at = ?
                    WHERE id = ?
                    """,
                arguments: [
                    status.rawValue, FieldErrorCoding.encode(errors), deliveryTenantID?.rawValue ?? stored.tenantID,
                    eventType ?? stored.eventType, now.rfc3339, id,
                ]
            )
            try state.audit.append(
                db,
                at: now,
                tenantID: deliveryTenantID?.rawValue ?? stored.tenantID,
                recordID: nil,
                actor: actor,
                action: correctedBody == nil ? "delivery.replayed" : "delivery.corrected",
                entityType: "delivery",
                entityID: id,
                oldValue: Self.replayAudit(status: stored.status, body: correctedBody.map { _ in stored.body }),
                newValue: Self.replayAudit(status: status, body: correctedBody)
            )
            try state.indexes.write(db)
            return DeliveryOutcome(deliveryID: id, status: status, errors: errors, changes: changes)
        }
    }
}

extension AppDatabase {
    /// What a replay's audit entry keeps: the status, and for a correction the body's SHA-256 (the bodies themselves
    /// are in `delivery_bodies`).
    static func replayAudit(status: DeliveryStatus, body: [UInt8]?) -> String {
        var value: [String: JSONValue] = ["status": .string(status.rawValue)]
        if let body { value["body_sha256"] = .string(Array(SHA256.hash(data: body)).hexString) }
        return JSONValue.object(value).canonicalString
    }
}

extension StoredDelivery {
    init(row: Row) {
        var headers: [String: String] = [:]
        if let text: String = row["headers"], case .object(let members) = try? JSONValue(parsing: Array(text.utf8)) {
            headers = members.compactMapValues(\.stringValue)
        }
        let body: Data = row["body"] ?? Data()
        self.init(
            id: row["id"],
            source: row["source"],
            webhookID: row["webhook_id"],
            status: DeliveryStatus(rawValue: row["status"]) ?? .rejected,
            tenantID: row["tenant_id"],
            eventType: row["event_type"],
            receivedAt: Timestamp(rfc3339: row["received_at"]) ?? Timestamp(microsecondsSinceEpoch: 0),
            headers: headers,
            body: Array(body),
            errors: FieldErrorCoding.decode(row["errors"]),
            replays: row["replays"],
            lastReplayedAt: (row["last_replayed_at"] as String?).flatMap(Timestamp.init(rfc3339:))
        )
    }
}
