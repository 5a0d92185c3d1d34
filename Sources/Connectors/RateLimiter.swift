import Foundation

/// A platform's limits for one integration (QuickBooks: 500 requests a minute and 10 at once per realm, 40
/// batches a minute), kept on Ledgerwire's side so the platform never has to refuse.
public struct RateLimitPolicy: Sendable, Hashable {
    /// At most `limit` requests in any `period` (a sliding window).
    public struct Window: Sendable, Hashable {
        /// `requests` counts every request; any other name counts the requests that name it
        /// (`TransportRequest.rateLimitWindows`).
        public var name: String
        public var limit: Int
        public var period: Duration

        public init(name: String = "requests", limit: Int, period: Duration) {
            self.name = name
            self.limit = limit
            self.period = period
        }
    }

    public var windows: [Window]
    public var maxConcurrent: Int
    /// How long everything waits after the platform throttled a request without saying how long
    /// (no `Retry-After`).
    public var throttlePause: Duration

    public init(windows: [Window], maxConcurrent: Int, throttlePause: Duration = .seconds(10)) {
        self.windows = windows
        self.maxConcurrent = maxConcurrent
        self.throttlePause = throttlePause
    }
}

/// Keeps one integration's requests within its platform's limits: every window's count and the number in flight,
/// and, fed by the platform's answers, a pause for everyone after a 429 or `X-RateLimit-Remaining: 0` (one
/// throttled request stops the others instead of each finding out for itself: no retry storm).
public actor RateLimiter {
    public nonisolated let policy: RateLimitPolicy
    private let clock: LimiterClock
    /// The start of each request counted in each window, oldest first (from `heads[name]` on).
    private var starts: [String: [Duration]] = [:]
    private var heads: [String: Int] = [:]
    private var inFlight = 0
    private var slotWaiters: [CheckedContinuation<Void, Never>] = []
    private var pausedUntil: Duration?
    /// Requests let through, and the times the platform said to slow down.
    public private(set) var requests = 0
    public private(set) var throttles = 0
    /// The time requests spent in `acquire` waiting for a window or a pause (not for a free slot).
    public private(set) var waited = Duration.zero

    /// Told of each wait for a window or a pause (the engine's metrics).
    private let onWait: (@Sendable (Duration) -> Void)?

    /// - Parameters:
    ///   - clock: what the windows and pauses are measured and waited out in (tests pass one they move by hand).
    ///   - onWait: told of each wait for a window or a pause, once it is over.
    public init(
        policy: RateLimitPolicy, clock: any Clock<Duration> = ContinuousClock(),
        onWait: (@Sendable (Duration) -> Void)? = nil
    ) {
        self.policy = policy
        self.clock = LimiterClock(clock)
        self.onWait = onWait
    }

    /// How long new requests still wait because the platform asked for a pause, or `nil` when none is in force.
    public var remainingPause: Duration? {
        guard let pausedUntil else { return nil }
        let left = pausedUntil - clock.now()
        return left > .zero ? left : nil
    }

    /// Waits until a request counted in `windows` (and `requests`) fits every limit, and counts it.
    public func acquire(_ windows: Set<String> = []) async throws {
        while true {
            try Task.checkCancellation()
            if inFlight >= policy.maxConcurrent {
                await withCheckedContinuation { slotWaiters.append($0) }
                continue
            }
            let now = clock.now()
            var wait = Duration.zero
            if let pausedUntil, pausedUntil > now { wait = pausedUntil - now }
            for window in policy.windows where window.name == "requests" || windows.contains(window.name) {
                let counted = count(window, at: now)
                if counted.count >= window.limit, let oldest = counted.oldest {
                    wait = max(wait, oldest + window.period - now)
                }
            }
            if wait > .zero {
                try await clock.sleep(wait)
                waited += wait
                onWait?(wait)
                continue
            }
            inFlight += 1
            requests += 1
            for window in policy.windows where window.name == "requests" || windows.contains(window.name) {
                starts[window.name, default: []].append(now)
            }
            return
        }
    }

    /// Whether a request would be let through at once with `reserving` requests of the `requests` window still to
    /// spare: a lone push goes now only while the window has room for the batches that gather the rest.
    public func hasRoom(reserving: Int) -> Bool {
        let now = clock.now()
        if let pausedUntil, pausedUntil > now { return false }
        guard inFlight < policy.maxConcurrent else { return false }
        for window in policy.windows where window.name == "requests" {
            if count(window, at: now).count >= window.limit - reserving { return false }
        }
        return true
    }

    /// What is left of the `requests` window now (`nil` when the policy has none), and whether a pause is in force.
    public func budget() -> RateLimitBudget? {
        guard let window = policy.windows.first(where: { $0.name == "requests" }) else { return nil }
        let used = count(window, at: clock.now()).count
        return RateLimitBudget(
            remaining: max(0, window.limit - used), limit: window.limit, period: window.period,
            paused: remainingPause != nil)
    }

    /// Ends a request counted by `acquire`, learning from the platform's answer (`nil`: none came).
    public func release(status: Int?, headers: [String: String] = [:]) {
        inFlight -= 1
        if !slotWaiters.isEmpty { slotWaiters.removeFirst().resume() }
        guard let status else { return }
        var pause: Duration?
        if status == 429 {
            throttles += 1
            pause = retryAfter(headers) ?? policy.throttlePause
        } else if status == 503, let retryAfter = retryAfter(headers) {
            pause = retryAfter
        } else if headers["x-ratelimit-remaining"].flatMap(Int.init) == 0 {
            pause = PlatformNumbers.waitSeconds(headers["x-ratelimit-reset"])
        }
        if let pause {
            let until = clock.now() + pause
            pausedUntil = max(pausedUntil ?? until, until)
        }
    }

    private func count(_ window: RateLimitPolicy.Window, at now: Duration) -> (count: Int, oldest: Duration?) {
        guard var list = starts[window.name] else { return (0, nil) }
        var head = heads[window.name, default: 0]
        while head < list.count, list[head] + window.period <= now { head += 1 }
        if head > 1024, head * 2 > list.count {
            list.removeFirst(head)
            head = 0
            starts[window.name] = list
        }
        heads[window.name] = head
        return (list.count - head, head < list.count ? list[head] : nil)
    }

    private func retryAfter(_ headers: [String: String]) -> Duration? {
        PlatformNumbers.retryAfter(headers["retry-after"])
    }
}

