import Accounting
import Connectors
import Persistence
import SyncEngine
import TestSupport
import Testing

@Suite struct SyncEngineTests: SyncScenario {
    let clock = ManualClock()
    let tenant = "school"

    @Test func oneInvoiceReachesEachIntegrationExactlyOnce() async throws {
        let (database, integrations) = try await setUp(integrations: 2)
        let connector = ScriptedConnector()
        try await deliver(database, "msg_1", [invoice("inv_1")])
        // The same invoice again under another webhook id: a duplicate, no new job.
        try await deliver(database, "msg_2", [invoice("inv_1")])
        #expect(try await database.jobs(page: PageRequest()).items.count == 2)
        try await drain(engine(database, connector), database)
        #expect(connector.pushes.count == 2)
        #expect(Set(connector.pushes.map(\.localID)) == ["inv_1"])
        let jobs = try await database.jobs(status: .succeeded, page: PageRequest()).items
        #expect(Set(jobs.map(\.integrationID)) == Set(integrations.map(\.id)))
        let record = try #require(try await database.records(localID: "inv_1", page: PageRequest()).items.first)
        #expect(Set(record.links.map(\.integrationID)) == Set(integrations.map(\.id)))
        #expect(record.links.allSatisfy { $0.status == "synced" && $0.remoteID != nil })
    }

    @Test func twoServiceUnavailablesThenSuccessIsOnePushAfterThreeAttempts() async throws {
        let (database, _) = try await setUp()
        let unavailable = ConnectorError.retryable(code: "http_503", message: "Service Unavailable", retryAfter: nil)
        let connector = ScriptedConnector(failing: [unavailable, unavailable])
        try await deliver(database, "msg_1", [invoice("inv_1")])
        try await drain(engine(database, connector), database)
        let job = try #require(try await database.jobs(page: PageRequest()).items.first)
        #expect(job.status == .succeeded && job.attempts == 3)
        #expect(try await database.jobAttempts(jobID: job.id).map(\.outcome) == ["retry", "retry", "succeeded"])
        #expect(connector.pushes.count == 3 && Set(connector.pushes.map(\.idempotencyKey)) == [job.id])
        #expect(connector.written.count == 1)
    }

