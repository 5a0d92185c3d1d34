public import Accounting
import GRDB

/// A person's correction of how one billing record stands in one integration's books (the "manual override"): link
/// it to a record already there, unlink it, exclude it from the sync or include it again, push it again. Each is one
/// transaction with its audit entry, scoped to the caller's tenant.
extension AppDatabase {
    /// The books' record a person chose for a billing record: its id and version as the platform gave them.
    public struct ChosenBooksRecord: Sendable, Hashable {
        public var remoteID: String
        public var remoteVersion: String?

        public init(remoteID: String, remoteVersion: String?) {
            self.remoteID = remoteID
            self.remoteVersion = remoteVersion
        }
    }

    /// Links billing's record to `chosen`, a record of the integration's books, in place of any link it had: its
    /// next push updates that record instead of creating one. Refused when another billing record of the same type
    /// is linked to it (two records would write one).
    /// - Returns: the record with its links.
    public func linkRecord(
        id: String, integrationID: String, to chosen: ChosenBooksRecord, tenantID: String?, actor: String,
        at now: Timestamp
    ) async throws -> StoredRecord {
        try await overriding(id: id, integrationID: integrationID, tenantID: tenantID, at: now) { db, facts, audit in
            if let owner = try String.fetchOne(
                db,
                sql: """
                    SELECT r.local_id FROM synchronized_records s JOIN records r ON r.id = s.record_id
                    WHERE s.integration_id = ? AND s.remote_id = ? AND r.record_type = ? AND s.record_id <> ?
                    """,
                arguments: [integrationID, chosen.remoteID, facts.recordType, id])
            {
                throw PersistenceError.conflict(
                    "the books' \(facts.recordType) \(chosen.remoteID) is already linked to billing's \(owner); "
                        + "unlink that one first")
            }
            try db.execute(
                sql: """
                    INSERT INTO synchronized_records (id, record_id, integration_id, remote_id, remote_version, status,
                        last_synced_at)
                    VALUES (?, ?, ?, ?, ?, 'synced', ?)
                    ON CONFLICT (record_id, integration_id) DO UPDATE SET
                        remote_id = excluded.remote_id, remote_version = excluded.remote_version,
                        remote_updated_at = NULL, local_version = NULL,
                        status = CASE WHEN status = 'excluded' THEN 'excluded' ELSE 'synced' END,
                        last_synced_at = excluded.last_synced_at
                    """,
                arguments: [
                    Identifiers.make("lnk"), id, integrationID, chosen.remoteID, chosen.remoteVersion, now.rfc3339,
                ])
            try audit.append(
                db, at: now, tenantID: facts.tenantID, integrationID: integrationID, recordID: id, actor: actor,
                action: "record.linked", entityType: facts.recordType, entityID: facts.localID,
                oldValue: facts.remoteID.map { JSONValue.object(["remote_id": .string($0)]).canonicalString },
                newValue: JSONValue.object([
                    "remote_id": .string(chosen.remoteID),
                    "remote_version": chosen.remoteVersion.map(JSONValue.string) ?? .null,
                ]).canonicalString)
        }
    }

    /// Forgets which record of the integration's books is billing's record: its next push creates one. An
    /// exclusion stays.
    public func unlinkRecord(
        id: String, integrationID: String, tenantID: String?, actor: String, at now: Timestamp
    ) async throws -> StoredRecord {
        try await overriding(id: id, integrationID: integrationID, tenantID: tenantID, at: now) { db, facts, audit in
            guard let remoteID = facts.remoteID else {
                throw PersistenceError.conflict(
                    "\(facts.recordType) \(facts.localID) is not linked to a record of this integration's books")
            }
            if facts.excluded {
                try db.execute(
                    sql: """
                        UPDATE synchronized_records SET remote_id = NULL, remote_version = NULL,
                            remote_updated_at = NULL, local_version = NULL
                        WHERE record_id = ? AND integration_id = ?
                        """,
                    arguments: [id, integrationID])
            } else {
                try db.execute(
                    sql: "DELETE FROM synchronized_records WHERE record_id = ? AND integration_id = ?",
                    arguments: [id, integrationID])
            }
            try audit.append(
                db, at: now, tenantID: facts.tenantID, integrationID: integrationID, recordID: id, actor: actor,
                action: "record.unlinked", entityType: facts.recordType, entityID: facts.localID,
                oldValue: JSONValue.object(["remote_id": .string(remoteID)]).canonicalString, newValue: nil)
        }
    }

