import Accounting
import Foundation
import GRDB

extension AppDatabase {
    /// Records a batch of deliveries in one transaction (one fsync), each in its own savepoint so one
    /// item's failure does not undo the others: inbox row, dedup by webhook id and by idempotency key,
    /// version resolution, canonical record, version and audit entry.
    public func record(_ batch: [IncomingDelivery]) async throws -> [Result<DeliveryOutcome, any Error>] {
        try await writer.writeWithoutTransaction { db in Self.record(batch, db: db) }
    }

    /// A group committer whose drain runs on the writer connection.
    public func makeInboxCommitter(
        maximumBatchSize: Int,
        onBatch: @escaping @Sendable (Int) -> Void
    ) -> GroupCommitter<Database, IncomingDelivery, DeliveryOutcome> {
        let writer = self.writer
        return GroupCommitter(
            maximumBatchSize: maximumBatchSize,
            onBatch: onBatch,
            schedule: { body in writer.asyncWriteWithoutTransaction { db in body(db) } },
            commit: { db, batch in Self.record(batch, db: db) }
        )
    }

    /// One transaction for the batch; if it cannot commit, every item fails.
    static func record(_ batch: [IncomingDelivery], db: Database) -> [Result<DeliveryOutcome, any Error>] {
        var results: [Result<DeliveryOutcome, any Error>] = []
        results.reserveCapacity(batch.count)
        do {
            try db.inTransaction(.immediate) {
                var audit = try AuditLog(db)
                for delivery in batch {
                    let chainMark = audit.lastHash
                    do {
                        var outcome: DeliveryOutcome?
                        try db.inSavepoint {
                            outcome = try Self.insert(delivery, db: db, audit: &audit)
                            return .commit
                        }
                        results.append(.success(outcome!))
                    } catch {
                        audit.rewind(to: chainMark)
                        results.append(.failure(error))
                    }
                }
                return .commit
            }
            return results
        } catch {
            return Array(repeating: .failure(error), count: batch.count)
        }
    }

    private static func insert(
        _ delivery: IncomingDelivery,
        db: Database,
        audit: inout AuditLog
    ) throws -> DeliveryOutcome {
        if let existing = try Row.fetchOne(
            db.cachedStatement(sql: "SELECT id, status, errors FROM deliveries WHERE source = ? AND webhook_id = ?"),
            arguments: [delivery.source, delivery.webhookID]
        ) {
            return DeliveryOutcome(
                deliveryID: existing["id"],
                status: DeliveryStatus(rawValue: existing["status"]) ?? .accepted,
                errors: FieldErrorCoding.decode(existing["errors"]),
                isRedelivery: true
            )
        }
        let deliveryID = Identifiers.make("dlv")
        let (initialStatus, errors): (DeliveryStatus, [FieldError]) =
            switch delivery.content {
            case .commands: (.accepted, [])
            case .rejected(let errors): (.rejected, errors)
            case .unroutable(let reason): (.unroutable, [FieldError(field: "", message: reason)])
            }
        try db.cachedStatement(
            sql: """
                INSERT INTO deliveries (id, source, webhook_id, status, tenant_id, event_type, received_at, headers,
                    body, errors)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """
        ).execute(arguments: [
            deliveryID, delivery.source, delivery.webhookID, initialStatus.rawValue, delivery.tenantID?.rawValue,
            delivery.eventType, delivery.receivedAt.rfc3339,
            JSONValue.object(delivery.headers.mapValues(JSONValue.string)).canonicalString, Data(delivery.body),
            FieldErrorCoding.encode(errors),
        ])
        guard case .commands(let commands) = delivery.content else {
            return DeliveryOutcome(deliveryID: deliveryID, status: initialStatus, errors: errors)
        }
        let (status, changes) = try apply(
            commands,
            deliveryID: deliveryID,
            at: delivery.receivedAt,
            actor: "\(delivery.source):\(deliveryID)",
            db: db,
            audit: &audit
        )
        if status != initialStatus {
            try db.cachedStatement(sql: "UPDATE deliveries SET status = ? WHERE id = ?")
                .execute(arguments: [status.rawValue, deliveryID])
        }
        return DeliveryOutcome(deliveryID: deliveryID, status: status, changes: changes)
    }