    /// A platform in maintenance for longer than the job's attempts would last: the job waits it out, attempts
    /// intact, and is written once when the platform is back.
    @Test func aBusyPlatformDefersTheJobWithoutUsingUpItsAttempts() async throws {
        let (database, _) = try await setUp()
        let maintenance = ConnectorError.busy(code: "quickbooks_503", message: "maintenance", retryAfter: nil)
        let connector = ScriptedConnector(failing: Array(repeating: maintenance, count: 6))
        try await deliver(database, "msg_1", [invoice("inv_1")])
        try await drain(engine(database, connector), database)
        let job = try #require(try await database.jobs(page: PageRequest()).items.first)
        #expect(job.status == .succeeded && job.attempts == 1 && job.deferrals == 6)
        #expect(
            try await database.jobAttempts(jobID: job.id).map(\.outcome) == Array(repeating: "deferred", count: 6) + [
                "succeeded"
            ])
        #expect(connector.written.count == 1)
    }

    /// Each time it is turned away the job may wait longer (the backoff follows its deferrals, not its attempts),
    /// never less than the platform's Retry-After; past `maximumDeferrals` a refusal is a failed attempt again.
    @Test func deferralsBackOffAndAreBounded() async throws {
        let (database, _) = try await setUp()
        let throttled = ConnectorError.busy(code: "throttled", message: "ThrottleExceeded", retryAfter: .seconds(7))
        let connector = ScriptedConnector(
            failing: Array(repeating: throttled, count: SyncEngine.maximumDeferrals + 3))
        try await deliver(database, "msg_1", [invoice("inv_1")])
        let engine = engine(database, connector)
        var waits: [Duration] = []
        for _ in 0..<(SyncEngine.maximumDeferrals + 10) {
            let before = clock.now()
            try await engine.runDueJobs()
            let job = try #require(try await database.jobs(page: PageRequest()).items.first)
            if job.status == .dead { break }
            waits.append(.microseconds(job.nextAttemptAt.microsecondsSinceEpoch - before.microsecondsSinceEpoch))
            clock.advance(by: .seconds(61))
        }
        let job = try #require(try await database.jobs(page: PageRequest()).items.first)
        #expect(job.status == .dead && job.attempts == 3 && job.deferrals == SyncEngine.maximumDeferrals)
        #expect(waits.allSatisfy { $0 >= .seconds(7) })
        // Deferral n waits up to min(60 s, 2 s · 2^n): the first two stay under 8 s whatever the jitter.
        #expect(waits.prefix(2).allSatisfy { $0 <= .seconds(8) })
        // Later ones up to 60 s: that none of ~100 went past 30 s would be a 2^-90 chance.
        #expect((waits.max() ?? .zero) > .seconds(30))
        #expect(connector.written.isEmpty)
    }

    @Test func retryAfterIsHonored() async throws {
        let (database, _) = try await setUp()
        let connector = ScriptedConnector(failing: [
            .retryable(code: "rate_limited", message: "ThrottleExceeded", retryAfter: .seconds(7))
        ])
        try await deliver(database, "msg_1", [invoice("inv_1")])
        let engine = engine(database, connector)
        let start = clock.now()
        try await engine.runDueJobs()
        let job = try #require(try await database.jobs(page: PageRequest()).items.first)
        #expect(job.status == .pending)
        #expect(job.nextAttemptAt.microsecondsSinceEpoch >= start.microsecondsSinceEpoch + 7_000_000)
        clock.advance(by: .milliseconds(6_900))
        #expect(try await engine.runDueJobs() == 0)
        clock.advance(by: .seconds(60))
        #expect(try await engine.runDueJobs() == 1)
        #expect(try await database.job(id: job.id)?.status == .succeeded)
    }

    @Test func threeFailuresDeadLetterAndARetryCompletesIt() async throws {
        let (database, _) = try await setUp()
        let unavailable = ConnectorError.retryable(code: "http_503", message: "Service Unavailable", retryAfter: nil)
        let connector = ScriptedConnector(failing: [unavailable, unavailable, unavailable])
        try await deliver(database, "msg_1", [invoice("inv_1")])
        let engine = engine(database, connector)
        try await drain(engine, database)
        let dead = try await database.jobs(status: .dead, page: PageRequest()).items
        #expect(dead.count == 1 && dead[0].attempts == 3 && dead[0].lastError?.code == "http_503")
        #expect(connector.written.isEmpty)

        let retried = try await database.retryJob(id: dead[0].id, tenantID: nil, actor: "admin", at: clock.now())
        #expect(retried?.status == .pending)
        try await drain(engine, database)
        #expect(try await database.job(id: dead[0].id)?.status == .succeeded)
        #expect(connector.written.count == 1)
        #expect(
            try await database.jobAttempts(jobID: dead[0].id).map(\.outcome) == ["retry", "retry", "dead", "succeeded"])
    }

    @Test func aValidationErrorFailsAtOnceWithThePlatformsMessage() async throws {
        let (database, _) = try await setUp()
        let connector = ScriptedConnector(failing: [
            .validation(code: "6000", message: "A business validation error has occurred: Amount is invalid")
        ])
        try await deliver(database, "msg_1", [invoice("inv_1")])
        try await drain(engine(database, connector), database)
        let job = try #require(try await database.jobs(page: PageRequest()).items.first)
        #expect(job.status == .failed && job.attempts == 1)
        #expect(
            job.lastError
                == JobError(code: "6000", message: "A business validation error has occurred: Amount is invalid"))
        #expect(connector.pushes.count == 1)
    }

    @Test func unmappedCodesParkTheJobNamingEveryOneUntilTheyAreMapped() async throws {
        let (database, integrations) = try await setUp(mapped: false)
        let connector = ScriptedConnector()
        try await deliver(database, "msg_1", [invoice("inv_1")])
        let engine = engine(database, connector)
        try await engine.runDueJobs()
        let parked = try #require(try await database.jobs(page: PageRequest()).items.first)
        #expect(parked.status == .needsMapping)
        #expect(parked.lastError?.code == "unmapped")
        #expect(parked.lastError?.message == "billing's revenue account 4000-TUITION and tax code GST18 are not mapped")
        #expect(parked.lastError?.missing == [.init(.account, "4000-TUITION"), .init(.taxCode, "GST18")])
        #expect(connector.pushes.isEmpty)

        let resumed = try await database.saveMappings(
            integrationID: integrations[0].id,
            CodeMappings(accounts: ["4000-TUITION": "79"], taxCodes: ["*": "5"]), actor: "admin", at: clock.now())
        #expect(resumed == 1)
        try await engine.runDueJobs()
        #expect(try await database.job(id: parked.id)?.status == .succeeded)
        #expect(connector.pushes.count == 1)
    }

    @Test func aJobWhoseWorkerDiedIsTakenOverWithTheSameIdempotencyKey() async throws {
        let (database, _) = try await setUp()
        try await deliver(database, "msg_1", [invoice("inv_1")])
        // Worker A claims the job and dies before recording anything.
        let claimedByA = try await database.claimJobs(
            worker: "a", platforms: [.quickBooksOnline], now: clock.now(), lease: .seconds(30), limit: 1,
            perIntegration: 4)
        #expect(claimedByA.count == 1)
        let connector = ScriptedConnector()
        let workerB = engine(database, connector, worker: "b", lease: .seconds(30))
        #expect(try await workerB.runDueJobs() == 0, "the lease still holds")
        clock.advance(by: .seconds(31))
        #expect(try await workerB.runDueJobs() == 1)
        let job = try #require(try await database.job(id: claimedByA[0].job.id))
        #expect(job.status == .succeeded)
        #expect(try await database.jobAttempts(jobID: job.id).map(\.outcome) == ["abandoned", "succeeded"])
        #expect(connector.pushes.map(\.idempotencyKey) == [job.id])
        // Worker A coming back to life cannot overwrite B's outcome.
        #expect(
            try await database.finishJob(
                claimedByA[0], worker: "a", outcome: .failed(JobError(code: "x", message: "late")), at: clock.now())
                == false)
        #expect(try await database.job(id: job.id)?.status == .succeeded)
    }

    @Test func twoCustomersAdoptingOneRecordOfTheBooksAtOnceLinkItOnce() async throws {
        let (database, _) = try await setUp(customerInTheBooks: false)
        try await deliver(database, "msg_1", [customer("cus_a"), customer("cus_b")])
        let claimed = try await database.claimJobs(
            worker: "w", platforms: [.quickBooksOnline], now: clock.now(), lease: .seconds(30), limit: 2,
            perIntegration: 4)
        #expect(claimed.count == 2)
        // Two chunks each found the same customer of the books unlinked, and each adopted it.
        for job in claimed {
            #expect(
                try await database.finishJob(
                    job, worker: "w", outcome: .succeeded(remoteID: "C9", remoteVersion: "0"), at: clock.now()))
        }
        let first = try #require(try await database.job(id: claimed[0].job.id))
        let second = try #require(try await database.job(id: claimed[1].job.id))
        #expect(first.status == .succeeded)
        #expect(second.status == .pending && second.lastError?.code == "already_linked")
        let linked = try await database.billingRecords(
            linkedTo: ["C9"], recordType: .customer, integrationID: first.integrationID)
        #expect(linked == ["C9": first.localID])
    }

    @Test func versionsOfOneRecordArePushedInOrder() async throws {
        let (database, _) = try await setUp()
        try await deliver(database, "msg_1", [invoice("inv_1", total: "53100.00", at: 1_795_000_000)])
        try await deliver(database, "msg_2", [invoice("inv_1", total: "60000.00", at: 1_795_000_100)])
        let connector = ScriptedConnector()
        let engine = engine(database, connector)
        // Both are due, but the second version waits for the first.
        #expect(try await engine.runDueJobs() == 1)
        #expect(try await engine.runDueJobs() == 1)
        #expect(connector.pushes.map(\.version) == [1, 2])
        #expect(connector.pushes.map(\.action) == [.create, .update])
    }

    @Test func jobsOfIntegrationsNotConnectedWait() async throws {
        let (database, integrations) = try await setUp()
        try await database.setIntegrationStatus(id: integrations[0].id, to: .disconnected, actor: "test")
        try await deliver(database, "msg_1", [invoice("inv_1")])
        let connector = ScriptedConnector()
        let engine = engine(database, connector)
        #expect(try await engine.runDueJobs() == 0)
        try await database.setIntegrationStatus(id: integrations[0].id, to: .connected, actor: "test")
        #expect(try await engine.runDueJobs() == 1)
        #expect(connector.written.count == 1)
    }

    @Test func backoffHasFullJitterUnderACapAndRetryAfterIsAFloor() {
        let strategy = RetryStrategy(base: .seconds(2), cap: .seconds(60))
        var random = SystemRandomNumberGenerator()
        for attempt in 1...10 {
            let ceiling = min(Duration.seconds(60), .seconds(2) * (1 << (attempt - 1)))
            for _ in 0..<50 {
                let delay = strategy.delay(afterAttempt: attempt, retryAfter: nil, using: &random)
                #expect(delay >= .zero && delay <= ceiling)
                #expect(strategy.delay(afterAttempt: attempt, retryAfter: .seconds(7), using: &random) >= .seconds(7))
            }
        }
    }

    @Test func jobsOfPlatformsWithoutAConnectorAreLeftForAWorkerThatHasOne() async throws {
        let (database, _) = try await setUp()
        let xero = try await database.createIntegration(
            tenantID: tenant, platform: .xero, name: "Xero", actor: "test", at: clock.now())
        try await database.setIntegrationStatus(id: xero.id, to: .connected, actor: "test", at: clock.now())
        try await database.saveMappings(
            integrationID: xero.id, CodeMappings(accounts: ["*": "200"], taxCodes: ["*": "OUTPUT"]), actor: "test",
            at: clock.now())
        try await deliver(database, "msg_1", [invoice("inv_1")])
        let connector = ScriptedConnector()
        #expect(try await engine(database, connector).runDueJobs() == 1)
        let pending = try await database.jobs(status: .pending, page: PageRequest()).items
        #expect(pending.map(\.integrationID) == [xero.id])
    }
}
