import Accounting
import GRDB
import TestSupport
import Testing

@testable import Persistence

/// A stored integration names a platform this build has no connector for, or a name no platform can have: it is
/// never read as QuickBooks (issue 14).
@Suite struct UnknownPlatformTests {
    @Test func anIntegrationOfAnUnknownPlatformIsAnErrorNeverQuickBooks() async throws {
        let database = try AppDatabase.inMemory()
        let known = try await database.createIntegration(
            tenantID: "greenfield", platform: .quickBooksOnline, name: "Books", actor: "test")
        try await database.writer.write { db in
            try db.execute(
                sql: """
                    INSERT INTO integration_configs (id, tenant_id, platform, name, status, created_at, updated_at)
                    VALUES ('int_future', 'greenfield', 'freshbooks', 'Future', 'connected', '2026-11-01T00:00:00Z',
                        '2026-11-01T00:00:00Z'),
                    ('int_garbled', 'greenfield', 'Quick Books!', 'Garbled', 'connected', '2026-11-01T00:00:00Z',
                        '2026-11-01T00:00:00Z')
                    """)
        }
        // A platform of another build (no connector here: its jobs are never claimed) reads as itself.
        #expect(try await database.integration(id: "int_future")?.platform.rawValue == "freshbooks")
        do {
            let read = try await database.integration(id: "int_garbled")?.platform
            Issue.record("a garbled platform was read as \(String(describing: read))")
        } catch let error as Persistence.PersistenceError {
            #expect(error == .unknownPlatform(integrationID: "int_garbled", platform: "Quick Books!"))
        }
        // The known one still reads.
        #expect(try await database.integration(id: known.id)?.platform == .quickBooksOnline)
    }

    @Test func aNotificationOfAnUnknownRecordTypeIsNeverReadAsAnInvoice() async throws {
        let database = try AppDatabase.inMemory()
        let integration = try await database.createIntegration(
            tenantID: "greenfield", platform: .quickBooksOnline, name: "Books", actor: "test")
        try await database.writer.write { db in
            try db.execute(
                sql: "UPDATE integration_configs SET status = 'connected' WHERE id = ?", arguments: [integration.id])
            for (id, type) in [("ntf_1", "expense"), ("ntf_2", "invoice")] {
                try db.execute(
                    sql: """
                        INSERT INTO ledger_notifications (id, delivery_id, integration_id, idempotency_key, record_type,
                            remote_id, operation, occurred_at, status, next_attempt_at, created_at)
                        VALUES (?, 'dlv_1', ?, ?, ?, '130', 'Update', 1, 'pending', 0, '2026-11-01T00:00:00Z')
                        """,
                    arguments: [id, integration.id, "key-\(id)", type])
            }
        }
        let due = try await database.dueLedgerNotifications(limit: 10, at: .now())
        #expect(due.map(\.id) == ["ntf_2"])
        #expect(due.map(\.recordType) == [.invoice])
    }
}