    /// Steps 4 and 5 of the pipeline for each command: compare it with the stored record — the same change is a
    /// duplicate, an older one is superseded (or a duplicate of a version it already was), a newer one is applied
    /// (record, version, audit). A command's idempotency key is its record and `(updated_at, action)`, so the
    /// record and its versions are the whole of what dedup needs.
    static func apply(
        _ commands: [SyncCommand],
        deliveryID: String,
        at now: Timestamp,
        actor: String,
        db: Database,
        audit: inout AuditLog
    ) throws -> (DeliveryStatus, [RecordChange]) {
        var changes: [RecordChange] = []
        var superseded = 0
        for command in commands {
            let stored = try Row.fetchOne(
                db.cachedStatement(
                    sql: """
                        SELECT id, version, action, source_updated_at, data FROM records
                        WHERE tenant_id = ? AND record_type = ? AND local_id = ?
                        """
                ),
                arguments: [command.tenantID.rawValue, command.recordType.rawValue, command.localID]
            )
            if let stored {
                let storedAction = SyncCommand.Action(rawValue: stored["action"]) ?? .upsert
                let storedOrder = (stored["source_updated_at"] as Int64, storedAction.precedence)
                let incomingOrder = (command.updatedAt.microsecondsSinceEpoch, command.action.precedence)
                if incomingOrder == storedOrder { continue }
                if incomingOrder < storedOrder {
                    let wasAVersion = try Bool.fetchOne(
                        db.cachedStatement(
                            sql: """
                                SELECT 1 FROM record_versions
                                WHERE record_id = ? AND source_updated_at = ? AND action = ?
                                """
                        ),
                        arguments: [stored["id"], command.updatedAt.microsecondsSinceEpoch, command.action.rawValue]
                    )
                    if wasAVersion != true { superseded += 1 }
                    continue
                }
            }
            changes.append(
                try write(command, over: stored, deliveryID: deliveryID, at: now, actor: actor, db: db, audit: &audit))
        }
        let status: DeliveryStatus = !changes.isEmpty ? .accepted : superseded > 0 ? .superseded : .duplicate
        return (status, changes)
    }

    private static func write(
        _ command: SyncCommand,
        over stored: Row?,
        deliveryID: String,
        at now: Timestamp,
        actor: String,
        db: Database,
        audit: inout AuditLog
    ) throws -> RecordChange {
        let oldData: String? = stored?["data"]
        var data = command.data
        if command.action == .void, let oldData,
            case .object(var members) = try? JSONValue(parsing: Array(oldData.utf8)),
            case .object(let voidMembers) = command.data
        {
            // A void keeps the record and marks it: the old fields, then the void's.
            members.merge(voidMembers) { _, new in new }
            data = .object(members)
        }
        let newData = data.canonicalString
        let recordID: String
        let version: Int
        if let stored {
            recordID = stored["id"]
            version = (stored["version"] as Int) + 1
            try db.cachedStatement(
                sql: """
                    UPDATE records SET version = ?, action = ?, source_updated_at = ?, data = ?, updated_at = ?
                    WHERE id = ?
                    """
            ).execute(arguments: [
                version, command.action.rawValue, command.updatedAt.microsecondsSinceEpoch, newData, now.rfc3339,
                recordID,
            ])
        } else {
            recordID = Identifiers.make("rec")
            version = 1
            try db.cachedStatement(
                sql: """
                    INSERT INTO records (id, tenant_id, record_type, local_id, version, action, source_updated_at, data,
                        created_at, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """
            ).execute(arguments: [
                recordID, command.tenantID.rawValue, command.recordType.rawValue, command.localID, version,
                command.action.rawValue, command.updatedAt.microsecondsSinceEpoch, newData, now.rfc3339, now.rfc3339,
            ])
        }
        try db.cachedStatement(
            sql: """
                INSERT INTO record_versions (record_id, version, action, source_updated_at, data, delivery_id, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """
        ).execute(arguments: [
            recordID, version, command.action.rawValue, command.updatedAt.microsecondsSinceEpoch, newData, deliveryID,
            now.rfc3339,
        ])
        let action =
            command.action == .void ? "record.voided" : stored == nil ? "record.created" : "record.updated"
        try audit.append(
            db,
            at: now,
            tenantID: command.tenantID.rawValue,
            recordID: recordID,
            actor: actor,
            action: action,
            entityType: command.recordType.rawValue,
            entityID: command.localID,
            oldValue: oldData,
            newValue: newData
        )
        return RecordChange(
            recordID: recordID, recordType: command.recordType, localID: command.localID, version: version)
    }
}

/// Field errors as stored: a JSON array of `{field, message}`.
enum FieldErrorCoding {
    static func encode(_ errors: [FieldError]) -> String {
        JSONValue.array(errors.map { .object(["field": .string($0.field), "message": .string($0.message)]) })
            .canonicalString
    }

    static func decode(_ text: String?) -> [FieldError] {
        guard let text, case .array(let items) = try? JSONValue(parsing: Array(text.utf8)) else { return [] }
        return items.compactMap { item in
            guard let field = item["field"]?.stringValue, let message = item["message"]?.stringValue else { return nil }
            return FieldError(field: field, message: message)
        }
    }
}
