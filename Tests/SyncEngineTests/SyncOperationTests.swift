import Accounting
import Connectors
import Persistence
import SyncEngine
import TestSupport
import Testing

@Suite struct SyncOperationTests: SyncScenario {
    let clock = ManualClock()
    let tenant = "school"

    /// `count` customers in billing's history, recorded before any integration existed.
    func history(_ database: AppDatabase, customers count: Int) async throws {
        for start in stride(from: 0, to: count, by: 1000) {
            let commands = (start..<min(start + 1000, count)).map { customer("cus_\($0)") }
            try await deliver(database, "history_\(start)", commands)
        }
    }

    func connectedIntegration(_ database: AppDatabase) async throws -> Integration {
        let integration = try await database.createIntegration(
            tenantID: tenant, platform: .quickBooksOnline, name: "Books", actor: "test", at: clock.now())
        try await database.setIntegrationStatus(id: integration.id, to: .connected, actor: "test", at: clock.now())
        return integration
    }

    @Test func aFullSyncOf50000RecordsInterruptedHalfwayResumesAndWritesEachOnce() async throws {
        let database = try AppDatabase.inMemory()
        try await history(database, customers: 50_000)
        let integration = try await connectedIntegration(database)
        let connector = ScriptedConnector()
        let operation = try #require(
            try await database.requestSync(integrationID: integration.id, tenantID: nil, mode: .full, actor: "test"))
        #expect(operation.recordsTotal == 50_000 && operation.status == .pending)

        // The first node queues half, its workers push some, and then it dies mid-flight.
        let first = SyncOperationRunner(database: database, workerID: "node-1", clock: clock, pageSize: 1000)
        try await first.runDueOperation(maximumPages: 25)
        let firstEngine = engine(database, connector, worker: "node-1", concurrency: 64, perIntegration: 64)
        for _ in 0..<100 { try await firstEngine.runDueJobs() }
        _ = try await database.claimJobs(
            worker: "node-1", platforms: [.quickBooksOnline], now: clock.now(), lease: .seconds(60), limit: 64,
            perIntegration: 64)
        let midway = try #require(try await database.syncOperation(id: operation.id, tenantID: nil))
        #expect(midway.status == .running)
        // The connector takes batches of 30: each round claims 4 batches' worth of the integration's jobs.
        #expect(midway.recordsProcessed == 12_000 && midway.recordsInFlight == 25_000 - 12_000, "\(midway)")

        // After the leases run out, another node picks it up from the checkpoint and finishes it.
        clock.advance(by: .seconds(61))
        let second = SyncOperationRunner(database: database, workerID: "node-2", clock: clock, pageSize: 1000)
        #expect(try await second.runDueOperation())
        let secondEngine = engine(database, connector, worker: "node-2", concurrency: 64, perIntegration: 64)
        while try await secondEngine.runDueJobs() > 0 {}
        try await second.runDueOperation()

