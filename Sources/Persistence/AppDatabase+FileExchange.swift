public import Accounting
import GRDB

/// The file exchange of a platform with no network API (Sage 50): an export marks the records it holds `exported`
/// (the link's status, with the version exported); an import of the platform's own export confirms them (`synced`,
/// the platform's id as remote id, their jobs `succeeded`). Nothing is synced by an export alone.
extension AppDatabase {
    /// A record an export holds: its id, the version written and the id it goes by in the file, if it has one
    /// (a Sage 50 customer's A/C).
    public struct ExportedRecord: Sendable, Hashable {
        public var recordID: String
        public var version: Int
        public var remoteID: String?

        public init(recordID: String, version: Int, remoteID: String?) {
            self.recordID = recordID
            self.version = version
            self.remoteID = remoteID
        }
    }

    /// A record the platform's export shows: its id there and that copy's version.
    public struct ConfirmedRecord: Sendable, Hashable {
        public var recordID: String
        public var remoteID: String
        public var remoteVersion: String?

        public init(recordID: String, remoteID: String, remoteVersion: String?) {
            self.recordID = recordID
            self.remoteID = remoteID
            self.remoteVersion = remoteVersion
        }
    }

    /// Where one of an integration's records stands in its link.
    public struct LinkState: Sendable, Hashable {
        public var recordID: String
        public var recordType: String
        public var localID: String
        /// `exported`, `synced`, `excluded`, …
        public var status: String
        /// The version exported or synced.
        public var version: Int?
        public var remoteID: String?
    }

    /// Where each of the integration's records stands in its link, by record id.
    public func linkStates(integrationID: String) async throws -> [String: LinkState] {
        try await writer.read { db in
            var states: [String: LinkState] = [:]
            let rows = try Row.fetchCursor(
                db,
                sql: """
                    SELECT s.record_id, r.record_type, r.local_id, s.status, s.local_version, s.remote_id
                    FROM synchronized_records s JOIN records r ON r.id = s.record_id
                    WHERE s.integration_id = ?
                    """,
                arguments: [integrationID])
            while let row = try rows.next() {
                let state = LinkState(
                    recordID: row[0], recordType: row[1], localID: row[2], status: row[3], version: row[4],
                    remoteID: row[5])
                states[state.recordID] = state
            }
            return states
        }
    }

    /// Where each of `recordIDs` stands in its link to the integration, by record id (those with no link left out).
    public func linkStates(recordIDs: Set<String>, integrationID: String) async throws -> [String: LinkState] {
        guard !recordIDs.isEmpty else { return [:] }
        return try await writer.read { db in
            var states: [String: LinkState] = [:]
            let statement = try db.cachedStatement(
                sql: """
                    SELECT s.record_id, r.record_type, r.local_id, s.status, s.local_version, s.remote_id
                    FROM synchronized_records s JOIN records r ON r.id = s.record_id
                    WHERE s.record_id = ? AND s.integration_id = ?
                    """)
            for recordID in recordIDs {
                guard let row = try Row.fetchOne(statement, arguments: [recordID, integrationID]) else { continue }
                states[recordID] = LinkState(
                    recordID: row[0], recordType: row[1], localID: row[2], status: row[3], version: row[4],
                    remoteID: row[5])
            }
            return states
        }
    }

    /// How many of a file-exchange integration's records wait for each step: those with open work (pending, running
    /// or awaiting the platform) that no download holds yet, and those downloaded and not yet confirmed. Counted in
    /// the database, one record once, whatever the backlog.
    public func fileExchangeCounts(integrationID: String) async throws -> FileExchangeCounts {
        try await writer.read { db in
            let waiting =
                try Int.fetchOne(
                    db,
                    sql: """
                        SELECT COUNT(DISTINCT j.record_id) FROM jobs j
                        LEFT JOIN synchronized_records s
                            ON s.record_id = j.record_id AND s.integration_id = j.integration_id
                        WHERE j.integration_id = ? AND j.status IN ('pending', 'running', 'awaiting_platform')
                            AND (s.status IS NULL OR s.status != 'exported')
                        """,
                    arguments: [integrationID]) ?? 0
            let exported =
                try Int.fetchOne(
                    db,
                    sql: "SELECT COUNT(*) FROM synchronized_records WHERE integration_id = ? AND status = 'exported'",
                    arguments: [integrationID]) ?? 0
            return FileExchangeCounts(waitingForExport: waiting, awaitingImport: exported)
        }
    }

