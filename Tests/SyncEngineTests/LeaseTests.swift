import Accounting
import Connectors
import Persistence
import SyncEngine
import TestSupport
import Testing

/// Real time from a given instant on: leases and heartbeats run against it.
struct RunningClock: SyncClock {
    let origin: Timestamp
    let started = ContinuousClock.now

    func now() -> Timestamp { origin.adding(ContinuousClock.now - started) }
    func sleep(for duration: Duration) async throws { try await Task.sleep(for: duration) }
}

@Suite struct LeaseTests: SyncScenario {
    let clock = ManualClock()
    let tenant = "school"

    @Test func aPushSlowerThanTheLeaseKeepsItByHeartbeatAndIsNotTakenOver() async throws {
        let (database, _) = try await setUp()
        try await deliver(database, "msg_1", [invoice("inv_1")])
        let connector = ScriptedConnector(latency: .seconds(12))
        let running = RunningClock(origin: clock.now())
        func engine(_ worker: String) -> SyncEngine {
            SyncEngine(
                database: database, connectors: [connector], tokens: tokens(database, connector), workerID: worker,
                limits: .init(concurrency: 4, perIntegration: 4, lease: .seconds(8)), clock: running,
                logger: quietLogger)
        }
        let slow = engine("w1")
        let other = engine("w2")
        let takenOver = try await withThrowingTaskGroup(of: Int.self) { group in
            group.addTask { try await slow.runDueJobs() - 1 }
            group.addTask {
                // Another worker keeps looking for jobs whose lease ran out, for as long as the push takes.
                try await Task.sleep(for: .milliseconds(50))
                var claimed = 0
                for _ in 0..<130 {
                    claimed += try await other.runDueJobs()
                    try await Task.sleep(for: .milliseconds(100))
                }
                return claimed
            }
            return try await group.reduce(0, +)
        }
        #expect(takenOver == 0)
        #expect(connector.pushes.count == 1)
        let job = try #require(try await database.jobs(page: PageRequest()).items.first)
        #expect(job.status == .succeeded && job.attempts == 1)
        #expect(try await database.jobAttempts(jobID: job.id).map(\.outcome) == ["succeeded"])
    }
}
