public import Accounting
import GRDB

/// The books' record a push of billing's record turned out to be already: linked, not written.
public struct BooksCopy: Sendable, Hashable {
    public var remoteID: String
    /// The books' version of it, as last heard: the link remembers it, so its echo is recognised.
    public var remoteVersion: String?
}

extension AppDatabase {
    /// Finds the record in the books that a claimed push would only write again, and links billing's record to it.
    ///
    /// The loop it closes: a payment (or credit note) entered in the books is told to billing
    /// (`ledger.payment.recorded`), billing books it and sends it back (`payment.received`). Billing's record is then
    /// linked to the books' record it came from, which matches it (`RecordMatch`: same customer, invoice allocations,
    /// amount, currency, date, reference when billing gives one) and is not linked to another record yet. Likewise a
    /// linked record whose newest version billing sends with the content the books were last heard to hold (an
    /// invoice changed in the books, then sent back by billing as `invoice.updated`) needs no write. Link and audit in
    /// one transaction, so two of billing's records can never take the same record of the books.
    ///
    /// - Returns: the books' record, or `nil` when the push must be made.
    public func linkToBooksCopy(of claimed: ClaimedJob, at now: Timestamp) async throws -> BooksCopy? {
        guard claimed.action != .void, let recordType = RecordType(rawValue: claimed.job.recordType),
            RecordMatch.compares(recordType)
        else { return nil }
        let job = claimed.job
        // Records only billing originates, and records never heard from the books, cost one read at most: a full
        // sync's creates never wait for the writer here.
        let originates = recordType == .payment || recordType == .creditNote
        if claimed.remoteID == nil && !originates { return nil }
        let heardOf = try await writer.read { db in
            try Bool.fetchOne(
                db,
                sql: """
                    SELECT 1 FROM remote_changes
                    WHERE integration_id = ? AND record_type = ? AND status IN ('applied', 'echo')
                        AND (remote_id = ? OR (? IS NULL AND record_id IS NULL AND deleted = 0))
                    LIMIT 1
                    """,
                arguments: [job.integrationID, recordType.rawValue, claimed.remoteID, claimed.remoteID]) ?? false
        }
        guard heardOf else { return nil }
        return try await writer.write { db in
            let translation = try Self.translation(
                of: claimed.data, recordType: recordType, integrationID: job.integrationID, tenantID: job.tenantID,
                db: db)
            func agrees(_ row: Row, writtenFields: Bool) -> Bool {
                guard let books = try? JSONValue(parsing: Array((row["data"] as String).utf8)) else { return false }
                return RecordMatch.agrees(
                    recordType, billing: claimed.data, books: books, translation: translation,
                    writtenFields: writtenFields)
            }
            let link = try Row.fetchOne(
                db,
                sql:
                    "SELECT remote_id, remote_version FROM synchronized_records WHERE record_id = ? AND integration_id = ?",
                arguments: [job.recordID, job.integrationID])
            var audit = try AuditLog(db, key: auditKey)
            if let remoteID = link?["remote_id"] as String? {
                // The books' newest state as heard, if it is the version the link knows (nothing written since).
                guard
                    let heard = try Row.fetchOne(
                        db,
                        sql: """
                            SELECT data, remote_version, deleted FROM remote_changes
                            WHERE integration_id = ? AND record_type = ? AND remote_id = ?
                                AND status IN ('applied', 'echo')
                            ORDER BY seq DESC LIMIT 1
                            """,
                        arguments: [job.integrationID, recordType.rawValue, remoteID]),
                    heard["remote_version"] as String? == link?["remote_version"] as String?,
                    !(heard["deleted"] as Bool), agrees(heard, writtenFields: true)
                else { return nil }
                try audit.append(
                    db, at: now, tenantID: job.tenantID, integrationID: job.integrationID, recordID: job.recordID,
                    actor: "worker", action: "push.unneeded", entityType: recordType.rawValue, entityID: job.localID,
                    oldValue: nil,
                    newValue: JSONValue.object([
                        "job_id": .string(job.id), "remote_id": .string(remoteID),
                        "reason": "the books already hold this version",
                    ]).canonicalString)
                return BooksCopy(remoteID: remoteID, remoteVersion: link?["remote_version"])
            }
            // Records the books can originate: the newest state of each one told to billing and not yet linked.
            guard recordType == .payment || recordType == .creditNote else { return nil }
            let candidates = try Row.fetchAll(
                db,
                sql: """
                    SELECT c.seq, c.remote_id, c.remote_version, c.data FROM remote_changes c
                    WHERE c.integration_id = ? AND c.record_type = ? AND c.status = 'applied' AND c.deleted = 0
                        AND c.record_id IS NULL
                        AND c.seq = (
                            SELECT MAX(d.seq) FROM remote_changes d
                            WHERE d.integration_id = c.integration_id AND d.record_type = c.record_type
                                AND d.remote_id = c.remote_id AND d.status <> 'pending')
                        AND NOT EXISTS (
                            SELECT 1 FROM synchronized_records s JOIN records r ON r.id = s.record_id
                            WHERE s.integration_id = c.integration_id AND s.remote_id = c.remote_id
                                AND r.record_type = c.record_type)
                    ORDER BY c.seq
                    """,
                arguments: [job.integrationID, recordType.rawValue])
            guard let match = candidates.first(where: { agrees($0, writtenFields: false) }) else { return nil }
            let remoteID: String = match["remote_id"]
            let remoteVersion: String = match["remote_version"]
            try Self.linkSynced(job, remoteID: remoteID, remoteVersion: remoteVersion, at: now, db: db)
            try db.execute(
                sql: """
                    UPDATE remote_changes SET record_id = ?
                    WHERE integration_id = ? AND record_type = ? AND remote_id = ? AND record_id IS NULL
                    """,
                arguments: [job.recordID, job.integrationID, recordType.rawValue, remoteID])
            try audit.append(
                db, at: now, tenantID: job.tenantID, integrationID: job.integrationID, recordID: job.recordID,
                actor: "worker", action: "record.linked", entityType: recordType.rawValue, entityID: job.localID,
                oldValue: nil,
                newValue: JSONValue.object([
                    "job_id": .string(job.id), "remote_id": .string(remoteID),
                    "remote_version": .string(remoteVersion), "reason": "it came from the books",
                ]).canonicalString)
            return BooksCopy(remoteID: remoteID, remoteVersion: remoteVersion)
        }
    }

