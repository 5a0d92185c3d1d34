public import Accounting
import GRDB

/// A sync of one integration.
///
/// Full: every billing record of its tenant that its books do not hold at the current version is queued as a push
/// job tagged with the operation, a page at a time, each page committed with the checkpoint (how far it got), so an
/// interrupted operation resumes where it stopped and queues no record twice. It is complete when its last job has
/// finished.
///
/// Incremental: the platform's change feed is read from the integration's persisted cursor, each page stored with
/// the cursor's new position, and the changes are handled (echoes, conflicts, billing told). It is complete when
/// the feed has nothing more; a failed read is tried again after a pause.
public struct SyncOperation: Sendable, Hashable {
    public enum Mode: String, Sendable, Hashable, CaseIterable {
        case full, incremental
    }

    public enum Status: String, Sendable, Hashable, CaseIterable {
        case pending
        /// Queuing records, or waiting for its jobs to finish.
        case running
        /// Every record was examined and every job it queued has finished (some may have failed: see `errors`).
        case completed
    }

    /// A record the operation could not sync, with the platform's reason.
    public struct RecordError: Sendable, Hashable {
        public var recordType: String
        public var localID: String
        public var jobID: String
        public var error: JobError
    }

    public var id: String
    public var integrationID: String
    public var tenantID: String
    public var mode: Mode
    public var status: Status
    /// The tenant's records when the operation started.
    public var recordsTotal: Int
    /// Records examined so far: already in the books (skipped) or pushed by the operation's jobs (finished).
    public var recordsProcessed: Int
    public var recordsSkipped: Int
    /// Records linked to the books that a full sync found still there (a subset of `recordsSkipped`, or pushed for a
    /// newer version).
    public var recordsVerified: Int
    /// Records linked to the books that a full sync no longer found there (the company was reset, or they were
    /// deleted): their links dropped, pushed again as new.
    public var recordsRepushed: Int
    public var recordsFailed: Int
    /// Records queued and not yet finished.
    public var recordsInFlight: Int
    public var errors: [RecordError]
    /// Why the last attempt stopped short, for an incremental sync that will try again.
    public var lastError: JobError?
    public var requestedBy: String?
    public var startedAt: Timestamp?
    public var finishedAt: Timestamp?
    public var createdAt: Timestamp
}

/// Where a running operation got to. Record types go in dependency order, each by rowid.
struct SyncCheckpoint: Hashable {
    static let order: [RecordType] = [.customer, .invoice, .creditNote, .payment, .refund]

    var typeIndex = 0
    var afterRowID: Int64 = 0

    var json: JSONValue {
        ["type_index": .number(String(typeIndex)), "after_rowid": .number(String(afterRowID))]
    }

    init() {}

    init(text: String?) {
        guard let text, let json = try? JSONValue(parsing: Array(text.utf8)) else { return }
        typeIndex = json["type_index"]?.intValue ?? 0
        afterRowID = (json["after_rowid"]?.intValue).map(Int64.init) ?? 0
    }
}

extension AppDatabase {
    /// Starts a sync of an integration, or returns the one already pending or running for it.
    public func requestSync(
        integrationID: String, tenantID: String?, mode: SyncOperation.Mode, actor: String, at now: Timestamp = .now()
    ) async throws -> SyncOperation? {
        try await writer.write { db in
            guard let integration = try Self.fetchIntegration(id: integrationID, tenantID: tenantID, db: db) else {
                return nil
            }
            if let open = try String.fetchOne(
                db,
                sql: """
                    SELECT id FROM sync_operations
                    WHERE integration_id = ? AND mode = ? AND status IN ('pending', 'running')
                    """,
                arguments: [integrationID, mode.rawValue])
            {
                return try Self.fetchSyncOperation(id: open, tenantID: nil, db: db)
            }
            return try Self.insertSyncOperation(
                integration: integration, mode: mode, actor: actor, at: now, auditKey: auditKey, db: db)
        }
    }

