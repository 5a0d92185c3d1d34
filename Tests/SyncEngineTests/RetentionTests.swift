import Accounting
import Connectors
import GRDB
import SyncEngine
import TestSupport
import Testing

@testable import Persistence

@Suite struct RetentionTests: SyncScenario {
    let clock = ManualClock()
    let tenant = "school"

    @Test func historyOlderThanTheRetentionIsPrunedAndTheAuditChainStillVerifies() async throws {
        let (database, _) = try await setUp()
        let connector = ScriptedConnector(failing: [.validation(code: "6000", message: "A business validation error")])
        try await deliver(database, "msg_old", [invoice("inv_1")])
        try await drain(engine(database, connector), database)
        #expect(try await events(database, .syncFailed).count == 1)
        #expect(try await database.jobs(status: .failed, page: PageRequest()).items.count == 1)

        // Three years and a day later, new work arrives; then retention runs.
        clock.advance(by: .days(3 * 365 + 1))
        try await deliver(database, "msg_new", [invoice("inv_1", total: "59000.00", at: 1_900_000_000)])
        try await drain(engine(database, connector), database)
        let summary = try await runner(database, connector).pruneHistory(olderThan: .days(3 * 365))
        #expect(summary.jobs == 1 && summary.events == 1 && summary.deliveries == 2)
        #expect(summary.auditEntries > 0)
        let remaining = try await database.jobs(page: PageRequest()).items
        #expect(remaining.count == 1 && remaining.first?.version == 2 && remaining.first?.status == .succeeded)
        // The records themselves stay, with every version.
        let invoice = try #require(try await database.records(localID: "inv_1", page: PageRequest()).items.first)
        #expect(try await database.recordVersions(recordID: invoice.id, page: PageRequest()).items.count == 2)
        #expect(try await database.verifyAuditChain() == .intact(entries: 2))

        // Removing the oldest remaining entry any other way is refused; dropping the trigger first is detected.
        await #expect(throws: DatabaseError.self) {
            try await database.writer.write { db in
                try db.execute(
                    sql: "DELETE FROM integration_audit_log WHERE seq = (SELECT MIN(seq) FROM integration_audit_log)")
            }
        }
        try await database.writer.write { db in
            try db.execute(sql: "DROP TRIGGER integration_audit_log_no_delete")
            try db.execute(
                sql: "DELETE FROM integration_audit_log WHERE seq = (SELECT MIN(seq) FROM integration_audit_log)")
        }
        guard case .broken(_, _, let reason) = try await database.verifyAuditChain() else {
            Issue.record("a removed entry went unnoticed")
            return
        }
        #expect(reason.contains("retention"))
    }

    @Test func withoutPruningTheFirstEntryMustStartTheChain() async throws {
        let (database, _) = try await setUp()
        try await deliver(database, "msg_1", [invoice("inv_1")])
        try await database.writer.write { db in
            try db.execute(sql: "DROP TRIGGER integration_audit_log_no_delete")
            try db.execute(
                sql: "DELETE FROM integration_audit_log WHERE seq = (SELECT MIN(seq) FROM integration_audit_log)")
        }
        guard case .broken(_, _, let reason) = try await database.verifyAuditChain() else {
            Issue.record("a removed first entry went unnoticed")
            return
        }
        #expect(reason.contains("does not start the chain"))
    }

    @Test func fetchedNotificationsAndUnroutableDeliveriesGoAfterTheirShorterRetention() async throws {
        let (database, integrations) = try await setUp()
        let received = clock.now()
        func platformDelivery(_ id: String, routed: Bool) async throws {
            let notifications =
                routed
                ? [
                    LedgerNotification(
                        integrationID: integrations[0].id, recordType: .invoice, remoteID: "130", operation: "update",
                        occurredAt: received, idempotencyKey: "quickbooks/1/invoice/130/update/\(id)")
                ] : []
            _ = try await database.recordPlatformDelivery(
                source: "quickbooks", webhookID: id, receivedAt: received, tenantID: nil, eventType: nil,
                headers: [:], body: Array("{}".utf8), notifications: notifications,
                unroutable: routed ? [] : [FieldError(field: "realmId", message: "no integration for realm 999")])
        }
        try await platformDelivery("wh_routed", routed: true)
        try await platformDelivery("wh_unknown_realm", routed: false)
        let due = try await database.dueLedgerNotifications(limit: 10, at: received)
        try await database.markLedgerNotificationsFetched(ids: due.map(\.id))

        // A month and a day later, with the long retention still years away.
        clock.advance(by: .days(31))
        let summary = try await runner(database, ScriptedConnector()).pruneHistory(
            olderThan: .days(3 * 365), shortRetention: .days(30))
        #expect(summary.notifications == due.count && due.count == 1)
        #expect(summary.deliveries == 1)
        let left = try await database.writer.read { db in
            try String.fetchAll(db, sql: "SELECT status FROM deliveries WHERE source = 'quickbooks'")
        }
        #expect(left == ["accepted"])
    }
}