    /// Billing's references (the records `data` refers to) and codes, in one integration's ids.
    static func translation(
        of data: JSONValue, recordType: RecordType, integrationID: String, tenantID: String, db: Database
    ) throws -> RecordMatch.Translation {
        var remoteIDs: [RecordReference: String] = [:]
        for reference in RecordReference.dependencies(of: recordType, data: data) {
            remoteIDs[reference] = try String.fetchOne(
                db,
                sql: """
                    SELECT l.remote_id FROM records r
                    JOIN synchronized_records l ON l.record_id = r.id AND l.integration_id = ?
                    WHERE r.tenant_id = ? AND r.record_type = ? AND r.local_id = ?
                    """,
                arguments: [integrationID, tenantID, reference.recordType.rawValue, reference.localID])
        }
        return RecordMatch.Translation(
            remoteIDs: remoteIDs, mappings: try fetchMappings(integrationID: integrationID, db: db))
    }

    /// Billing's id of the record the books know as `remoteID` in an integration.
    static func billingID(remoteID: String?, type: RecordType, integrationID: String, db: Database) throws -> String? {
        guard let remoteID else { return nil }
        return try String.fetchOne(
            db,
            sql: """
                SELECT r.local_id FROM synchronized_records s JOIN records r ON r.id = s.record_id
                WHERE s.integration_id = ? AND s.remote_id = ? AND r.record_type = ?
                """,
            arguments: [integrationID, remoteID, type.rawValue])
    }
}

extension AppDatabase {
    /// Billing's id of the record each of `remoteIDs` (records of one type in an integration's books) is linked to,
    /// for those linked to one: what a create may not adopt (`Adoption`).
    public func billingRecords(
        linkedTo remoteIDs: Set<String>, recordType: RecordType, integrationID: String
    ) async throws -> [String: String] {
        guard !remoteIDs.isEmpty else { return [:] }
        return try await writer.read { db in
            var linked: [String: String] = [:]
            let ids = remoteIDs.sorted()
            // Within SQLite's bound-parameter limit, a chunk at a time.
            for start in stride(from: 0, to: ids.count, by: 500) {
                let chunk = Array(ids[start..<min(start + 500, ids.count)])
                let rows = try Row.fetchAll(
                    db,
                    sql: """
                        SELECT s.remote_id, r.local_id FROM synchronized_records s JOIN records r ON r.id = s.record_id
                        WHERE s.integration_id = ? AND r.record_type = ?
                            AND s.remote_id IN (\(databaseQuestionMarks(count: chunk.count)))
                        """,
                    arguments: StatementArguments([integrationID, recordType.rawValue] + chunk))
                for row in rows { linked[row[0]] = row[1] }
            }
            return linked
        }
    }
}
