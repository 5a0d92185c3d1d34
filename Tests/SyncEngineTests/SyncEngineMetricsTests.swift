import Accounting
import Connectors
import MetricsTestKit
import Persistence
import SyncEngine
import TestSupport
import Testing

@Suite struct SyncEngineMetricsTests: SyncScenario {
    let clock = ManualClock()
    let tenant = "school"

    func engine(_ database: AppDatabase, _ connector: ScriptedConnector, metrics: TestMetrics) -> SyncEngine {
        SyncEngine(
            database: database, connectors: [connector], tokens: tokens(database, connector), workerID: "w1",
            clock: clock, logger: quietLogger, metrics: SyncEngineMetrics(factory: metrics))
    }

    func attempts(_ metrics: TestMetrics, _ outcome: String) -> Int64 {
        (try? metrics.expectCounter(
            "ledgerwire_job_attempts_total", [("platform", "quickbooks_online"), ("outcome", outcome)]))?.totalValue
            ?? 0
    }

    @Test func aJobThatSyncsCountsOneSucceededAttemptOnItsPlatformAndItsDuration() async throws {
        let (database, _) = try await setUp()
        try await deliver(database, "msg_1", [invoice("inv_1")])
        let metrics = TestMetrics()
        #expect(try await engine(database, ScriptedConnector(), metrics: metrics).runDueJobs() == 1)
        #expect(attempts(metrics, "succeeded") == 1)
        #expect(attempts(metrics, "retry") == 0)
        let durations = try metrics.expectTimer(
            "ledgerwire_job_attempt_duration_seconds", [("platform", "quickbooks_online")])
        #expect(durations.values.count == 1)
    }

    @Test func aRetriedAttemptAndTheLastOneAreCountedByHowTheyEnded() async throws {
        let (database, _) = try await setUp(maxAttempts: 2)
        try await deliver(database, "msg_1", [invoice("inv_1")])
        let failure = ConnectorError.retryable(code: "server", message: "500", retryAfter: nil)
        let metrics = TestMetrics()
        let engine = engine(database, ScriptedConnector(failing: [failure, failure]), metrics: metrics)
        try await engine.runDueJobs()
        #expect(attempts(metrics, "retry") == 1)
        clock.advance(by: .seconds(120))
        try await engine.runDueJobs()
        #expect(attempts(metrics, "dead") == 1)
        #expect(attempts(metrics, "succeeded") == 0)
    }

    @Test func theWorkerSamplesHowManyJobsAreDue() async throws {
        let (database, _) = try await setUp()
        try await deliver(database, "msg_1", [invoice("inv_1"), invoice("inv_2"), invoice("inv_3")])
        let metrics = TestMetrics()
        // No connector: nothing is claimed, the three jobs stay due.
        let engine = SyncEngine(
            database: database, connectors: [], tokens: tokens(database, ScriptedConnector()), workerID: "w1",
            clock: clock, logger: quietLogger, metrics: SyncEngineMetrics(factory: metrics))
        let worker = Task { await engine.work(pollInterval: .milliseconds(5)) }
        var due: Double?
        for _ in 0..<2000 where due == nil {
            due = (try? metrics.expectGauge("ledgerwire_jobs_due"))?.lastValue
            try await Task.sleep(for: .milliseconds(5))
        }
        worker.cancel()
        await worker.value
        #expect(due == 3)
    }
}