    /// Excludes billing's record from the integration's sync, or includes it again. Excluded, none of its versions
    /// is pushed to those books (new versions, full syncs, records depending on it wait) and its open jobs there are
    /// superseded; included again, its newest version is pushed unless the books already hold it.
    public func setRecordExcluded(
        _ excluded: Bool, id: String, integrationID: String, tenantID: String?, actor: String, at now: Timestamp
    ) async throws -> StoredRecord {
        try await overriding(id: id, integrationID: integrationID, tenantID: tenantID, at: now) { db, facts, audit in
            guard facts.excluded != excluded else {
                throw PersistenceError.conflict(
                    "\(facts.recordType) \(facts.localID) is already \(excluded ? "excluded from" : "included in") "
                        + "this integration's sync")
            }
            var superseded = 0
            if excluded {
                try db.execute(
                    sql: """
                        INSERT INTO synchronized_records (id, record_id, integration_id, status)
                        VALUES (?, ?, ?, 'excluded')
                        ON CONFLICT (record_id, integration_id) DO UPDATE SET status = 'excluded'
                        """,
                    arguments: [Identifiers.make("lnk"), id, integrationID])
                try db.execute(
                    sql: """
                        UPDATE jobs SET status = 'superseded', lease_owner = NULL, lease_expires_at = NULL,
                            updated_at = ?
                        WHERE integration_id = ? AND record_id = ?
                            AND status IN ('pending', 'held', 'needs_mapping', 'failed', 'dead')
                        """,
                    arguments: [now.rfc3339, integrationID, id])
                superseded = db.changesCount
            } else if facts.remoteID == nil {
                try db.execute(
                    sql: "DELETE FROM synchronized_records WHERE record_id = ? AND integration_id = ?",
                    arguments: [id, integrationID])
            } else {
                try db.execute(
                    sql: "UPDATE synchronized_records SET status = 'synced' WHERE record_id = ? AND integration_id = ?",
                    arguments: [id, integrationID])
            }
            var queued: String?
            if !excluded && facts.syncedVersion.map({ $0 < facts.version }) ?? true {
                queued = try Self.pushAgain(facts, integrationID: integrationID, at: now, db: db)
            }
            try audit.append(
                db, at: now, tenantID: facts.tenantID, integrationID: integrationID, recordID: id, actor: actor,
                action: excluded ? "record.excluded" : "record.included", entityType: facts.recordType,
                entityID: facts.localID, oldValue: nil,
                newValue: JSONValue.object([
                    "superseded_jobs": .number(String(superseded)),
                    "job_id": queued.map(JSONValue.string) ?? .null,
                ]).canonicalString)
        }
    }

    /// Queues a push of billing's record's newest version to the integration, whatever its link says: the books'
    /// copy is written again (or made, unlinked). Refused while the record is excluded, or while a push of it is
    /// already waiting there.
    /// - Returns: the record, and the job queued.
    public func pushRecordAgain(
        id: String, integrationID: String, tenantID: String?, actor: String, at now: Timestamp
    ) async throws -> (record: StoredRecord, jobID: String) {
        let (record, jobID) = try await overriding(
            id: id, integrationID: integrationID, tenantID: tenantID, at: now
        ) { (db, facts, audit: inout AuditLog) -> String in
            guard !facts.excluded else {
                throw PersistenceError.conflict(
                    "\(facts.recordType) \(facts.localID) is excluded from this integration's sync; include it first")
            }
            if let open = try String.fetchOne(
                db,
                sql: """
                    SELECT id FROM jobs WHERE integration_id = ? AND record_id = ?
                        AND status IN ('pending', 'running', 'held', 'needs_mapping', 'awaiting_platform')
                    LIMIT 1
                    """,
                arguments: [integrationID, id])
            {
                throw PersistenceError.conflict("a push of it is already on its way: job \(open)")
            }
            let queued = try Self.pushAgain(facts, integrationID: integrationID, at: now, db: db)
            try audit.append(
                db, at: now, tenantID: facts.tenantID, integrationID: integrationID, recordID: id, actor: actor,
                action: "record.pushed_again", entityType: facts.recordType, entityID: facts.localID, oldValue: nil,
                newValue: JSONValue.object([
                    "job_id": .string(queued), "version": .number(String(facts.version)),
                ]).canonicalString)
            return queued
        }
        return (record, jobID)
    }

