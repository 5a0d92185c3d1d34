public import Accounting
import Persistence

/// The engine's view of time: what time it is, and waiting. Tests drive it by hand.
public protocol SyncClock: Sendable {
    func now() -> Timestamp
    func sleep(for duration: Duration) async throws
}

/// Wall-clock time for instants, the continuous clock for waits.
public struct SystemSyncClock: SyncClock {
    public init() {}

    public func now() -> Timestamp {
        Timestamp.now()
    }

    public func sleep(for duration: Duration) async throws {
        try await Task.sleep(for: duration)
    }
}