    private static func insertSyncOperation(
        integration: Integration, mode: SyncOperation.Mode, actor: String, at now: Timestamp, auditKey: AuditKey,
        db: Database
    ) throws -> SyncOperation? {
        let integrationID = integration.id
        let id = Identifiers.make("syn")
        let total =
            mode == .incremental
            ? 0
            : try Int.fetchOne(
                db, sql: "SELECT COUNT(*) FROM records WHERE tenant_id = ?", arguments: [integration.tenantID])
                ?? 0
        try db.execute(
            sql: """
                INSERT INTO sync_operations (id, integration_id, tenant_id, mode, status, records_total,
                    checkpoint, requested_by, created_at)
                VALUES (?, ?, ?, ?, 'pending', ?, ?, ?, ?)
                """,
            arguments: [
                id, integrationID, integration.tenantID, mode.rawValue, total,
                SyncCheckpoint().json.canonicalString, actor, now.rfc3339,
            ])
        var audit = try AuditLog(db, key: auditKey)
        try audit.append(
            db, at: now, tenantID: integration.tenantID, integrationID: integrationID, recordID: nil,
            actor: actor, action: "sync.requested", entityType: "sync_operation", entityID: id, oldValue: nil,
            newValue: JSONValue.object(["mode": .string(mode.rawValue)]).canonicalString)
        return try Self.fetchSyncOperation(id: id, tenantID: nil, db: db)
    }

    /// Claims a sync with work left (pending, or running under an expired lease: whoever ran it stopped, or an
    /// incremental sync's pause after a failed read is over) until `now + lease`. An incremental sync waits while
    /// its integration is not connected.
    public func claimSyncOperation(
        worker: String, modes: Set<SyncOperation.Mode> = [.full, .incremental], now: Timestamp, lease: Duration
    ) async throws -> (id: String, integrationID: String, mode: SyncOperation.Mode)? {
        let modeList = modes.map { "'\($0.rawValue)'" }.sorted().joined(separator: ", ")
        guard !modes.isEmpty else { return nil }
        return try await writer.write { db in
            guard
                let row = try Row.fetchOne(
                    db,
                    sql: """
                        SELECT o.id, o.integration_id, o.mode FROM sync_operations o
                        JOIN integration_configs i ON i.id = o.integration_id
                        WHERE o.status IN ('pending', 'running') AND o.mode IN (\(modeList))
                            AND i.status <> 'disabled'
                            AND (o.mode = 'full' OR i.status = 'connected')
                            AND (o.status = 'pending'
                                OR (o.status = 'running' AND o.lease_owner IS NOT NULL AND o.lease_expires_at <= ?))
                        ORDER BY o.created_at LIMIT 1
                        """,
                    arguments: [now.microsecondsSinceEpoch])
            else { return nil }
            let id: String = row["id"]
            try db.execute(
                sql: """
                    UPDATE sync_operations SET status = 'running', lease_owner = ?, lease_expires_at = ?,
                        started_at = COALESCE(started_at, ?)
                    WHERE id = ?
                    """,
                arguments: [worker, now.adding(lease).microsecondsSinceEpoch, now.rfc3339, id])
            return (id, row["integration_id"], SyncOperation.Mode(rawValue: row["mode"]) ?? .full)
        }
    }

    /// Ends a claimed incremental sync: completed (the feed is read and its changes handled, or, with `error` and no
    /// `retryAt`, it cannot be), or, after `error`, running again from `retryAt` on (another claim then continues
    /// from the stored cursor).
    public func finishIncrementalSync(
        operationID: String, worker: String, error: JobError?, retryAt: Timestamp?, at now: Timestamp
    ) async throws {
        try await writer.write { db in
            guard
                let row = try Row.fetchOne(
                    db,
                    sql: "SELECT * FROM sync_operations WHERE id = ? AND status = 'running' AND lease_owner = ?",
                    arguments: [operationID, worker])
            else { return }
            let checkpoint = error.map { error in
                JSONValue.object(["last_error": ["code": .string(error.code), "message": .string(error.message)]])
                    .canonicalString
            }
            if let retryAt {
                try db.execute(
                    sql: "UPDATE sync_operations SET checkpoint = ?, lease_expires_at = ? WHERE id = ?",
                    arguments: [checkpoint, retryAt.microsecondsSinceEpoch, operationID])
                return
            }
            try db.execute(
                sql: """
                    UPDATE sync_operations SET status = 'completed', finished_at = ?, lease_owner = NULL,
                        lease_expires_at = NULL, checkpoint = ?, records_failed = ?
                    WHERE id = ?
                    """,
                arguments: [now.rfc3339, checkpoint, error == nil ? 0 : 1, operationID])
            guard error == nil else { return }
            try db.execute(
                sql: "UPDATE integration_configs SET last_sync_at = ? WHERE id = ?",
                arguments: [now.rfc3339, row["integration_id"]])
            var audit = try AuditLog(db, key: auditKey)
            try audit.append(
                db, at: now, tenantID: row["tenant_id"], integrationID: row["integration_id"], recordID: nil,
                actor: "scheduler", action: "sync.completed", entityType: "sync_operation", entityID: operationID,
                oldValue: nil,
                newValue: JSONValue.object([
                    "mode": "incremental",
                    "records_processed": .number(String(row["records_processed"] as Int)),
                ]).canonicalString)
        }
    }

