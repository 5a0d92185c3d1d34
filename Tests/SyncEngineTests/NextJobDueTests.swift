import Accounting
import Connectors
import Persistence
import SyncEngine
import TestSupport
import Testing

/// When the next job is due: what a worker on a manual clock moves its clock to instead of waiting.
@Suite struct NextJobDueTests: SyncScenario {
    let clock = ManualClock()
    let tenant = "school"

    /// A job told to come back in 7 s is due then, not a microsecond earlier; a job that succeeded is due never.
    @Test func aRetriedJobIsDueAtItsNextAttempt() async throws {
        let (database, _) = try await setUp()
        let connector = ScriptedConnector(failing: [
            .retryable(code: "rate_limited", message: "ThrottleExceeded", retryAfter: .seconds(7))
        ])
        let engine = engine(database, connector)
        #expect(try await engine.nextJobDue() == nil)
        try await deliver(database, "msg_1", [invoice("inv_1")])
        #expect(try await engine.nextJobDue() == clock.now())
        let start = clock.now()
        #expect(try await engine.runDueJobs() == 1)
        let job = try #require(try await database.jobs(page: PageRequest()).items.first)
        #expect(job.status == .pending)
        let due = try #require(try await engine.nextJobDue())
        #expect(due == job.nextAttemptAt && due >= start.adding(.seconds(7)))

        clock.advance(by: .microseconds(due.microsecondsSinceEpoch - clock.now().microsecondsSinceEpoch - 1))
        #expect(try await engine.runDueJobs() == 0)
        clock.advance(by: .microseconds(1))
        #expect(try await engine.runDueJobs() == 1)
        #expect(try await database.job(id: job.id)?.status == .succeeded)
        #expect(try await engine.nextJobDue() == nil)
    }

    /// A job billing sent while its platform is out of reach is due at the integration's next check, not at once.
    @Test func aJobOfAnUnreachableIntegrationIsDueAtItsNextCheck() async throws {
        let (database, integrations) = try await setUp()
        let refused = ConnectorError.unreachable(code: "unreachable", message: "QuickBooks could not be reached")
        let engine = engine(database, ScriptedConnector(failing: [refused]))
        try await deliver(database, "msg_1", [invoice("inv_1")])
        #expect(try await engine.runDueJobs() == 1)
        let check = try #require(try await database.integration(id: integrations[0].id)?.unreachable?.nextCheckAt)
        clock.advance(by: .seconds(1))
        try await deliver(database, "msg_2", [invoice("inv_2")])
        #expect(try await engine.nextJobDue() == check)
        #expect(try await engine.runDueJobs() == 0)

        clock.advance(by: .microseconds(check.microsecondsSinceEpoch - clock.now().microsecondsSinceEpoch))
        #expect(try await engine.runDueJobs() == 2)
        #expect(try await database.jobs(status: .succeeded, page: PageRequest()).items.count == 2)
    }

    /// Open jobs that wait for something other than time are never due: behind an earlier job of the same record
    /// that needs a mapping, or of an integration that is disconnected.
    @Test func jobsWaitingForAMappingOrAConnectionAreNeverDue() async throws {
        let (database, integrations) = try await setUp(mapped: false)
        let engine = engine(database, ScriptedConnector())
        try await deliver(database, "msg_1", [invoice("inv_1")])
        #expect(try await engine.runDueJobs() == 1)
        #expect(try await database.jobs(status: .needsMapping, page: PageRequest()).items.count == 1)
        try await deliver(database, "msg_2", [invoice("inv_1", total: "53200.00", at: 1_795_000_100)])
        #expect(try await database.jobs(status: .pending, page: PageRequest()).items.count == 1)
        #expect(try await engine.nextJobDue() == nil)

        try await deliver(database, "msg_3", [invoice("inv_2")])
        #expect(try await engine.nextJobDue() == clock.now())
        try await database.setIntegrationStatus(
            id: integrations[0].id, to: .disconnected, actor: "test", at: clock.now())
        #expect(try await engine.nextJobDue() == nil)
        #expect(try await engine.runDueJobs() == 0)
    }
}
