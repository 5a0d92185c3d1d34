import Accounting
import Connectors
import Persistence
import SyncEngine
import Synchronization
import TestSupport
import Testing

/// The engine's time as a `TestClock` moves it, from a given instant on: leases and heartbeats run against it.
struct SteppedClock: SyncClock {
    let origin: Timestamp
    let time: TestClock

    func now() -> Timestamp { origin.adding(time.now.offset) }
    func sleep(for duration: Duration) async throws { try await time.sleep(for: duration) }
}

/// Holds the first push until `release`; later pushes go at once.
final class HeldPush: Sendable {
    private struct State {
        var started = false
        var released = false
        var holding: CheckedContinuation<Void, Never>?
        var watching: CheckedContinuation<Void, Never>?
    }

    private let state = Mutex(State())

    /// The connector's `inspect`: the first push waits here.
    func hold() async {
        await withCheckedContinuation { continuation in
            let (go, watcher): (Bool, CheckedContinuation<Void, Never>?) = state.withLock { state in
                if state.started || state.released { return (true, nil) }
                state.started = true
                state.holding = continuation
                defer { state.watching = nil }
                return (false, state.watching)
            }
            watcher?.resume()
            if go { continuation.resume() }
        }
    }

    /// Waits until the first push is being held.
    func started() async {
        await withCheckedContinuation { continuation in
            let now = state.withLock { state in
                if state.started { return true }
                state.watching = continuation
                return false
            }
            if now { continuation.resume() }
        }
    }

    func release() {
        let holding = state.withLock { state in
            state.released = true
            defer { state.holding = nil }
            return state.holding
        }
        holding?.resume()
    }
}

@Suite struct LeaseTests: SyncScenario {
    let clock = ManualClock()
    let tenant = "school"

    @Test func aPushSlowerThanTheLeaseKeepsItByHeartbeatAndIsNotTakenOver() async throws {
        let (database, _) = try await setUp()
        try await deliver(database, "msg_1", [invoice("inv_1")])
        let held = HeldPush()
        let connector = ScriptedConnector(inspect: { _, _ in await held.hold() })
        let time = TestClock()
        let stepped = SteppedClock(origin: clock.now(), time: time)
        func engine(_ worker: String) -> SyncEngine {
            SyncEngine(
                database: database, connectors: [connector], tokens: tokens(database, connector), workerID: worker,
                limits: .init(concurrency: 4, perIntegration: 4, lease: .seconds(8)), clock: stepped,
                logger: quietLogger, heartbeatClock: time)
        }
        let slow = engine("w1")
        let other = engine("w2")
        let running = Task { try await slow.runDueJobs() }
        await held.started()
        // The push takes 15 s, nearly two leases; another worker keeps looking for jobs whose lease ran out.
        var takenOver = 0
        for _ in 0..<15 {
            // The heartbeat waits on the test's clock: it has renewed the lease, if it was due, and waits again.
            #expect(await time.waitForSleepers())
            time.advance(by: .seconds(1))
            #expect(await time.waitForSleepers())
            takenOver += try await other.runDueJobs()
        }
        held.release()
        #expect(try await running.value == 1)
        #expect(takenOver == 0)
        #expect(connector.pushes.count == 1)
        let job = try #require(try await database.jobs(page: PageRequest()).items.first)
        #expect(job.status == .succeeded && job.attempts == 1)
        #expect(try await database.jobAttempts(jobID: job.id).map(\.outcome) == ["succeeded"])
    }
}