    /// Requests an incremental sync of every connected integration with a change feed (on `platforms`) and sync
    /// enabled, whose last one was requested at least its `interval_seconds` ago and none is open. On a platform in
    /// `paymentsIntervals` (its payments polled, for want of webhooks), at least that often: the integration's
    /// `payments_interval_seconds`, or the platform's default given there.
    /// - Returns: how many were requested.
    @discardableResult
    public func scheduleIncrementalSyncs(
        platforms: Set<Platform>, paymentsIntervals: [Platform: Int] = [:], at now: Timestamp
    ) async throws -> Int {
        guard !platforms.isEmpty else { return 0 }
        let platformList = platforms.map { "'\($0.rawValue)'" }.sorted().joined(separator: ", ")
        // Where payments are polled more often (Xero's have no webhooks), the feed is read on the shorter interval.
        let interval = "COALESCE(json_extract(i.sync, '$.interval_seconds'), 3600)"
        let payments = paymentsIntervals.sorted { $0.key.rawValue < $1.key.rawValue }.map { platform, seconds in
            "WHEN '\(platform.rawValue)' THEN MIN(\(interval), "
                + "COALESCE(json_extract(i.sync, '$.payments_interval_seconds'), \(seconds)))"
        }
        let intervalSQL =
            payments.isEmpty ? interval : "CASE i.platform \(payments.joined(separator: " ")) ELSE \(interval) END"
        return try await writer.write { db in
            let candidates = try Row.fetchAll(
                db,
                sql: """
                    SELECT i.id, \(intervalSQL) AS interval,
                        (SELECT MAX(o.created_at) FROM sync_operations o
                            WHERE o.integration_id = i.id AND o.mode = 'incremental') AS last,
                        EXISTS (
                            SELECT 1 FROM sync_operations o
                            WHERE o.integration_id = i.id AND o.mode = 'incremental'
                                AND o.status IN ('pending', 'running')) AS open
                    FROM integration_configs i
                    WHERE i.status = 'connected' AND i.platform IN (\(platformList))
                        AND COALESCE(json_extract(i.sync, '$.enabled'), 1)
                    """)
            var requested = 0
            for row in candidates where !(row["open"] as Bool) {
                let interval = Duration.seconds(max(1, row["interval"] as Int))
                if let last = (row["last"] as String?).flatMap(Timestamp.init(rfc3339:)),
                    last.adding(interval) > now
                {
                    continue
                }
                guard let integration = try Self.fetchIntegration(id: row["id"], tenantID: nil, db: db) else {
                    continue
                }
                _ = try Self.insertSyncOperation(
                    integration: integration, mode: .incremental, actor: "scheduler", at: now, auditKey: auditKey,
                    db: db)
                requested += 1
            }
            return requested
        }
    }

    /// A record of a full sync's page that is linked to the books: billing's record, and the platform's id of it.
    public struct SyncLink: Sendable, Hashable {
        public var recordID: String
        public var recordType: RecordType
        public var remoteID: String
    }

    /// The records of a claimed operation's next page (up to `limit`, as `queueSyncPage` will take them) that are
    /// linked to the books: a full sync checks that the books still hold them before it trusts the links.
    public func syncPageLinks(operationID: String, worker: String, limit: Int) async throws -> [SyncLink] {
        try await writer.read { db in
            let operation = try Self.heldSyncOperation(operationID, worker: worker, db: db)
            return try Self.syncPage(operation, limit: limit, db: db).rows.compactMap { recordType, row in
                (row["remote_id"] as String?).map {
                    SyncLink(recordID: row["id"], recordType: recordType, remoteID: $0)
                }
            }
        }
    }

