import GRDB
import Testing

@testable import Persistence

/// A search of records reads indexes only, whatever the store holds: no table is scanned (a scan of a million
/// records' versions is seconds, a page must be milliseconds).
@Suite struct RecordSearchPlanTests {
    @Test func everyWayOfFindingARecordIsAnIndexLookup() throws {
        let queue = try DatabaseQueue()
        try AppDatabase.migrator(auditKey: .random()).migrate(queue)
        let details = try queue.read { db in
            try Row.fetchAll(
                db,
                sql: "EXPLAIN QUERY PLAN "
                    + AppDatabase.recordSearch("WHERE r.tenant_id = ? AND r.record_type = ? AND r.rowid > ?"),
                arguments: ["GF-0001", "gf-0001", "school-1", "invoice", 0, 51]
            ).map { $0["detail"] as String }
        }
        // Only the small intermediate results are walked: the hits, and the customers a name found.
        let scans = details.filter { $0.hasPrefix("SCAN") && !["SCAN h", "SCAN n"].contains($0) }
        #expect(scans.isEmpty, "\(details)")
        // The term typed, a name's range, and the records of each customer named: the key each time.
        #expect(details.filter { $0.contains("USING PRIMARY KEY (term") }.count == 3, "\(details)")
    }
}
