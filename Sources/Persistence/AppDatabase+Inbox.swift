import Accounting
import Foundation
import GRDB

extension AppDatabase {
    /// Records a batch of deliveries in one transaction (one fsync), each in its own savepoint so one
    /// item's failure does not undo the others: inbox row, dedup by webhook id and by idempotency key,
    /// version resolution, canonical record, version and audit entry.
    public func record(_ batch: [IncomingDelivery]) async throws -> [Result<DeliveryOutcome, any Error>] {
        let (auditKey, pushed) = (auditKey, pushedRecordTypes)
        return try await writer.writeWithoutTransaction { db in
            Self.record(batch, auditKey: auditKey, pushed: pushed, db: db)
        }
    }

    /// A group committer whose drain runs on the writer connection, checkpointing the log when it is idle.
    func makeInboxCommitter(
        maximumBatchSize: Int,
        idleCheckpointAfter deliveries: Int = 16,
        onBatch: @escaping @Sendable (Int) -> Void,
        onJobsQueued: @escaping @Sendable () -> Void = {}
    ) -> GroupCommitter<Database, IncomingDelivery, DeliveryOutcome> {
        let writer = self.writer
        let (auditKey, pushed) = (auditKey, pushedRecordTypes)
        let checkpoints = CheckpointPolicy(idleThreshold: deliveries, background: checkpointer)
        return GroupCommitter(
            maximumBatchSize: maximumBatchSize,
            onBatch: onBatch,
            onIdle: { db in checkpoints.writerIsIdle(db) },
            schedule: { body in writer.asyncWriteWithoutTransaction { db in body(db) } },
            commit: { db, batch in
                checkpoints.written(batch.count)
                let results = Self.record(batch, auditKey: auditKey, pushed: pushed, db: db)
                // Committed: the workers may claim what it queued.
                if results.contains(where: { (try? $0.get())?.queuedJobs == true }) { onJobsQueued() }
                return results
            }
        )
    }

    /// One transaction and one fsync for the batch.
    ///
    /// Each delivery's failure should be its own, which savepoints give, at two statements per delivery. They are
    /// almost never needed, so the batch is first written without them; only if that fails is it written again,
    /// each delivery in its own savepoint. If the transaction cannot commit, every item fails.
    static func record(
        _ batch: [IncomingDelivery], auditKey: AuditKey, pushed: [Platform: Set<RecordType>] = [:], db: Database
    ) -> [Result<DeliveryOutcome, any Error>] {
        do {
            var results: [Result<DeliveryOutcome, any Error>] = []
            results.reserveCapacity(batch.count)
            try db.inTransaction(.immediate) {
                var state = try WriteState(db, auditKey: auditKey, pushed: pushed)
                for delivery in batch { results.append(.success(try insert(delivery, db: db, state: &state))) }
                try state.indexes.write(db)
                return .commit
            }
            return results
        } catch {
            return recordEachInASavepoint(batch, auditKey: auditKey, pushed: pushed, db: db)
        }
    }

