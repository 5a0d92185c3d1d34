import Connectors

/// The pushes of one integration's jobs claimed together, gathered into the platform's batches.
///
/// Each job runs as usual (mappings, dependencies, outcome) and hands its push here. Once `size` pushes wait, or
/// every job of the round has either pushed or ended without pushing, the first job of the chunk is told to lead:
/// it sends the whole chunk in one call and hands each follower its result. No timer: a round knows its jobs.
actor PushBatch {
    /// What a job's push gets: its result, or the chunk to send (its own push first).
    enum Turn: Sendable {
        case result(Result<PushResult, any Error>)
        case lead(chunk: Int, requests: [PushRequest])
    }

    private let size: Int
    /// Each job's place in the round (the claim's order: billing's order).
    private let order: [String: Int]
    /// Jobs of the round that have neither pushed nor ended.
    private var outstanding: Set<String>
    private var queue: [(place: Int, request: PushRequest, continuation: CheckedContinuation<Turn, Never>)] = []
    /// The followers of each chunk being sent, in the chunk's order after its leader.
    private var followers: [Int: [CheckedContinuation<Turn, Never>]] = [:]
    private var nextChunk = 0

    init(jobs: [String], size: Int) {
        self.outstanding = Set(jobs)
        self.order = Dictionary(zip(jobs, jobs.indices), uniquingKeysWith: { first, _ in first })
        self.size = max(1, size)
    }

    /// Hands over job `jobID`'s push and waits for its turn.
    func submit(jobID: String, _ request: PushRequest) async -> Turn {
        outstanding.remove(jobID)
        return await withCheckedContinuation { continuation in
            queue.append((order[jobID] ?? .max, request, continuation))
            flushDue()
        }
    }

    /// Job `jobID` ended (without pushing, or after); the others need not wait for it.
    func finished(jobID: String) {
        guard outstanding.remove(jobID) != nil else { return }
        flushDue()
    }

    /// Pushes handed over and waiting for their chunk.
    var waiting: Int { queue.count }

    /// A leader's results for its chunk, in the chunk's order.
    func deliver(chunk: Int, _ results: [Result<PushResult, any Error>]) {
        for (continuation, result) in zip(followers.removeValue(forKey: chunk) ?? [], results.dropFirst()) {
            continuation.resume(returning: .result(result))
        }
    }

    private func flushDue() {
        while queue.count >= size || (outstanding.isEmpty && !queue.isEmpty) {
            // In the round's order, not the order the jobs happened to get here: of two customers of one name sent
            // together, the one billing sent first keeps the plain name, every time.
            let chunk = queue.prefix(size).sorted { $0.place < $1.place }
            queue.removeFirst(chunk.count)
            let id = nextChunk
            nextChunk += 1
            followers[id] = chunk.dropFirst().map(\.continuation)
            chunk[0].continuation.resume(returning: .lead(chunk: id, requests: chunk.map(\.request)))
        }
    }
}
