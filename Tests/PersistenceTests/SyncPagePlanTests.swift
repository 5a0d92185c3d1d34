import GRDB
import Testing

@testable import Persistence

/// A full sync's page is a range of an index, not a scan and sort of every record of its type, and each record's
/// open jobs are found by the record, not among every open job of the integration: 50,000 records are
/// a few hundred pages, and each must cost the same whatever the checkpoint.
@Suite struct SyncPagePlanTests {
    @Test func aPageOfAFullSyncIsARangeOfTheRecordsOfItsTypeInOrder() throws {
        let queue = try DatabaseQueue()
        try AppDatabase.migrator(auditKey: .random()).migrate(queue)
        let details = try queue.read { db in
            try Row.fetchAll(
                db, sql: "EXPLAIN QUERY PLAN " + AppDatabase.syncPageQuery,
                arguments: [
                    "integration": "int_1", "tenant": "school-1", "type": "invoice", "after": 500, "limit": 500,
                ]
            ).map { $0["detail"] as String }
        }
        #expect(
            details.contains {
                $0.contains("USING INDEX records_type_order (tenant_id=? AND record_type=? AND rowid>?)")
            }, "\(details)")
        #expect(
            details.contains { $0.contains("SEARCH j USING INDEX jobs_record (integration_id=? AND record_id=?)") },
            "\(details)")
        #expect(!details.contains { $0.contains("TEMP B-TREE") }, "\(details)")
        #expect(!details.contains { $0.hasPrefix("SCAN") }, "\(details)")
    }
}