    /// Which of `remoteIDs` (records of `recordType` in the integration's books) are linked to a billing record, and
    /// to which: billing's id by the books' id.
    public func linkedRecords(integrationID: String, recordType: String, remoteIDs: [String]) async throws
        -> [String: String]
    {
        guard !remoteIDs.isEmpty else { return [:] }
        return try await writer.read { db in
            var linked: [String: String] = [:]
            for remoteID in Set(remoteIDs) {
                if let localID = try String.fetchOne(
                    db.cachedStatement(
                        sql: """
                            SELECT r.local_id FROM synchronized_records s JOIN records r ON r.id = s.record_id
                            WHERE s.integration_id = ? AND s.remote_id = ? AND r.record_type = ?
                            """),
                    arguments: [integrationID, remoteID, recordType])
                {
                    linked[remoteID] = localID
                }
            }
            return linked
        }
    }

    /// Where a record stands in one integration, as an override reads it.
    struct OverrideFacts {
        var tenantID: String
        var recordType: String
        var localID: String
        var version: Int
        var remoteID: String?
        var syncedVersion: Int?
        var excluded: Bool
    }

    /// Runs `change` on the record and integration (both the tenant's, or not found) in one transaction with the
    /// audit log, and answers the record as it then stands.
    private func overriding(
        id: String, integrationID: String, tenantID: String?, at now: Timestamp,
        _ change: @escaping @Sendable (Database, OverrideFacts, inout AuditLog) throws -> Void
    ) async throws -> StoredRecord {
        try await overriding(id: id, integrationID: integrationID, tenantID: tenantID, at: now, answering: change)
            .record
    }

    /// The same, answering what `change` answers too.
    private func overriding<Outcome: Sendable>(
        id: String, integrationID: String, tenantID: String?, at now: Timestamp,
        answering change: @escaping @Sendable (Database, OverrideFacts, inout AuditLog) throws -> Outcome
    ) async throws -> (record: StoredRecord, outcome: Outcome) {
        try await writer.write { db in
            var filter = SQLFilter()
            filter.add("id = ?", id)
            filter.add("tenant_id = ?", tenantID)
            guard
                let row = try Row.fetchOne(
                    db, sql: "SELECT tenant_id, record_type, local_id, version FROM records \(filter.whereClause)",
                    arguments: filter.arguments)
            else { throw PersistenceError.notFound(entity: "record", id: id) }
            let recordTenant: String = row["tenant_id"]
            guard
                try Bool.fetchOne(
                    db, sql: "SELECT 1 FROM integration_configs WHERE id = ? AND tenant_id = ?",
                    arguments: [integrationID, recordTenant]) ?? false
            else { throw PersistenceError.notFound(entity: "integration", id: integrationID) }
            let link = try Row.fetchOne(
                db,
                sql: """
                    SELECT remote_id, local_version, status FROM synchronized_records
                    WHERE record_id = ? AND integration_id = ?
                    """,
                arguments: [id, integrationID])
            let facts = OverrideFacts(
                tenantID: recordTenant, recordType: row["record_type"], localID: row["local_id"],
                version: row["version"], remoteID: link?["remote_id"], syncedVersion: link?["local_version"],
                excluded: link?["status"] == "excluded")
            var audit = try AuditLog(db, key: auditKey)
            let outcome = try change(db, facts, &audit)
            let stored = try Row.fetchOne(
                db,
                sql: """
                    SELECT r.*, v.data FROM records r
                    JOIN record_versions v ON v.record_id = r.id AND v.version = r.version WHERE r.id = ?
                    """,
                arguments: [id])
            guard let stored else { throw PersistenceError.notFound(entity: "record", id: id) }
            return (try StoredRecord(row: stored, links: Self.links(recordID: id, db: db)), outcome)
        }
    }

    /// A push job of the record's newest version to the integration, its id.
    private static func pushAgain(_ facts: OverrideFacts, integrationID: String, at now: Timestamp, db: Database)
        throws -> String
    {
        let target = try pushTarget(integrationID: integrationID, db: db)
        let jobID = Identifiers.make("job")
        try db.execute(
            sql: """
                INSERT INTO jobs (id, integration_id, tenant_id, kind, record_id, record_type, local_id, version,
                    status, max_attempts, next_attempt_at, created_at, updated_at)
                SELECT ?, ?, ?, 'push', id, record_type, local_id, version, 'pending', ?, ?, ?, ?
                FROM records WHERE tenant_id = ? AND record_type = ? AND local_id = ?
                """,
            arguments: [
                jobID, integrationID, facts.tenantID, target.maxAttempts, now.microsecondsSinceEpoch, now.rfc3339,
                now.rfc3339, facts.tenantID, facts.recordType, facts.localID,
            ])
        return jobID
    }
}