        let done = try #require(try await database.syncOperation(id: operation.id, tenantID: nil))
        #expect(done.status == .completed)
        #expect(done.recordsProcessed == 50_000 && done.recordsFailed == 0 && done.recordsInFlight == 0)
        #expect(connector.written.count == 50_000, "each customer written once")
        let jobs = try await database.jobs(status: .succeeded, integrationID: integration.id, page: PageRequest())
        #expect(jobs.items.first?.attempts == 1)
        // Each batch of finished jobs signed the audit chain's checkpoint once, at its end: the chain holds.
        guard case .intact = try await database.verifyAuditChain() else {
            Issue.record("the audit chain does not hold: \(try await database.verifyAuditChain())")
            return
        }
        let pushedRecords = Set(connector.pushes.map(\.localID))
        #expect(pushedRecords.count == 50_000)
        #expect(connector.pushes.count == 50_000, "the 64 jobs claimed when the node died were not sent twice")
        let takenOver = try await database.jobs(status: .succeeded, page: PageRequest(limit: 500)).items
        #expect(try await database.jobAttempts(jobID: takenOver[0].id).map(\.outcome) == ["succeeded"])
    }

    /// A sync asked for starts at once, and the jobs it queues wake the workers at once: neither waits for its poll
    /// (an hour here, so a sync that waited for it would not run within the test).
    @Test func aRequestedSyncStartsAtOnceAndItsJobsWakeTheWorkers() async throws {
        let database = try AppDatabase.inMemory()
        try await history(database, customers: 5)
        let integration = try await connectedIntegration(database)
        let (requested, jobsQueued) = (WorkSignal(), WorkSignal())
        let runner = SyncOperationRunner(
            database: database, workerID: "node-1", clock: clock, jobsQueued: jobsQueued, requested: requested)
        let working = Task { await runner.workOnOperations(pollInterval: .seconds(3600)) }
        defer { working.cancel() }
        // The runner's first look finds nothing; its next poll is an hour away.
        try await Task.sleep(for: .milliseconds(200))
        let operation = try #require(
            try await database.requestSync(integrationID: integration.id, tenantID: nil, mode: .full, actor: "test"))
        requested.signal()
        let told = Task { await jobsQueued.wait() }
        let deadline = ContinuousClock.now + .seconds(30)
        while try await database.jobs(status: .pending, integrationID: integration.id, page: PageRequest()).items
            .count < 5, ContinuousClock.now < deadline
        {
            try await Task.sleep(for: .milliseconds(20))
        }
        let queued = try await database.jobs(status: .pending, integrationID: integration.id, page: PageRequest())
        #expect(queued.items.count == 5, "the requested sync queued its records without waiting for the poll")
        #expect(queued.items.allSatisfy { $0.operationID == operation.id })
        // And the workers were told.
        let wasTold = await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                await told.value; return true
            }
            group.addTask {
                try? await Task.sleep(for: .seconds(30)); return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            told.cancel()
            return first
        }
        #expect(wasTold, "the workers are told the page's jobs are queued")
    }

    @Test func aFullSyncSkipsWhatTheBooksHoldAndReportsFailures() async throws {
        let database = try AppDatabase.inMemory()
        try await history(database, customers: 10)
        let integration = try await connectedIntegration(database)
        let connector = ScriptedConnector(failing: [.validation(code: "6240", message: "Duplicate Name Exists Error")])
        let runner = SyncOperationRunner(database: database, workerID: "node-1", clock: clock, pageSize: 3)
        let engine = engine(database, connector, concurrency: 1, perIntegration: 1)
        let first = try #require(
            try await database.requestSync(integrationID: integration.id, tenantID: nil, mode: .full, actor: "test"))
        let again = try await database.requestSync(
            integrationID: integration.id, tenantID: nil, mode: .full, actor: "test")
        #expect(again?.id == first.id, "one full sync at a time per integration")
        try await runner.runDueOperation()
        // Lists page by cursor.
        let firstPage = try await database.jobs(page: PageRequest(limit: 4))
        let cursor = try #require(firstPage.nextCursor)
        let secondPage = try await database.jobs(page: PageRequest(limit: 4, cursor: cursor))
        #expect(Set(firstPage.items.map(\.id)).isDisjoint(with: secondPage.items.map(\.id)))
        while try await engine.runDueJobs() > 0 {}
        try await runner.runDueOperation()
        let done = try #require(try await database.syncOperation(id: first.id, tenantID: nil))
        #expect(done.status == .completed && done.recordsProcessed == 10 && done.recordsFailed == 1)
        #expect(done.errors.map(\.error.message) == ["Duplicate Name Exists Error"])
        #expect(try await database.integration(id: integration.id)?.lastSyncAt != nil)

        // A second full sync finds nine customers in the books and queues only the one that failed.
        let second = try #require(
            try await database.requestSync(integrationID: integration.id, tenantID: nil, mode: .full, actor: "test"))
        try await runner.runDueOperation()
        while try await engine.runDueJobs() > 0 {}
        try await runner.runDueOperation()
        let redone = try #require(try await database.syncOperation(id: second.id, tenantID: nil))
        #expect(redone.recordsSkipped == 9 && redone.recordsProcessed == 10 && redone.recordsFailed == 0)
        #expect(connector.written.count == 10)
    }

    /// A full sync, requested and run to its end by `runner` and `engine`.
    func fullSync(
        _ database: AppDatabase, _ integration: Integration, runner: SyncOperationRunner, engine: SyncEngine
    ) async throws -> SyncOperation {
        let operation = try #require(
            try await database.requestSync(
                integrationID: integration.id, tenantID: nil, mode: .full, actor: "test", at: clock.now()))
        try await runner.runDueOperation()
        while try await engine.runDueJobs() > 0 {}
        try await runner.runDueOperation()
        return try #require(try await database.syncOperation(id: operation.id, tenantID: nil))
    }

    /// The books lost everything a first full sync wrote (the company was reset): the next one looks its links up,
    /// a page at a time, and writes the lost records again as new; one over intact books writes nothing.
    @Test func aFullSyncChecksItsLinksInBatchesAndPushesAgainWhatTheBooksLost() async throws {
        let database = try AppDatabase.inMemory()
        try await history(database, customers: 1200)
        let integration = try await connectedIntegration(database)
        let connector = ScriptedConnector()
        let runner = runner(database, connector)
        let engine = engine(database, connector, concurrency: 64, perIntegration: 64)

        let first = try await fullSync(database, integration, runner: runner, engine: engine)
        #expect(first.status == .completed && first.recordsVerified == 0 && first.recordsRepushed == 0)
        #expect(connector.existenceChecks.isEmpty, "nothing was linked yet")
        #expect(connector.written.count == 1200)

        let intact = try await fullSync(database, integration, runner: runner, engine: engine)
        #expect(intact.status == .completed && intact.recordsVerified == 1200 && intact.recordsRepushed == 0)
        #expect(intact.recordsSkipped == 1200 && intact.recordsProcessed == 1200)
        #expect(connector.existenceChecks.map(\.count) == [500, 500, 200], "one look-up per page")
        #expect(connector.pushes.count == 1200, "nothing written again")

        connector.loseEverything()
        let reset = try await fullSync(database, integration, runner: runner, engine: engine)
        #expect(reset.status == .completed && reset.recordsVerified == 0 && reset.recordsRepushed == 1200)
        #expect(reset.recordsFailed == 0 && reset.recordsProcessed == 1200)
        #expect(connector.written.count == 1200, "each customer written again, once")
        #expect(connector.pushes.count == 2400 && connector.pushes.suffix(1200).allSatisfy { $0.action == .create })
        let record = try #require(try await database.records(localID: "cus_7", page: PageRequest()).items.first)
        let link = try #require(record.links.first?.remoteID)
        #expect(Set(connector.written.values).contains(link) && (Int(link) ?? 0) > 1200, "linked to the new copy")
    }

    /// The books cannot be asked (QuickBooks out of reach): the full sync queues nothing on trust, shows why, and
    /// goes on from its checkpoint once the pause is over.
    @Test func aFullSyncThatCannotCheckItsLinksWaitsAndGoesOn() async throws {
        let database = try AppDatabase.inMemory()
        try await history(database, customers: 10)
        let integration = try await connectedIntegration(database)
        let connector = ScriptedConnector()
        let runner = runner(database, connector)
        let engine = engine(database, connector)
        _ = try await fullSync(database, integration, runner: runner, engine: engine)

        connector.failFeed([.unreachable(code: "unreachable", message: "QuickBooks could not be reached")])
        connector.loseEverything()
        let operation = try #require(
            try await database.requestSync(
                integrationID: integration.id, tenantID: nil, mode: .full, actor: "test", at: clock.now()))
        #expect(try await runner.runDueOperation())
        let paused = try #require(try await database.syncOperation(id: operation.id, tenantID: nil))
        #expect(paused.status == .running && paused.lastError?.code == "unreachable")
        #expect(paused.recordsSkipped == 0 && paused.recordsInFlight == 0)
        #expect(try await runner.runDueOperation() == false, "paused")

        clock.advance(by: .seconds(61))
        let done = try await fullSync(database, integration, runner: runner, engine: engine)
        #expect(done.id == operation.id)
        #expect(done.status == .completed && done.recordsRepushed == 10 && done.lastError == nil)
        #expect(connector.written.count == 10)
    }
}
