import Synchronization

/// A clock that moves only when a test `advance`s it: sleepers wake once it has moved past their deadline, so a test
/// of minutes of waiting runs in milliseconds and decides exactly what has happened by each instant.
public final class TestClock: Clock, Sendable {
    public struct Instant: InstantProtocol {
        /// Time since the clock started.
        public var offset: Duration

        public func advanced(by duration: Duration) -> Instant { Instant(offset: offset + duration) }
        public func duration(to other: Instant) -> Duration { other.offset - offset }
        public static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.offset < rhs.offset }
    }

    private struct Sleeper {
        var id: Int
        var deadline: Instant
        var continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var now = Instant(offset: .zero)
        var sleepers: [Sleeper] = []
        var nextID = 0
        var cancelled: Set<Int> = []
    }

    private let state = Mutex(State())

    public init() {}

    public var now: Instant { state.withLock { $0.now } }
    public var minimumResolution: Duration { .zero }

    /// How many tasks are waiting on the clock now.
    public var sleeping: Int { state.withLock { $0.sleepers.count } }

    public func sleep(until deadline: Instant, tolerance: Duration? = nil) async throws {
        let id = state.withLock { state in
            state.nextID += 1
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let resume: Result<Void, any Error>? = state.withLock { state in
                    if state.cancelled.remove(id) != nil { return .failure(CancellationError()) }
                    if deadline <= state.now { return .success(()) }
                    state.sleepers.append(Sleeper(id: id, deadline: deadline, continuation: continuation))
                    return nil
                }
                if let resume { continuation.resume(with: resume) }
            }
        } onCancel: {
            let sleeper: Sleeper? = state.withLock { state in
                guard let index = state.sleepers.firstIndex(where: { $0.id == id }) else {
                    state.cancelled.insert(id)
                    return nil
                }
                return state.sleepers.remove(at: index)
            }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Moves the clock on by `duration`, waking every sleeper whose deadline it reaches.
    public func advance(by duration: Duration) {
        let woken: [Sleeper] = state.withLock { state in
            state.now = state.now.advanced(by: duration)
            let now = state.now
            let due = state.sleepers.filter { $0.deadline <= now }
            state.sleepers.removeAll { $0.deadline <= now }
            return due
        }
        for sleeper in woken { sleeper.continuation.resume() }
    }

    /// Waits (yielding, in real time, a minute at most: a loaded machine may starve the tasks for seconds) until `count`
    /// tasks sleep on the clock: the tasks a test drives have done all they do at this instant. Whether they did.
    @discardableResult
    public func waitForSleepers(_ count: Int = 1) async -> Bool {
        let start = ContinuousClock.now
        while sleeping < count, ContinuousClock.now - start < .seconds(60) {
            try? await Task.sleep(for: .milliseconds(1))
        }
        return sleeping >= count
    }

    /// Runs `work`, moving the clock on by `step` whenever someone sleeps on it, until `work` ends.
    public func run(step: Duration, _ work: @escaping @Sendable () async throws -> Void) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await work() }
            group.addTask {
                while !Task.isCancelled {
                    if self.sleeping > 0 { self.advance(by: step) }
                    try await Task.sleep(for: .milliseconds(1))
                }
            }
            try await group.next()
            group.cancelAll()
        }
    }
}
