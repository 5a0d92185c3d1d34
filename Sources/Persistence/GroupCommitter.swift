import Synchronization

/// Group commit: concurrent callers share one write transaction, and so one fsync.
///
/// Callers queue their item and wait. The first caller to find no drain running schedules one on the
/// store's serial executor (the database writer); the drain commits everything queued (up to
/// `maximumBatchSize` per transaction), answers those callers, and goes on while more has queued meanwhile.
/// So under load the writer commits back to back, never waiting for a task to be scheduled, and one fsync
/// covers a whole batch; under light load an item commits alone with no added wait. A caller that is
/// answered has its item on disk. No task is spawned: the drain runs on the writer.
///
/// When the queue runs empty the drain calls `onIdle` once before it stops, for upkeep that should not sit in
/// front of a commit under load (the inbox checkpoints its write-ahead log there).
public final class GroupCommitter<Context, Input: Sendable, Output: Sendable>: Sendable {
    /// Commits a batch in one transaction on the serial executor. Each item's own failure is its own (a savepoint);
    /// a failed transaction fails every item of the batch.
    public typealias Commit = @Sendable (Context, [Input]) -> [Result<Output, any Error>]
    /// Runs a body on the serial executor that owns `Context`, without waiting for it.
    public typealias Schedule = @Sendable (@escaping @Sendable (Context) -> Void) -> Void

    private struct Waiter: Sendable {
        let input: Input
        let continuation: CheckedContinuation<Result<Output, any Error>, Never>
    }

    private struct State: Sendable {
        var waiting: [Waiter] = []
        var draining = false
    }

    private let state = Mutex(State())
    private let schedule: Schedule
    private let commit: Commit
    private let maximumBatchSize: Int
    private let onBatch: @Sendable (Int) -> Void
    private let onIdle: @Sendable (Context) -> Void

    /// - Parameters:
    ///   - maximumBatchSize: the most items one transaction takes.
    ///   - onBatch: told each batch's size (for the commit batch size metric).
    ///   - onIdle: runs on the serial executor when the queue has run empty; items submitted meanwhile wait for it.
    public init(
        maximumBatchSize: Int = 512,
        onBatch: @escaping @Sendable (Int) -> Void = { _ in },
        onIdle: @escaping @Sendable (Context) -> Void = { _ in },
        schedule: @escaping Schedule,
        commit: @escaping Commit
    ) {
        self.maximumBatchSize = max(1, maximumBatchSize)
        self.onBatch = onBatch
        self.onIdle = onIdle
        self.schedule = schedule
        self.commit = commit
    }

    /// How many submitted items wait for a transaction now.
    public var waiting: Int { state.withLock { $0.waiting.count } }

    /// Commits `input` with whatever else is being submitted now; returns once it is durable.
    public func submit(_ input: Input) async throws -> Output {
        let result = await withCheckedContinuation { continuation in
            let startDrain = state.withLock { state in
                state.waiting.append(Waiter(input: input, continuation: continuation))
                if state.draining { return false }
                state.draining = true
                return true
            }
            if startDrain { schedule { context in self.drain(context) } }
        }
        return try result.get()
    }

    private func drain(_ context: Context) {
        var wasIdle = false
        while true {
            let batch = state.withLock { state -> [Waiter]? in
                if state.waiting.isEmpty {
                    if wasIdle {
                        state.draining = false
                        return nil
                    }
                    return []
                }
                let count = min(state.waiting.count, maximumBatchSize)
                let taken = Array(state.waiting.prefix(count))
                state.waiting.removeFirst(count)
                return taken
            }
            guard let batch else { return }
            if batch.isEmpty {
                wasIdle = true
                onIdle(context)
                continue
            }
            wasIdle = false
            onBatch(batch.count)
            var results = commit(context, batch.map(\.input))
            if results.count != batch.count {
                results = Array(repeating: .failure(PersistenceError.commitIncomplete), count: batch.count)
            }
            for (waiter, result) in zip(batch, results) {
                waiter.continuation.resume(returning: result)
            }
        }
    }
}
