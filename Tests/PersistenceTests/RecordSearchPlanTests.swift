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
        let scans = details.filter {
            $0.hasPrefix("SCAN") && !["SCAN h", "SCAN c", "SCAN customers", "SCAN CONSTANT ROW"].contains($0)
        }
        #expect(scans.isEmpty, "\(details)")
        for index in ["record_versions_number", "record_versions_customer", "record_versions_name", "records_local_id"]
        {
            #expect(details.contains { $0.contains(index) }, "\(index) unused: \(details)")
        }
    }
}