    /// Queues the next page (up to `limit` records) of a claimed operation and moves its checkpoint past them, in
    /// one transaction, renewing the lease. `decide` (the engine's `FullSyncDecider`) says which records are pushed
    /// and which links are dropped. `lost` is billing's id → the platform's id the books no longer hold, as
    /// `syncPageLinks` and the platform found; `verified` linked records were found in the books.
    /// - Returns: whether records remain to be examined; `false` once the last page is done (the lease is let go).
    public func queueSyncPage(
        operationID: String, worker: String, limit: Int, now: Timestamp, lease: Duration,
        lost: [String: String] = [:], verified: Int = 0,
        decide: @escaping @Sendable (SyncPageRecordFacts) -> SyncPageRecordDecision
    ) async throws -> Bool {
        try await writer.write { db in
            let operation = try Self.heldSyncOperation(operationID, worker: worker, db: db)
            let integrationID: String = operation["integration_id"]
            let tenantID: String = operation["tenant_id"]
            let (rows, checkpoint) = try Self.syncPage(operation, limit: limit, db: db)
            let target = try Self.pushTarget(integrationID: integrationID, db: db)
            let moment = Moment(now)
            var (skipped, repushed) = (0, 0)
            var audit: AuditLog?
            for (recordType, row) in rows {
                let recordID: String = row["id"]
                let version: Int = row["version"]
                let remoteID: String? = row["remote_id"]
                let decision = decide(
                    SyncPageRecordFacts(
                        recordID: recordID, recordType: recordType, version: version,
                        syncedVersion: row["local_version"], remoteID: remoteID,
                        isVoid: (row["action"] as String) == "void", queued: row["queued"],
                        lostRemoteID: lost[recordID]))
                if decision.dropLink, let gone = remoteID {
                    // The books no longer hold it: the dead link goes (a person's exclusion stays).
                    try db.execute(
                        sql: """
                            DELETE FROM synchronized_records
                            WHERE record_id = :record AND integration_id = :integration AND status <> 'excluded';
                            UPDATE synchronized_records SET remote_id = NULL, remote_version = NULL
                            WHERE record_id = :record AND integration_id = :integration
                            """,
                        arguments: ["record": recordID, "integration": integrationID])
                    if audit == nil { audit = try AuditLog(db, key: auditKey) }
                    try audit!.append(
                        db, at: now, tenantID: tenantID, integrationID: integrationID, recordID: recordID,
                        actor: "sync:\(operationID)", action: "link.dropped", entityType: recordType.rawValue,
                        entityID: row["local_id"],
                        oldValue: JSONValue.object(["remote_id": .string(gone)]).canonicalString,
                        newValue: JSONValue.object(["reason": "not found in the books"]).canonicalString)
                }
                // A record a person excluded from this integration's sync is skipped: no job is queued for it.
                if decision.push,
                    try Self.enqueuePushJobs(
                        to: [target], tenantID: tenantID, recordID: recordID, recordType: recordType.rawValue,
                        localID: row["local_id"], version: version, operationID: operationID, at: moment, db: db) > 0
                {
                    if decision.dropLink { repushed += 1 }
                } else {
                    skipped += 1
                }
            }
            let more = checkpoint.typeIndex < SyncCheckpoint.order.count
            try db.execute(
                sql: """
                    UPDATE sync_operations SET checkpoint = ?, records_skipped = records_skipped + ?,
                        records_verified = records_verified + ?, records_repushed = records_repushed + ?,
                        lease_owner = ?, lease_expires_at = ?
                    WHERE id = ?
                    """,
                arguments: [
                    checkpoint.json.canonicalString, skipped, verified, repushed, more ? worker : nil,
                    more ? now.adding(lease).microsecondsSinceEpoch : nil, operationID,
                ])
            return more
        }
    }

    /// Puts a claimed full sync aside until `retryAt` (its lease runs until then, and another claim continues from
    /// the checkpoint): the books could not be asked whether its page's links hold. `error` is shown as its
    /// `last_error` until a page goes through.
    public func pauseFullSync(operationID: String, worker: String, error: JobError, retryAt: Timestamp) async throws {
        try await writer.write { db in
            let operation = try Self.heldSyncOperation(operationID, worker: worker, db: db)
            var checkpoint = SyncCheckpoint(text: operation["checkpoint"]).json.objectValue ?? [:]
            checkpoint["last_error"] = ["code": .string(error.code), "message": .string(error.message)]
            try db.execute(
                sql: "UPDATE sync_operations SET checkpoint = ?, lease_expires_at = ? WHERE id = ?",
                arguments: [JSONValue.object(checkpoint).canonicalString, retryAt.microsecondsSinceEpoch, operationID])
        }
    }

