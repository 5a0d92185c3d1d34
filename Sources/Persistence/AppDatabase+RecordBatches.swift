import Accounting
import Foundation
import GRDB

extension AppDatabase {
    /// Ids one statement names at most (`IN (…)`), well under SQLite's limit of bound parameters.
    static let recordBatchSize = 500

    /// The records of `ids` at their newest versions, each with its links, by id: a few statements for many records
    /// (an export's thousands) instead of two a record, in one read. An id of no record, or of another tenant's
    /// when `tenantID` is given, is absent.
    public func records(ids: [String], tenantID: String? = nil) async throws -> [String: StoredRecord] {
        let unique = Array(Set(ids))
        guard !unique.isEmpty else { return [:] }
        return try await writer.read { db in
            var found: [String: StoredRecord] = [:]
            found.reserveCapacity(unique.count)
            for start in stride(from: 0, to: unique.count, by: Self.recordBatchSize) {
                let chunk = Array(unique[start..<min(unique.count, start + Self.recordBatchSize)])
                let marks = databaseQuestionMarks(count: chunk.count)
                var links: [String: [RecordLink]] = [:]
                let linkRows = try Row.fetchCursor(
                    db,
                    sql: """
                        SELECT * FROM synchronized_records WHERE record_id IN (\(marks))
                        ORDER BY record_id, integration_id
                        """,
                    arguments: StatementArguments(chunk))
                while let row = try linkRows.next() {
                    links[row["record_id"], default: []].append(Self.link(row))
                }
                var arguments = StatementArguments(chunk)
                var tenantClause = ""
                if let tenantID {
                    tenantClause = " AND r.tenant_id = ?"
                    arguments += [tenantID]
                }
                let rows = try Row.fetchCursor(
                    db,
                    sql: """
                        SELECT r.*, v.data FROM records r
                        JOIN record_versions v ON v.record_id = r.id AND v.version = r.version
                        WHERE r.id IN (\(marks))\(tenantClause)
                        """,
                    arguments: arguments)
                while let row = try rows.next() {
                    let id: String = row["id"]
                    found[id] = try StoredRecord(row: row, links: links[id] ?? [])
                }
            }
            return found
        }
    }
}
