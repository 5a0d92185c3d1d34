import Accounting
import Connectors
import Persistence
import SyncEngine
import TestSupport
import Testing

/// The safety net: incremental syncs read the platform's change feed from a persisted cursor, on each
/// integration's interval.
@Suite struct IncrementalSyncTests: SyncScenario {
    let clock = ManualClock()
    let tenant = "school"

    func publishCustomers(_ connector: ScriptedConnector, _ count: Int) {
        for index in 1...count {
            connector.publish(
                .customer, remoteID: "X\(index)", updatedAt: Timestamp(secondsSinceEpoch: 1_795_000_000 + Int64(index)),
                data: ["name": .string("Walk-in \(index)")])
        }
    }

    @Test func theFeedIsReadFromItsCursorAndAFailedReadResumesThere() async throws {
        let (database, integrations) = try await setUp()
        let connector = ScriptedConnector(feedPageSize: 2)
        publishCustomers(connector, 5)
        connector.failFeed(
            [.retryable(code: "http_503", message: "Service Unavailable", retryAfter: nil)], afterReads: 1)
        let runner = runner(database, connector)

        let interrupted = try await poll(runner, database, integrations[0])
        #expect(interrupted.status == .running)
        #expect(interrupted.lastError?.code == "http_503")
        #expect(interrupted.recordsProcessed == 2)
        #expect(try await database.changeCursor(integrationID: integrations[0].id) == "2")
        // Not before its pause is over.
        #expect(try await runner.runDueOperation() == false)

        clock.advance(by: .seconds(120))
        #expect(try await runner.runDueOperation())
        let finished = try #require(try await database.syncOperation(id: interrupted.id, tenantID: nil))
        #expect(finished.status == .completed && finished.recordsProcessed == 5)
        #expect(connector.feedCursors == [nil, "2", "2", "4"])
        #expect(try await database.changeCursor(integrationID: integrations[0].id) == "5")
        #expect(try await database.integration(id: integrations[0].id)?.lastSyncAt == clock.now())
    }

    @Test func anExpiredCursorIsReadAgainFromTheBeginning() async throws {
        let (database, integrations) = try await setUp()
        let connector = ScriptedConnector(feedPageSize: 10)
        publishCustomers(connector, 3)
        let runner = runner(database, connector)
        try await poll(runner, database, integrations[0])
        // Thirty days later the feed no longer reaches back to the cursor.
        publishCustomers(connector, 2)
        connector.expireFeed(before: 4)
        let operation = try await poll(runner, database, integrations[0])
        #expect(operation.status == .completed)
        #expect(connector.feedCursors == [nil, "3", nil])
        #expect(try await database.changeCursor(integrationID: integrations[0].id) == "5")
    }

    @Test func incrementalSyncsAreScheduledOnEachIntegrationsInterval() async throws {
        let (database, integrations) = try await setUp(integrations: 2)
        try await database.setIntegrationStatus(
            id: integrations[1].id, to: .disconnected, actor: "test", at: clock.now())
        let connector = ScriptedConnector()
        let runner = runner(database, connector)
        #expect(try await runner.scheduleIncrementalSyncs() == 1)
        #expect(try await runner.scheduleIncrementalSyncs() == 0)
        #expect(try await runner.runDueOperation())
        clock.advance(by: .seconds(3599))
        #expect(try await runner.scheduleIncrementalSyncs() == 0)
        clock.advance(by: .seconds(1))
        #expect(try await runner.scheduleIncrementalSyncs() == 1)
        let operations = try await database.syncOperations(
            integrationID: nil, status: nil, tenantID: nil, page: PageRequest()
        ).items
        #expect(operations.map(\.integrationID) == [integrations[0].id, integrations[0].id])
        #expect(operations.map(\.requestedBy) == ["scheduler", "scheduler"])
    }

    @Test func aLostWebhookIsRepairedByTheNextScheduledPoll() async throws {
        let (database, integrations) = try await setUp()
        let connector = ScriptedConnector()
        try await deliver(database, "msg_1", [invoice("inv_1")])
        try await drain(engine(database, connector), database)
        let remoteID = try #require(connector.written.values.first)
        let runner = runner(database, connector)
        try await runner.scheduleIncrementalSyncs()
        try await runner.runDueOperation()
        // Someone voids the invoice in the books; the webhook never arrives.
        connector.publish(
            .invoice, remoteID: remoteID, updatedAt: clock.now().adding(.seconds(60)), data: ["voided": true])
        clock.advance(by: .seconds(3600))
        try await runner.scheduleIncrementalSyncs()
        try await runner.runDueOperation()
        let changed = try await events(database, .invoiceChanged)
        #expect(changed.count == 1 && changed.first?["change"] == "voided" && changed.first?["invoice_id"] == "inv_1")
        _ = integrations
    }
}
