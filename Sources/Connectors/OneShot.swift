import Synchronization

/// A value handed over once, from whoever has it to one task waiting for it, with a deadline. The first of
/// `resume`, the deadline and cancellation settles it, and what it settled to stays readable (`settled`), so a
/// value that arrived as the deadline passed is not lost.
final class OneShot<Value: Sendable>: Sendable {
    private enum State {
        case idle
        case waiting(CheckedContinuation<Value?, Never>)
        case settled(Value?)
    }

    private let state = Mutex<State>(.idle)

    init() {}

    /// What it settled to: `nil` while unsettled, `.some(nil)` after a deadline or a cancellation.
    var settled: Value?? {
        state.withLock { state in
            if case .settled(let value) = state { return .some(value) }
            return nil
        }
    }

    /// Hands `value` to the waiter. `false` when it had already settled (the deadline passed first).
    @discardableResult
    func resume(_ value: Value) -> Bool { settle(value) }

    /// The value, or `nil` when `limit` passed first or the task was cancelled. One waiter only.
    func wait(upTo limit: Duration) async -> Value? {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { _ = await self.wait() }
            group.addTask {
                try? await Task.sleep(for: limit)
                self.settle(nil)
            }
            _ = await group.next()
            group.cancelAll()
        }
        return settled ?? nil
    }

    private func wait() async -> Value? {
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let ready: Value?? = state.withLock { state in
                    switch state {
                    case .idle:
                        state = .waiting(continuation)
                        return nil
                    case .settled(let value):
                        return .some(value)
                    case .waiting:
                        return .some(nil)
                    }
                }
                if let ready { continuation.resume(returning: ready) }
            }
        } onCancel: {
            settle(nil)
        }
    }

    @discardableResult
    private func settle(_ value: Value?) -> Bool {
        let (accepted, waiting): (Bool, CheckedContinuation<Value?, Never>?) = state.withLock { state in
            switch state {
            case .idle:
                state = .settled(value)
                return (true, nil)
            case .waiting(let continuation):
                state = .settled(value)
                return (true, continuation)
            case .settled:
                return (false, nil)
            }
        }
        waiting?.resume(returning: value)
        return accepted
    }
}
