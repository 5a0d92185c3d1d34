import Connectors

/// The lone pushes of one integration whose platform takes batches, kept within its limits the way the inbox keeps
/// commits: a push goes at once, alone, while the platform's request window has room to spare; beyond that, pushes
/// queue, and one of them leads a batch of everything queued (up to `size`) at the pace the batch window allows.
///
/// So a trickle of invoices reaches the books within milliseconds, and a stream faster than the platform's
/// per-minute limit allows one by one (QuickBooks: 500 requests a minute; 10 invoices a second is 600) is carried
/// partly in batches instead of queueing for the window. Jobs claimed together in one round gather in `PushBatch`.
actor PushLane {
    enum Turn: Sendable {
        /// Push it alone, now.
        case alone
        case result(Result<PushResult, any Error>)
        /// Send these (this job's push first) in one call, then `deliver` their results.
        case lead(chunk: Int, requests: [PushRequest])
    }

    private enum Wake {
        case result(Result<PushResult, any Error>)
        case lead
    }

    private let size: Int
    private let limiter: RateLimiter
    /// Requests of the window kept for batches and reads: a lone push goes only while more than this is left. A batch
    /// may cost two requests (the connector's look-up of what is already in the books, then the batch), so twice the
    /// batch window's limit, and 10 for reads.
    private let reserve: Int
    /// Between two batches: the batch window's period over its limit, so batches are spread over the window
    /// instead of spending it in a burst of small ones.
    private let pace: Duration
    private let clock = ContinuousClock()
    /// Waiting pushes, oldest first. Whenever it is not empty a leader is on its way (`leading`), and the leader's
    /// own push is the first.
    private var queue: [(request: PushRequest, continuation: CheckedContinuation<Wake, Never>)] = []
    private var leading = false
    private var lastBatch: ContinuousClock.Instant?
    private var followers: [Int: [CheckedContinuation<Wake, Never>]] = [:]
    private var nextChunk = 0

    init(size: Int, limiter: RateLimiter) {
        self.size = max(1, size)
        self.limiter = limiter
        let batchWindow = limiter.policy.windows.first { $0.name == "batch" }
        self.reserve = 2 * (batchWindow?.limit ?? 0) + 10
        self.pace = batchWindow.map { $0.period / max(1, $0.limit) } ?? .zero
    }

    /// Hands over a lone push of `share`'s work and waits for its turn.
    func submit(_ request: PushRequest, share: RateLimitShare) async -> Turn {
        if queue.isEmpty, !leading, await limiter.hasRoom(reserving: reserve, share: share), queue.isEmpty, !leading {
            return .alone
        }
        let wake = await withCheckedContinuation { continuation in
            queue.append((request, continuation))
            if !leading {
                leading = true
                continuation.resume(returning: .lead)
            }
        }
        switch wake {
        case .result(let result):
            return .result(result)
        case .lead:
            if let lastBatch, lastBatch + pace > clock.now {
                // Cancelled (a shutdown): the chunk goes all the same, and its call ends at once.
                try? await clock.sleep(until: lastBatch + pace)
            }
            lastBatch = clock.now
            let chunk = Array(queue.prefix(size))
            queue.removeFirst(chunk.count)
            let id = nextChunk
            nextChunk += 1
            followers[id] = chunk.dropFirst().map(\.continuation)
            return .lead(chunk: id, requests: chunk.map(\.request))
        }
    }

    /// A leader's results for its chunk, in the chunk's order; the next waiting push leads the next chunk.
    func deliver(chunk: Int, _ results: [Result<PushResult, any Error>]) {
        for (continuation, result) in zip(followers.removeValue(forKey: chunk) ?? [], results.dropFirst()) {
            continuation.resume(returning: .result(result))
        }
        if let next = queue.first {
            next.continuation.resume(returning: .lead)
        } else {
            leading = false
        }
    }
}

/// One lane per integration, for as long as the engine runs.
actor PushLanes {
    private var lanes: [String: PushLane] = [:]

    func lane(integrationID: String, size: Int, limiter: RateLimiter) -> PushLane {
        if let lane = lanes[integrationID] { return lane }
        let lane = PushLane(size: size, limiter: limiter)
        lanes[integrationID] = lane
        return lane
    }
}