    /// Marks `records` exported, in one transaction: each link `exported` at the version written, keeping a remote id
    /// it had and taking the one given when it had none. A link already `synced` at that version, or `excluded`, is
    /// left as it is. A download marks what it holds a page at a time and audits itself once (`recordExport`).
    public func markExported(_ records: [ExportedRecord], integrationID: String) async throws {
        guard !records.isEmpty else { return }
        try await writer.write { db in
            let upsert = try db.cachedStatement(
                sql: """
                    INSERT INTO synchronized_records (id, record_id, integration_id, remote_id, status, local_version)
                    VALUES (?, ?, ?, ?, 'exported', ?)
                    ON CONFLICT (record_id, integration_id) DO UPDATE SET
                        remote_id = COALESCE(remote_id, excluded.remote_id),
                        status = CASE
                            WHEN status = 'excluded' THEN status
                            WHEN status = 'synced' AND COALESCE(local_version, 0) >= excluded.local_version THEN status
                            ELSE 'exported' END,
                        local_version = CASE WHEN status = 'synced' THEN MAX(COALESCE(local_version, 0),
                            excluded.local_version) ELSE excluded.local_version END
                    """)
            for record in records {
                try upsert.execute(arguments: [
                    Identifiers.make("lnk"), record.recordID, integrationID, record.remoteID, record.version,
                ])
            }
        }
    }

    /// A job a download holds: the newest of its record's.
    public struct ExportJob: Sendable, Hashable {
        /// Where the job stands in the order work arrived: the cursor of the next page.
        public var seq: Int64
        public var id: String
        public var recordID: String
        public var version: Int
    }

