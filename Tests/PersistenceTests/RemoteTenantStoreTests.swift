import Accounting
import GRDB
import Testing

@testable import Persistence

/// One active integration per platform company, enforced by the database (issue 11, item 6).
@Suite struct RemoteTenantStoreTests {
    /// A database where one realm was connected to two integrations (routing picked the oldest) upgrades: the oldest
    /// keeps it, and the database refuses a second active holder whatever the code does.
    @Test func theMigrationKeepsTheOldestHolderAndTheIndexRefusesASecond() async throws {
        let queue = try DatabaseQueue()
        let key = AuditKey.random()
        try AppDatabase.migrator(auditKey: key).migrate(queue, upTo: "0013 delivery body history")
        try await queue.write { db in
            try db.execute(
                sql: """
                    INSERT INTO integration_configs (id, tenant_id, platform, name, status, created_at, updated_at)
                    VALUES ('int_old', 'greenfield', 'quickbooks_online', 'A', 'connected', '2026-11-01T00:00:00Z',
                            '2026-11-01T00:00:00Z'),
                        ('int_new', 'riverside', 'quickbooks_online', 'B', 'connected', '2026-11-02T00:00:00Z',
                            '2026-11-02T00:00:00Z');
                    INSERT INTO integration_credentials (integration_id, sealed_tokens, access_expires_at,
                        remote_tenant_id, generation, updated_at)
                    VALUES ('int_old', X'00', 0, 'realm-1', 1, '2026-11-01T00:00:00Z'),
                        ('int_new', X'00', 0, 'realm-1', 1, '2026-11-02T00:00:00Z');
                    """)
        }
        let database = try AppDatabase(queue, auditKey: key)
        #expect(try await database.integration(platform: .quickBooksOnline, remoteTenantID: "realm-1")?.id == "int_old")
        let error = await #expect(throws: DatabaseError.self) {
            try await queue.write { db in
                try db.execute(sql: "UPDATE integration_configs SET remote_tenant_id = 'realm-1' WHERE id = 'int_new'")
            }
        }
        #expect(error?.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE)
        // A disabled integration holds nothing: the company goes to the other.
        try await queue.write { db in
            try db.execute(sql: "UPDATE integration_configs SET status = 'disabled' WHERE id = 'int_old'")
            try db.execute(sql: "UPDATE integration_configs SET remote_tenant_id = 'realm-1' WHERE id = 'int_new'")
        }
        #expect(try await database.integration(platform: .quickBooksOnline, remoteTenantID: "realm-1")?.id == "int_new")
    }
}
