import Accounting
import GRDB

/// What the dashboard finds records and codes by (`record_search`, `billing_codes`) is kept behind ingestion, not in
/// its transaction: writing it there cost a fifth of ingestion's throughput (docs/performance.md). The versions
/// stored since the last pass are read in `seq` order; a page that reads the index first brings it up to date, and
/// `RecordIndexService` does so every second.
extension AppDatabase {
    /// Indexes up to `limit` stored versions the index has not read yet, in one transaction.
    /// - Returns: how many it read (`limit`: there may be more).
    @discardableResult
    public func indexRecordVersions(limit: Int = 10_000) async throws -> Int {
        try await writer.write { db in
            let after = try Int64.fetchOne(db, sql: "SELECT last_seq FROM record_index WHERE id = 1") ?? 0
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT v.seq, v.record_id, v.data, r.tenant_id, r.record_type, r.local_id
                    FROM record_versions v CROSS JOIN records r ON r.id = v.record_id
                    WHERE v.seq > ? ORDER BY v.seq LIMIT ?
                    """,
                arguments: [after, limit])
            guard let last: Int64 = rows.last?["seq"] else { return 0 }
            for row in rows {
                let data = (try? JSONValue(parsing: Array((row["data"] as String).utf8))) ?? .null
                try Self.rememberSearchTerms(recordID: row["record_id"], localID: row["local_id"], data: data, db: db)
                if let recordType = RecordType(rawValue: row["record_type"]) {
                    try Self.rememberBillingCodes(
                        tenantID: row["tenant_id"], recordType: recordType, data: data, db: db)
                }
            }
            try db.execute(
                sql: """
                    INSERT INTO record_index (id, last_seq) VALUES (1, ?)
                    ON CONFLICT (id) DO UPDATE SET last_seq = excluded.last_seq
                    """,
                arguments: [last])
            return rows.count
        }
    }
}
