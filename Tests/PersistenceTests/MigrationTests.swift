import Accounting
import GRDB
import Testing

@testable import Persistence

@Suite struct MigrationTests {
    /// A database written before "0003 lean ingestion writes" keeps every record and version.
    @Test func leanWritesMigrationKeepsEveryVersion() async throws {
        let queue = try DatabaseQueue()
        try AppDatabase.migrator.migrate(queue, upTo: "0002 ingestion")
        try await queue.write { db in
            try db.execute(
                sql: """
                    INSERT INTO records (id, tenant_id, record_type, local_id, version, action, source_updated_at, data,
                        created_at, updated_at)
                    VALUES ('rec_1', 'school', 'customer', 'c1', 2, 'upsert', 200, '{"name":"Asha R."}',
                        '2026-11-01T00:00:00Z', '2026-11-02T00:00:00Z');
                    INSERT INTO record_versions (record_id, version, action, source_updated_at, data, delivery_id, created_at)
                    VALUES ('rec_1', 1, 'upsert', 100, '{"name":"Asha"}', 'dlv_1', '2026-11-01T00:00:00Z'),
                        ('rec_1', 2, 'upsert', 200, '{"name":"Asha R."}', 'dlv_2', '2026-11-02T00:00:00Z');
                    """
            )
        }
        let database = try AppDatabase(queue)
        #expect(try await database.appliedMigrations().contains("0003 lean ingestion writes"))
        let versions = try await database.recordVersions(recordID: "rec_1", page: PageRequest())
        #expect(versions.items.map(\.version) == [1, 2])
        #expect(versions.items.map { $0.data["name"] } == ["Asha", "Asha R."])
        #expect(versions.items.map(\.deliveryID) == ["dlv_1", "dlv_2"])
        // The record no longer keeps a copy of its data: it is read from its current version.
        let record = try #require(try await database.record(id: "rec_1"))
        #expect(record.version == 2 && record.data["name"] == "Asha R.")
        let tables = try await queue.read { db in try String.fetchAll(db, sql: "SELECT name FROM sqlite_schema") }
        #expect(!tables.contains("commands"))
    }
}
