import ServiceLifecycle
import Synchronization

/// A nudge for the engine's loop (`SyncEngine.work`): new work was queued in this process (billing's events
/// committed, a webhook from the books), so it claims at once instead of at its next poll. Signals coalesce: any
/// number of them before the loop looks cost one claim. Other processes' work is found by the poll.
public final class WorkSignal: Sendable {
    private struct State {
        var pending = false
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let state = Mutex(State())

    public init() {}

    /// Says new work may be due.
    public func signal() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard let waiter = state.waiter else {
                state.pending = true
                return nil
            }
            state.waiter = nil
            return waiter
        }
        waiter?.resume()
    }

    /// A loop's wait between looks: `interval`, cut short by `signal` (when there is one), a graceful shutdown or
    /// cancellation.
    static func poll(_ interval: Duration, orUntil signal: WorkSignal?) async {
        await withTaskGroup(of: Void.self) { waits in
            waits.addTask { try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) } }
            if let signal { waits.addTask { await signal.wait() } }
            await waits.next()
            waits.cancelAll()
        }
    }

    /// Returns once signalled since the last return (at once if it already was), or when the task is cancelled.
    /// One waiter at a time.
    public func wait() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let resumeNow = state.withLock { state -> Bool in
                    if state.pending || Task.isCancelled {
                        state.pending = false
                        return true
                    }
                    state.waiter = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume()
        }
    }
}