    /// A page of what a download of `integrationID`'s work holds, in the order the work arrived, after `seq`: of each
    /// record, its newest job (one record once). Without `since`, among the jobs not yet succeeded, leaving out a
    /// record whose link already holds that version (`exported` or `synced`); with `since`, among every job changed
    /// since then. `customers` picks the customers' jobs, or every other record type's. Worked out in the database,
    /// so a download of thousands holds one page at a time.
    public func exportJobs(
        integrationID: String, tenantID: String, customers: Bool, since: Timestamp?, after seq: Int64, limit: Int
    ) async throws -> [ExportJob] {
        let open = since == nil ? "status <> 'succeeded'" : "updated_at >= ?"
        var bound: StatementArguments = [integrationID, tenantID, seq, customers]
        if let since { bound += [since.rfc3339, since.rfc3339] }
        bound += [limit]
        let arguments = bound
        let notHeld =
            since != nil
            ? ""
            : """
            AND NOT EXISTS (
                SELECT 1 FROM synchronized_records s
                WHERE s.record_id = j.record_id AND s.integration_id = j.integration_id
                    AND s.status IN ('exported', 'synced') AND s.local_version >= j.version)
            """
        return try await writer.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT j.seq, j.id, j.record_id, j.version FROM jobs j
                    WHERE j.integration_id = ? AND j.tenant_id = ? AND j.seq > ? AND (j.record_type = 'customer') = ?
                        AND j.\(open)
                        AND NOT EXISTS (
                            SELECT 1 FROM jobs k
                            WHERE k.integration_id = j.integration_id AND k.record_id = j.record_id AND k.\(open)
                                AND (k.version > j.version OR (k.version = j.version AND k.seq > j.seq)))
                        \(notHeld)
                    ORDER BY j.seq LIMIT ?
                    """,
                arguments: arguments
            ).map { ExportJob(seq: $0[0], id: $0[1], recordID: $0[2], version: $0[3]) }
        }
    }

    /// The remote id (a Sage 50 A/C) of each of the tenant's customers in `localIDs` that has one in the
    /// integration, by billing's id.
    public func customerReferences(
        localIDs: Set<String>, integrationID: String, tenantID: String
    ) async throws -> [String: String] {
        guard !localIDs.isEmpty else { return [:] }
        return try await writer.read { db in
            var references: [String: String] = [:]
            let ids = Array(localIDs)
            for start in stride(from: 0, to: ids.count, by: Self.recordBatchSize) {
                let chunk = ids[start..<min(ids.count, start + Self.recordBatchSize)]
                let rows = try Row.fetchCursor(
                    db,
                    sql: """
                        SELECT r.local_id, s.remote_id FROM records r
                        JOIN synchronized_records s ON s.record_id = r.id AND s.integration_id = ?
                        WHERE r.tenant_id = ? AND r.record_type = 'customer' AND s.remote_id IS NOT NULL
                            AND r.local_id IN (\(databaseQuestionMarks(count: chunk.count)))
                        """,
                    arguments: [integrationID, tenantID] + StatementArguments(chunk))
                while let row = try rows.next() { references[row[0]] = row[1] }
            }
            return references
        }
    }

    /// Every remote id (Sage 50 A/C) the integration's customers go by: those a new customer's cannot be.
    public func customerReferencesInUse(integrationID: String) async throws -> Set<String> {
        try await writer.read { db in
            try Set(
                String.fetchCursor(
                    db,
                    sql: """
                        SELECT s.remote_id FROM synchronized_records s JOIN records r ON r.id = s.record_id
                        WHERE s.integration_id = ? AND r.record_type = 'customer' AND s.remote_id IS NOT NULL
                        """,
                    arguments: [integrationID]))
        }
    }

    /// Confirms `records` from the platform's own export, in one transaction with the audit entry of the upload
    /// (`integration.imported`, `summary` its new value): each exported link becomes `synced` with the platform's id,
    /// and the record's jobs up to the version exported `succeeded`. A link not `exported` is left as it is.
    /// - Returns: the records confirmed now (those already confirmed are not counted again).
    @discardableResult
    public func confirmImported(
        _ records: [ConfirmedRecord], integrationID: String, tenantID: String, summary: JSONValue, actor: String,
        at now: Timestamp = .now()
    ) async throws -> Int {
        try await writer.write { db in
            var confirmed = 0
            for record in records {
                try db.execute(
                    sql: """
                        UPDATE synchronized_records SET status = 'synced', remote_id = ?, remote_version = ?,
                            last_synced_at = ?
                        WHERE record_id = ? AND integration_id = ? AND status = 'exported'
                        """,
                    arguments: [record.remoteID, record.remoteVersion, now.rfc3339, record.recordID, integrationID])
                guard db.changesCount > 0 else { continue }
                confirmed += 1
                try db.execute(
                    sql: """
                        UPDATE jobs SET status = 'succeeded', remote_id = ?, lease_owner = NULL,
                            lease_expires_at = NULL, last_error_code = NULL, last_error_message = NULL, updated_at = ?
                        WHERE integration_id = ? AND record_id = ? AND status <> 'succeeded' AND version <= (
                            SELECT local_version FROM synchronized_records
                            WHERE record_id = ? AND integration_id = ?)
                        """,
                    arguments: [
                        record.remoteID, now.rfc3339, integrationID, record.recordID, record.recordID, integrationID,
                    ])
            }
            var audit = try AuditLog(db, key: auditKey)
            try audit.append(
                db, at: now, tenantID: tenantID, integrationID: integrationID, recordID: nil, actor: actor,
                action: "integration.imported", entityType: "integration", entityID: integrationID, oldValue: nil,
                newValue: summary.canonicalString)
            return confirmed
        }
    }
}

/// How many of a file-exchange integration's records wait for each step (`AppDatabase.fileExchangeCounts`).
public struct FileExchangeCounts: Sendable, Hashable {
    /// Records with open work no download holds yet.
    public var waitingForExport: Int
    /// Records downloaded and not yet confirmed by the platform's own export.
    public var awaitingImport: Int
}
