import Synchronization

/// Group commit: concurrent callers share one write transaction, and so one fsync.
///
/// The first caller to arrive while no commit is running leads: it commits its own item together with
/// everything queued so far (up to `maximumBatchSize`), answers every follower, then hands the lead to
/// the oldest caller still waiting. Under light load each item commits alone with no added wait; under
/// heavy load one fsync covers a whole batch. No background task is involved, so nothing needs to be
/// started or stopped, and a caller that is answered has its item on disk.
public final class GroupCommitter<Input: Sendable, Output: Sendable>: Sendable {
    /// Commits a batch in one transaction; each item's own failure is its own (a savepoint), a thrown error
    /// fails the whole batch.
    public typealias Commit = @Sendable ([Input]) async throws -> [Result<Output, any Error>]

    private enum Signal: Sendable {
        case done(Result<Output, any Error>)
        case lead
    }

    private struct Waiter: Sendable {
        let input: Input
        let continuation: CheckedContinuation<Signal, Never>
    }

    private struct State: Sendable {
        var waiting: [Waiter] = []
        var leading = false
    }

    private let state = Mutex(State())
    private let commit: Commit
    private let maximumBatchSize: Int
    private let onBatch: @Sendable (Int) -> Void

    /// - Parameters:
    ///   - maximumBatchSize: the most items one transaction takes.
    ///   - onBatch: told each batch's size (for the commit batch size metric).
    public init(
        maximumBatchSize: Int = 512, onBatch: @escaping @Sendable (Int) -> Void = { _ in }, commit: @escaping Commit
    ) {
        self.maximumBatchSize = max(1, maximumBatchSize)
        self.onBatch = onBatch
        self.commit = commit
    }

    /// Commits `input` with whatever else is being submitted now; returns once it is durable.
    public func submit(_ input: Input) async throws -> Output {
        let signal = await withCheckedContinuation { (continuation: CheckedContinuation<Signal, Never>) in
            let leadNow = state.withLock { state in
                if state.leading {
                    state.waiting.append(Waiter(input: input, continuation: continuation))
                    return false
                }
                state.leading = true
                return true
            }
            if leadNow { continuation.resume(returning: .lead) }
        }
        switch signal {
        case .done(let result):
            return try result.get()
        case .lead:
            return try await lead(with: input).get()
        }
    }

    private func lead(with input: Input) async -> Result<Output, any Error> {
        let followers = state.withLock { state in
            let count = min(state.waiting.count, maximumBatchSize - 1)
            let taken = Array(state.waiting.prefix(count))
            state.waiting.removeFirst(count)
            return taken
        }
        let batch = [input] + followers.map(\.input)
        onBatch(batch.count)
        var results: [Result<Output, any Error>]
        do {
            results = try await commit(batch)
            precondition(results.count == batch.count, "a commit must answer every item")
        } catch {
            results = Array(repeating: .failure(error), count: batch.count)
        }
        for (follower, result) in zip(followers, results.dropFirst()) {
            follower.continuation.resume(returning: .done(result))
        }
        let next = state.withLock { state -> Waiter? in
            if state.waiting.isEmpty {
                state.leading = false
                return nil
            }
            return state.waiting.removeFirst()
        }
        // The next leader commits its own item and whatever queued behind it.
        next?.continuation.resume(returning: .lead)
        return results[0]
    }
}