    private static func recordEachInASavepoint(
        _ batch: [IncomingDelivery],
        auditKey: AuditKey,
        pushed: [Platform: Set<RecordType>],
        db: Database
    ) -> [Result<DeliveryOutcome, any Error>] {
        var results: [Result<DeliveryOutcome, any Error>] = []
        results.reserveCapacity(batch.count)
        do {
            try db.inTransaction(.immediate) {
                var state = try WriteState(db, auditKey: auditKey, pushed: pushed)
                for delivery in batch {
                    let chainMark = state.audit.position
                    do {
                        var outcome: DeliveryOutcome?
                        try db.inSavepoint {
                            outcome = try insert(delivery, db: db, state: &state)
                            try state.indexes.write(db)
                            return .commit
                        }
                        results.append(.success(outcome!))
                    } catch {
                        state.audit.rewind(to: chainMark)
                        state.indexes.discard()
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
        state: inout WriteState
    ) throws -> DeliveryOutcome {
        let prepared = delivery.prepared
        try db.cachedStatement(
            sql: """
                INSERT INTO deliveries (id, source, webhook_id, status, tenant_id, event_type, received_at, headers,
                    body, errors)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (source, webhook_id) DO NOTHING
                """
        ).execute(arguments: [
            prepared.id, delivery.source, delivery.webhookID, prepared.status.rawValue, delivery.tenantID?.rawValue,
            delivery.eventType, prepared.receivedAt, prepared.headers, prepared.body, prepared.errorsJSON,
        ])
        if db.changesCount == 0 {
            // Received before under this webhook id: answer as it was answered then, and write nothing.
            let existing = try Row.fetchOne(
                db.cachedStatement(
                    sql: "SELECT id, status, errors FROM deliveries WHERE source = ? AND webhook_id = ?"),
                arguments: [delivery.source, delivery.webhookID]
            )
            guard let existing else { throw PersistenceError.commitIncomplete }
            return DeliveryOutcome(
                deliveryID: existing["id"],
                status: DeliveryStatus(rawValue: existing["status"]) ?? .accepted,
                errors: FieldErrorCoding.decode(existing["errors"]),
                isRedelivery: true
            )
        }
        if case .notifications(let notifications, _) = delivery.content {
            // A notification known already by its idempotency key is not kept twice; nothing new is a duplicate.
            let added = try keep(notifications, deliveryID: prepared.id, at: delivery.receivedAt, db: db)
            if prepared.status == .accepted, added == 0, !notifications.isEmpty {
                try db.cachedStatement(sql: "UPDATE deliveries SET status = 'duplicate' WHERE id = ?")
                    .execute(arguments: [prepared.id])
                return DeliveryOutcome(deliveryID: prepared.id, status: .duplicate, errors: prepared.errors)
            }
            return DeliveryOutcome(deliveryID: prepared.id, status: prepared.status, errors: prepared.errors)
        }
        guard case .commands = delivery.content else {
            return DeliveryOutcome(deliveryID: prepared.id, status: prepared.status, errors: prepared.errors)
        }
        let (status, changes) = try apply(
            prepared.commands,
            deliveryID: prepared.id,
            at: Moment(delivery.receivedAt, text: prepared.receivedAt),
            actor: "\(delivery.source):\(prepared.id)",
            db: db,
            state: &state
        )
        if status != prepared.status {
            try db.cachedStatement(sql: "UPDATE deliveries SET status = ? WHERE id = ?")
                .execute(arguments: [status.rawValue, prepared.id])
        }
        return DeliveryOutcome(
            deliveryID: prepared.id, status: status, changes: changes, queuedJobs: state.queuedJobs)
    }

    /// What one write transaction of the inbox carries from delivery to delivery: the audit chain's position, and
    /// each tenant's push targets (read once per transaction, not once per command).
    struct WriteState {
        var audit: AuditLog
        /// What the stored versions are found by and the codes they use, to be written before the transaction
        /// commits (`indexes.write`).
        var indexes = PendingIndexes()
        private var targets: [String: [PushTarget]] = [:]
        /// Whether any job waits for a record billing has not sent (`waitKey(unsent:)`), read once: only a worker's
        /// transaction makes a job wait, so while none does, a new record has nothing to wake.
        private var unsentAwaited: Bool?
        /// The record types each platform takes (`AppDatabase.pushing(_:)`).
        private let pushed: [Platform: Set<RecordType>]
        /// Some command of the transaction queued jobs.
        var queuedJobs = false

        init(_ db: Database, auditKey: AuditKey, pushed: [Platform: Set<RecordType>] = [:]) throws {
            audit = try AuditLog(db, key: auditKey)
            self.pushed = pushed
        }

        /// `jobsAwaitUnsentRecords`' question, `?1` and `?2` the keys' prefix: a probe of `jobs_waiting_for`.
        static let unsentAwaitedQuery =
            "SELECT EXISTS (SELECT 1 FROM jobs WHERE waiting_for >= ?1 AND waiting_for < ?2 || char(1114111))"

        mutating func jobsAwaitUnsentRecords(_ db: Database) throws -> Bool {
            if let unsentAwaited { return unsentAwaited }
            let prefix = AppDatabase.unsentWaitPrefix
            let awaited =
                try Bool.fetchOne(db.cachedStatement(sql: Self.unsentAwaitedQuery), arguments: [prefix, prefix]) ?? true
            unsentAwaited = awaited
            return awaited
        }

        mutating func pushTargets(tenantID: String, db: Database) throws -> [PushTarget] {
            if let known = targets[tenantID] { return known }
            let found = try AppDatabase.pushTargets(tenantID: tenantID, db: db)
            targets[tenantID] = found
            return found
        }

        /// The push targets of a command's tenant whose platform takes its record type, marking that jobs are queued
        /// for them.
        mutating func queueing(tenantID: String, recordType: RecordType, db: Database) throws -> [PushTarget] {
            let pushed = pushed
            let found = try pushTargets(tenantID: tenantID, db: db).filter { $0.takes(recordType, pushed) }
            if !found.isEmpty { queuedJobs = true }
            return found
        }
    }

    /// What dedup and versioning need of a stored record.
    struct StoredState {
        let id: String
        let version: Int
        let action: SyncCommand.Action
        let sourceUpdatedAt: Int64

        /// From `SELECT id, version, action, source_updated_at`, by position.
        init(row: Row) {
            id = row[0]
            version = row[1]
            action = SyncCommand.Action(rawValue: row[2]) ?? .upsert
            sourceUpdatedAt = row[3]
        }
    }

    /// An instant with its RFC 3339 text, formatted once.
    struct Moment {
        let timestamp: Timestamp
        let text: String

        init(_ timestamp: Timestamp, text: String? = nil) {
            self.timestamp = timestamp
            self.text = text ?? timestamp.rfc3339
        }
    }

    /// Steps 4 and 5 of the pipeline for each command: compare it with the stored record — the same change is a
    /// duplicate, an older one is superseded (or a duplicate of a version it already was), a newer one is applied
    /// (record, version, audit). A command's idempotency key is its record and `(updated_at, action)`, so the
    /// record and its versions are the whole of what dedup needs.
    static func apply(
        _ commands: [PreparedCommand],
        deliveryID: String,
        at now: Moment,
        actor: String,
        db: Database,
        state: inout WriteState
    ) throws -> (DeliveryStatus, [RecordChange]) {
        var changes: [RecordChange] = []
        var superseded = 0
        for prepared in commands {
            let command = prepared.command
            let stored = try Row.fetchOne(
                db.cachedStatement(
                    sql: """
                        SELECT id, version, action, source_updated_at FROM records
                        WHERE tenant_id = ? AND record_type = ? AND local_id = ?
                        """
                ),
                arguments: [command.tenantID.rawValue, command.recordType.rawValue, command.localID]
            ).map(StoredState.init(row:))
            if let stored {
                let storedOrder = (stored.sourceUpdatedAt, stored.action.precedence)
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
                        arguments: [stored.id, command.updatedAt.microsecondsSinceEpoch, command.action.rawValue]
                    )
                    if wasAVersion != true { superseded += 1 }
                    continue
                }
            }
            changes.append(
                try write(prepared, over: stored, deliveryID: deliveryID, at: now, actor: actor, db: db, state: &state)
            )
        }
        let status: DeliveryStatus = !changes.isEmpty ? .accepted : superseded > 0 ? .superseded : .duplicate
        return (status, changes)
    }

    private static func write(
        _ prepared: PreparedCommand,
        over stored: StoredState?,
        deliveryID: String,
        at now: Moment,
        actor: String,
        db: Database,
        state: inout WriteState
    ) throws -> RecordChange {
        let command = prepared.command
        let oldData: String? =
            if let stored {
                try String.fetchOne(
                    db.cachedStatement(sql: "SELECT data FROM record_versions WHERE record_id = ? AND version = ?"),
                    arguments: [stored.id, stored.version]
                )
            } else { nil }
        var newData = prepared.data
        if command.action == .void, let oldData,
            case .object(var members) = try? JSONValue(parsing: Array(oldData.utf8)),
            case .object(let voidMembers) = command.data
        {
            // A void keeps the record and marks it: the old fields, then the void's.
            members.merge(voidMembers) { _, new in new }
            newData = JSONValue.object(members).canonicalString
        }
        let recordID: String
        let version: Int
        if let stored {
            recordID = stored.id
            version = stored.version + 1
            try db.cachedStatement(
                sql: """
                    UPDATE records SET version = ?, action = ?, source_updated_at = ?, updated_at = ? WHERE id = ?
                    """
            ).execute(arguments: [
                version, command.action.rawValue, command.updatedAt.microsecondsSinceEpoch, now.text, recordID,
            ])
        } else {
            recordID = prepared.newRecordID
            version = 1
            try db.cachedStatement(
                sql: """
                    INSERT INTO records (id, tenant_id, record_type, local_id, version, action, source_updated_at,
                        created_at, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """
            ).execute(arguments: [
                recordID, command.tenantID.rawValue, command.recordType.rawValue, command.localID, version,
                command.action.rawValue, command.updatedAt.microsecondsSinceEpoch, now.text, now.text,
            ])
            if try state.jobsAwaitUnsentRecords(db) {
                try wakeJobs(
                    waitingForUnsent: RecordReference(command.recordType, command.localID),
                    tenantID: command.tenantID.rawValue, at: now, db: db)
            }
        }
        try db.cachedStatement(
            sql: """
                INSERT INTO record_versions (record_id, version, action, source_updated_at, data, delivery_id, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """
        ).execute(arguments: [
            recordID, version, command.action.rawValue, command.updatedAt.microsecondsSinceEpoch, newData, deliveryID,
            now.text,
        ])
        state.indexes.add(
            tenantID: command.tenantID.rawValue, recordType: command.recordType, recordID: recordID,
            data: command.data)
        try enqueuePushJobs(
            to: state.queueing(tenantID: command.tenantID.rawValue, recordType: command.recordType, db: db),
            tenantID: command.tenantID.rawValue,
            recordID: recordID,
            recordType: command.recordType.rawValue,
            localID: command.localID,
            version: version,
            at: now,
            db: db
        )
        let action =
            command.action == .void ? "record.voided" : stored == nil ? "record.created" : "record.updated"
        try state.audit.append(
            db,
            at: now.timestamp,
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