    private static func heldSyncOperation(_ operationID: String, worker: String, db: Database) throws -> Row {
        guard
            let row = try Row.fetchOne(
                db,
                sql: "SELECT * FROM sync_operations WHERE id = ? AND status = 'running' AND lease_owner = ?",
                arguments: [operationID, worker])
        else { throw PersistenceError.conflict("sync operation \(operationID) is not held by \(worker)") }
        return row
    }

    /// A page of one record type's records from a checkpoint, with their links and whether a job is queued for
    /// them: a range of `records_type_order`, in rowid order, whatever the number of records before the checkpoint,
    /// and each record's jobs found by `jobs_record` (the `+` keeps SQLite from walking every open job of the
    /// integration by `jobs_integration_status` instead, once per record: a full sync queues thousands). Guarded by
    /// `SyncPagePlanTests`.
    static let syncPageQuery = """
        SELECT r.rowid, r.id, r.local_id, r.version, r.action, l.local_version, l.remote_id,
            EXISTS (
                SELECT 1 FROM jobs j
                WHERE j.integration_id = :integration AND j.record_id = r.id AND j.version = r.version
                    AND +j.status IN ('pending', 'running', 'needs_mapping')) AS queued
        FROM records r
        LEFT JOIN synchronized_records l ON l.record_id = r.id AND l.integration_id = :integration
        WHERE r.tenant_id = :tenant AND r.record_type = :type AND r.rowid > :after
        ORDER BY r.rowid LIMIT :limit
        """

    /// The next page of an operation from its checkpoint (record types in dependency order, each by rowid), and
    /// the checkpoint past it.
    private static func syncPage(_ operation: Row, limit: Int, db: Database) throws -> (
        rows: [(RecordType, Row)], checkpoint: SyncCheckpoint
    ) {
        let integrationID: String = operation["integration_id"]
        let tenantID: String = operation["tenant_id"]
        var checkpoint = SyncCheckpoint(text: operation["checkpoint"])
        var remaining = limit
        var page: [(RecordType, Row)] = []
        while remaining > 0, checkpoint.typeIndex < SyncCheckpoint.order.count {
            let recordType = SyncCheckpoint.order[checkpoint.typeIndex]
            let rows = try Row.fetchAll(
                db.cachedStatement(sql: syncPageQuery),
                arguments: [
                    "integration": integrationID, "tenant": tenantID, "type": recordType.rawValue,
                    "after": checkpoint.afterRowID, "limit": remaining,
                ])
            for row in rows {
                page.append((recordType, row))
                checkpoint.afterRowID = row["rowid"]
            }
            remaining -= rows.count
            if remaining > 0 {
                checkpoint.typeIndex += 1
                checkpoint.afterRowID = 0
            }
        }
        return (page, checkpoint)
    }

    /// Completes the running operations that have queued everything and whose jobs have all finished.
    /// - Returns: how many were completed.
    @discardableResult
    public func completeFinishedSyncOperations(at now: Timestamp = .now()) async throws -> Int {
        try await writer.write { db in
            let finished = try Row.fetchAll(
                db,
                sql: """
                    SELECT o.id, o.integration_id, o.tenant_id, o.mode, o.records_verified, o.records_repushed
                    FROM sync_operations o
                    WHERE o.status = 'running' AND o.mode = 'full' AND o.lease_owner IS NULL
                        AND NOT EXISTS (
                            SELECT 1 FROM jobs j WHERE j.operation_id = o.id
                                AND j.status IN ('pending', 'running', 'needs_mapping'))
                    """)
            var audit: AuditLog?
            for row in finished {
                let id: String = row["id"]
                let counts = try Row.fetchOne(
                    db,
                    sql: """
                        SELECT COUNT(*) AS finished, COALESCE(SUM(status IN ('failed', 'dead')), 0) AS failed
                        FROM jobs WHERE operation_id = ?
                        """,
                    arguments: [id])
                try db.execute(
                    sql: """
                        UPDATE sync_operations SET status = 'completed', finished_at = ?,
                            records_processed = records_skipped + ?, records_failed = ?
                        WHERE id = ?
                        """,
                    arguments: [now.rfc3339, counts?["finished"] ?? 0, counts?["failed"] ?? 0, id])
                try db.execute(
                    sql: "UPDATE integration_configs SET last_sync_at = ? WHERE id = ?",
                    arguments: [now.rfc3339, row["integration_id"]])
                if audit == nil { audit = try AuditLog(db, key: auditKey) }
                try audit!.append(
                    db, at: now, tenantID: row["tenant_id"], integrationID: row["integration_id"], recordID: nil,
                    actor: "scheduler", action: "sync.completed", entityType: "sync_operation", entityID: id,
                    oldValue: nil,
                    newValue: JSONValue.object([
                        "records_processed": .number(String(counts?["finished"] ?? 0)),
                        "records_failed": .number(String(counts?["failed"] ?? 0)),
                        "records_verified": .number(String(row["records_verified"] as Int)),
                        "records_repushed": .number(String(row["records_repushed"] as Int)),
                    ]).canonicalString)
            }
            return finished.count
        }
    }

