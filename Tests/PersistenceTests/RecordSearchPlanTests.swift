import GRDB
import Testing

@testable import Persistence

/// A search of records reads indexes only, whatever the store holds: no table is scanned (a scan of a million
/// records' versions is seconds, a page must be milliseconds).
@Suite struct RecordSearchPlanTests {
    @Test(arguments: [true, false]) func everyWayOfFindingARecordIsAnIndexLookup(oneTenant: Bool) throws {
        let queue = try DatabaseQueue()
        try AppDatabase.migrator(auditKey: .random()).migrate(queue)
        let details = try queue.read { db in
            try Row.fetchAll(
                db,
                sql: "EXPLAIN QUERY PLAN "
                    + AppDatabase.recordSearch(
                        "WHERE r.tenant_id = ? AND r.record_type = ? AND r.rowid > ?", oneTenant: oneTenant),
                arguments: ["GF-0001", "gf-0001"] + (oneTenant ? ["school-1"] : []) + ["school-1", "invoice", 0, 51]
            ).map { $0["detail"] as String }
        }
        // Only the small intermediate results are walked: the tenants, the hits, and the customers a name found.
        let intermediate = ["SCAN h", "SCAN n", "SCAN named", "SCAN t", "SCAN CONSTANT ROW"]
        let scans = details.filter { $0.hasPrefix("SCAN") && !intermediate.contains($0) }
        #expect(scans.isEmpty, "\(details)")
        // Billing's id in each tenant's part of `records`' own key, and the tenants found by stepping through it.
        #expect(
            details.filter {
                $0.contains(
                    "SEARCH r USING INDEX sqlite_autoindex_records_2 (tenant_id=? AND record_type=? AND local_id=?)")
            }.count == 1,
            "\(details)")
        // The term typed, a name's range, and the records of each customer named: the key each time.
        #expect(details.filter { $0.contains("USING PRIMARY KEY (term") }.count == 3, "\(details)")
    }

    /// Ingestion asks once per transaction whether any job waits for a record billing has not sent: a probe of the
    /// partial index of waiting jobs, however many jobs there are.
    @Test func whetherAJobAwaitsAnUnsentRecordIsOneIndexProbe() throws {
        let queue = try DatabaseQueue()
        try AppDatabase.migrator(auditKey: .random()).migrate(queue)
        let details = try queue.read { db in
            try Row.fetchAll(
                db, sql: "EXPLAIN QUERY PLAN " + AppDatabase.WriteState.unsentAwaitedQuery,
                arguments: [AppDatabase.unsentWaitPrefix, AppDatabase.unsentWaitPrefix]
            ).map { $0["detail"] as String }
        }
        #expect(
            details.contains { $0.contains("USING COVERING INDEX jobs_waiting_for (waiting_for>? AND waiting_for<?)") },
            "\(details)")
        #expect(!details.contains { $0.hasPrefix("SCAN") && $0 != "SCAN CONSTANT ROW" }, "\(details)")
    }
}