/// A limiter's time: how long since it was made, by the clock it was given, and waiting on that clock.
private struct LimiterClock: Sendable {
    let now: @Sendable () -> Duration
    let sleep: @Sendable (Duration) async throws -> Void

    init<C: Clock<Duration>>(_ clock: C) {
        let start = clock.now
        now = { start.duration(to: clock.now) }
        sleep = { try await clock.sleep(for: $0) }
    }
}

/// What an integration may still send in its platform's request window.
public struct RateLimitBudget: Sendable, Hashable {
    public var remaining: Int
    public var limit: Int
    public var period: Duration
    /// Whether the platform asked for a pause that is still in force.
    public var paused: Bool
}

/// The rate limiters of every integration, one each, shared by everything that calls its platform.
public actor RateLimiters {
    private var limiters: [String: RateLimiter] = [:]
    private let onWait: (@Sendable (Duration) -> Void)?

    /// - Parameter onWait: told of every wait of every limiter for a window or a pause (the engine's metrics).
    public init(onWait: (@Sendable (Duration) -> Void)? = nil) {
        self.onWait = onWait
    }

    /// The integration's limiter, if anything has called its platform since the server started.
    public func existing(integrationID: String) -> RateLimiter? { limiters[integrationID] }

    /// The integration's limiter (created with `policy` the first time).
    public func limiter(integrationID: String, policy: RateLimitPolicy) -> RateLimiter {
        if let limiter = limiters[integrationID], limiter.policy == policy { return limiter }
        let limiter = RateLimiter(policy: policy, onWait: onWait)
        limiters[integrationID] = limiter
        return limiter
    }
}

/// An `HTTPTransport` whose requests go through an integration's `RateLimiter`.
public struct RateLimitedTransport: HTTPTransport {
    public let base: any HTTPTransport
    public let limiter: RateLimiter

    public init(base: any HTTPTransport, limiter: RateLimiter) {
        self.base = base
        self.limiter = limiter
    }

    public func send(_ request: TransportRequest) async throws(TransportError) -> TransportResponse {
        do {
            try await limiter.acquire(request.rateLimitWindows)
        } catch {
            throw .failed("cancelled while waiting for the platform's rate limit")
        }
        do {
            let response = try await base.send(request)
            await limiter.release(status: response.status, headers: response.headers)
            return response
        } catch {
            await limiter.release(status: nil)
            throw error
        }
    }
}