    /// One operation with its live progress; `nil` when absent or of another tenant than `tenantID`.
    public func syncOperation(id: String, tenantID: String?) async throws -> SyncOperation? {
        try await writer.read { db in try Self.fetchSyncOperation(id: id, tenantID: tenantID, db: db) }
    }

    /// Operations, oldest first, with their live progress.
    public func syncOperations(
        integrationID: String?, status: SyncOperation.Status?, tenantID: String?, page: PageRequest
    ) async throws -> Page<SyncOperation> {
        try await writer.read { db in
            var filter = SQLFilter()
            filter.add("integration_id = ?", integrationID)
            filter.add("status = ?", status?.rawValue)
            filter.add("tenant_id = ?", tenantID)
            return try Self.rowPage(of: "sync_operations", filter, page, db: db) { row in
                try Self.syncOperation(row: row, db: db)
            }
        }
    }

    static func fetchSyncOperation(id: String, tenantID: String?, db: Database) throws -> SyncOperation? {
        var filter = SQLFilter()
        filter.add("id = ?", id)
        filter.add("tenant_id = ?", tenantID)
        guard
            let row = try Row.fetchOne(
                db, sql: "SELECT * FROM sync_operations \(filter.whereClause)", arguments: filter.arguments)
        else { return nil }
        return try syncOperation(row: row, db: db)
    }

    static func syncOperation(row: Row, db: Database) throws -> SyncOperation {
        let id: String = row["id"]
        let counts = try Row.fetchOne(
            db,
            sql: """
                SELECT COALESCE(SUM(status IN ('succeeded', 'failed', 'dead')), 0) AS finished,
                    COALESCE(SUM(status IN ('failed', 'dead')), 0) AS failed,
                    COALESCE(SUM(status IN ('pending', 'running', 'needs_mapping')), 0) AS open
                FROM jobs WHERE operation_id = ?
                """,
            arguments: [id])
        let errors = try Row.fetchAll(
            db,
            sql: """
                SELECT id, record_type, local_id, last_error_code, last_error_message FROM jobs
                WHERE operation_id = ? AND status IN ('failed', 'dead') ORDER BY seq LIMIT 100
                """,
            arguments: [id]
        ).map { error in
            SyncOperation.RecordError(
                recordType: error["record_type"], localID: error["local_id"], jobID: error["id"],
                error: JobError(code: error["last_error_code"] ?? "", message: error["last_error_message"] ?? ""))
        }
        let skipped: Int = row["records_skipped"]
        let mode = SyncOperation.Mode(rawValue: row["mode"]) ?? .full
        let checkpoint = (row["checkpoint"] as String?).flatMap { try? JSONValue(parsing: Array($0.utf8)) }
        let lastError = checkpoint?["last_error"].flatMap { error in
            error["code"]?.stringValue.map { JobError(code: $0, message: error["message"]?.stringValue ?? "") }
        }
        return SyncOperation(
            id: id,
            integrationID: row["integration_id"],
            tenantID: row["tenant_id"] ?? "",
            mode: mode,
            status: SyncOperation.Status(rawValue: row["status"]) ?? .pending,
            recordsTotal: row["records_total"],
            // An incremental sync counts the changes it heard.
            recordsProcessed: mode == .incremental ? row["records_processed"] : skipped + (counts?["finished"] ?? 0),
            recordsSkipped: skipped,
            recordsVerified: row["records_verified"],
            recordsRepushed: row["records_repushed"],
            recordsFailed: counts?["failed"] ?? 0,
            recordsInFlight: counts?["open"] ?? 0,
            errors: errors,
            lastError: lastError,
            requestedBy: row["requested_by"],
            startedAt: (row["started_at"] as String?).flatMap(Timestamp.init(rfc3339:)),
            finishedAt: (row["finished_at"] as String?).flatMap(Timestamp.init(rfc3339:)),
            createdAt: Timestamp(rfc3339: row["created_at"]) ?? Timestamp(microsecondsSinceEpoch: 0)
        )
    }
}
