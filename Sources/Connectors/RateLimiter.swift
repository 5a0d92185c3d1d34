import Foundation

/// A platform's limits for one integration (QuickBooks: 500 requests a minute and 10 at once per realm, 40
/// batches a minute), kept on Ledgerwire's side so the platform never has to refuse.
public struct RateLimitPolicy: Sendable, Hashable {
    /// At most `limit` requests in any `period` (a sliding window).
    public struct Window: Sendable, Hashable {
        /// `requests` counts every request; any other name counts the requests that name it
        /// (`TransportRequest.rateLimitWindows`), unless `countsEveryRequest` says otherwise.
        public var name: String
        public var limit: Int
        public var period: Duration
        /// Whether every request counts in it (the overall window, Xero's day), not only those naming it.
        public var countsEveryRequest: Bool
        /// Requests of the window kept for a share of the work and those above it (`RateLimitShare`): Xero's day
        /// keeps some for polling, which alone hears of payments, and some for live work, so a full sync spreads
        /// over days instead of spending them.
        public var reserved: [RateLimitShare: Int]
        /// The answer header, lowercased, in which the platform says how many requests of the window are left
        /// (Xero's `x-daylimit-remaining`): what another process, or this one before a restart, spent counts too.
        public var remainingHeader: String?

        public init(
            name: String = "requests", limit: Int, period: Duration, countsEveryRequest: Bool? = nil,
            reserved: [RateLimitShare: Int] = [:], remainingHeader: String? = nil
        ) {
            self.name = name
            self.limit = limit
            self.period = period
            self.countsEveryRequest = countsEveryRequest ?? (name == "requests")
            self.reserved = reserved
            self.remainingHeader = remainingHeader?.lowercased()
        }

        /// How many of the window's requests `share` may use: all but those reserved for the shares above it, and
        /// at least one.
        public func allowance(for share: RateLimitShare) -> Int {
            max(1, limit - share.above.reduce(0) { $0 + (reserved[$1] ?? 0) })
        }
    }

    public var windows: [Window]
    public var maxConcurrent: Int
    /// How long everything waits after the platform throttled a request without saying how long
    /// (no `Retry-After`).
    public var throttlePause: Duration
    /// The longest a request waits for a window or a pause; a longer wait (a day's budget spent, a platform's
    /// `Retry-After` of hours) turns it away at once (`RateLimitExceeded`), and its job is deferred rather than hold
    /// a slot for hours.
    public var maximumWait: Duration
    /// The limits (`X-Rate-Limit-Problem`, lowercased) whose 429s pause this limiter; `nil`: every 429. An app's
    /// limiter across organisations pauses for the app's own limit only, not for one organisation's minute.
    public var throttleProblems: Set<String>?

    public init(
        windows: [Window], maxConcurrent: Int, throttlePause: Duration = .seconds(10),
        maximumWait: Duration = .seconds(90), throttleProblems: Set<String>? = nil
    ) {
        self.windows = windows
        self.maxConcurrent = maxConcurrent
        self.throttlePause = throttlePause
        self.maximumWait = maximumWait
        self.throttleProblems = throttleProblems
    }
}

/// Whose request it is, for a window that keeps part of itself for some of the work (`Window.reserved`). Polling
/// may use the whole window, live work all but polling's reserve, a full sync what both leave.
public enum RateLimitShare: String, Sendable, Hashable, CaseIterable {
    /// A full sync's pushes and reads.
    case bulk
    /// Billing's events pushed, the changes webhooks announced fetched, a person's own calls.
    case live
    /// The change feed read on its interval: the safety net for missed webhooks, and all Xero says of payments.
    case polling

    /// The shares whose reserves this one leaves alone.
    var above: [RateLimitShare] {
        switch self {
        case .bulk: [.live, .polling]
        case .live: [.polling]
        case .polling: []
        }
    }
}

/// A request turned away by its own side because it would wait longer than `RateLimitPolicy.maximumWait`: the
/// window (or the platform's pause) lets it through only after `retryAfter`. Nothing was sent.
public struct RateLimitExceeded: Error, Sendable, Hashable {
    /// The window that is spent for the request's share, or `nil` for a pause the platform asked for.
    public var window: String?
    public var retryAfter: Duration
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
    /// What the platform last said each window (with a `remainingHeader`) had used, and when.
    private var reported: [String: (used: Int, at: Duration)] = [:]
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

    /// Waits until a request counted in `windows` (and in every window that counts all) fits every limit within
    /// `share`'s allowance, and counts it.
    /// - Throws: `RateLimitExceeded` when that would take longer than the policy's `maximumWait`;
    ///   `CancellationError`.
    public func acquire(_ windows: Set<String> = [], share: RateLimitShare = .live) async throws {
        while true {
            try Task.checkCancellation()
            if inFlight >= policy.maxConcurrent {
                await withCheckedContinuation { slotWaiters.append($0) }
                continue
            }
            let now = clock.now()
            var wait = Duration.zero
            var longest: String?
            if let pausedUntil, pausedUntil > now { wait = pausedUntil - now }
            for window in policy.windows where window.countsEveryRequest || windows.contains(window.name) {
                let free = freeIn(window, for: share, at: now)
                if free > wait {
                    wait = free
                    longest = window.name
                }
            }
            if wait > policy.maximumWait { throw RateLimitExceeded(window: longest, retryAfter: wait) }
            if wait > .zero {
                try await clock.sleep(wait)
                waited += wait
                onWait?(wait)
                continue
            }
            inFlight += 1
            requests += 1
            for window in policy.windows where window.countsEveryRequest || windows.contains(window.name) {
                starts[window.name, default: []].append(now)
            }
            return
        }
    }

    /// How long until `window` has room for one more request of `share` (zero: it has now). What the platform
    /// reported used counts while it is fresh, when it is more than this limiter counted.
    private func freeIn(_ window: RateLimitPolicy.Window, for share: RateLimitShare, at now: Duration) -> Duration {
        let allowed = window.allowance(for: share)
        let counted = count(window, at: now)
        if counted.count >= allowed, let list = starts[window.name] {
            // The request that must age out first is the (count - allowed + 1)th oldest.
            let index = (heads[window.name] ?? 0) + counted.count - allowed
            return list[index] + window.period - now
        }
        if let report = reported[window.name], now - report.at < Self.freshness(window), report.used >= allowed {
            return report.at + Self.freshness(window) - now
        }
        return .zero
    }

    /// How long what the platform reported of a window is believed without a newer word (every answer brings
    /// one): a 24th of the window's period, an hour of Xero's day.
    private static func freshness(_ window: RateLimitPolicy.Window) -> Duration {
        window.period / 24
    }

    /// Whether a request of `share` would be let through at once with `reserving` requests still to spare in every
    /// window that counts all requests (within the share's allowance): a lone push goes now only while the windows
    /// have room for the batches that gather the rest.
    public func hasRoom(reserving: Int, share: RateLimitShare = .live) -> Bool {
        let now = clock.now()
        if let pausedUntil, pausedUntil > now { return false }
        guard inFlight < policy.maxConcurrent else { return false }
        for window in policy.windows where window.countsEveryRequest {
            var used = count(window, at: now).count
            if let report = reported[window.name], now - report.at < Self.freshness(window) {
                used = max(used, report.used)
            }
            if used >= window.allowance(for: share) - reserving { return false }
        }
        return true
    }

    /// What is left of the `requests` window now (`nil` when the policy has none), and whether a pause is in force.
    public func budget() -> RateLimitBudget? {
        budgets().first { $0.window == "requests" }
    }

    /// What is left of every window now: this limiter's count, or what the platform last reported when that is
    /// more.
    public func budgets() -> [RateLimitBudget] {
        let now = clock.now()
        let paused = remainingPause != nil
        return policy.windows.map { window in
            var used = count(window, at: now).count
            if let report = reported[window.name], now - report.at < Self.freshness(window) {
                used = max(used, report.used)
            }
            return RateLimitBudget(
                window: window.name, remaining: max(0, window.limit - used), limit: window.limit,
                period: window.period, reserved: window.reserved, paused: paused)
        }
    }

    /// Ends a request counted by `acquire`, learning from the platform's answer (`nil`: none came).
    public func release(status: Int?, headers: [String: String] = [:]) {
        inFlight -= 1
        if !slotWaiters.isEmpty { slotWaiters.removeFirst().resume() }
        guard let status else { return }
        var pause: Duration?
        let problem = headers["x-rate-limit-problem"]?.lowercased() ?? ""
        if status == 429, let problems = policy.throttleProblems, !problems.contains(problem) {
            // Another limit's throttle (one organisation's minute): not this limiter's.
        } else if status == 429 {
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
        for window in policy.windows {
            guard let header = window.remainingHeader, let remaining = headers[header].flatMap(Int.init),
                (0...window.limit).contains(remaining)
            else { continue }
            reported[window.name] = (window.limit - remaining, clock.now())
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

/// What an integration may still send in one of its platform's windows.
public struct RateLimitBudget: Sendable, Hashable {
    /// The window's name (`requests`, Xero's `day`).
    public var window: String
    public var remaining: Int
    public var limit: Int
    public var period: Duration
    /// What the window keeps for each share of the work (`RateLimitPolicy.Window.reserved`).
    public var reserved: [RateLimitShare: Int]
    /// Whether the platform asked for a pause that is still in force.
    public var paused: Bool
}

/// The rate limiters of every integration, one each, shared by everything that calls its platform.
public actor RateLimiters {
    private var limiters: [String: RateLimiter] = [:]
    private let clock: any Clock<Duration>
    private let onWait: (@Sendable (Duration) -> Void)?

    /// - Parameters:
    ///   - clock: what the limiters' windows are measured in (tests pass one they move by hand).
    ///   - onWait: told of every wait of every limiter for a window or a pause (the engine's metrics).
    public init(clock: any Clock<Duration> = ContinuousClock(), onWait: (@Sendable (Duration) -> Void)? = nil) {
        self.clock = clock
        self.onWait = onWait
    }

    /// The integration's limiter, if anything has called its platform since the server started.
    public func existing(integrationID: String) -> RateLimiter? { limiters[integrationID] }

    /// The integration's limiter (created with `policy` the first time).
    public func limiter(integrationID: String, policy: RateLimitPolicy) -> RateLimiter {
        if let limiter = limiters[integrationID], limiter.policy == policy { return limiter }
        let limiter = RateLimiter(policy: policy, clock: clock, onWait: onWait)
        limiters[integrationID] = limiter
        return limiter
    }

    /// The limiter an app's integrations share on one platform (`ConnectorCapabilities.appRateLimit`), by the app's
    /// OAuth client id.
    public func limiter(platform: String, app clientID: String, policy: RateLimitPolicy) -> RateLimiter {
        let key = "app:\(platform):\(clientID)"
        if let limiter = limiters[key], limiter.policy == policy { return limiter }
        let limiter = RateLimiter(policy: policy, clock: clock, onWait: onWait)
        limiters[key] = limiter
        return limiter
    }
}

/// An `HTTPTransport` whose requests go through an integration's `RateLimiter`.
public struct RateLimitedTransport: HTTPTransport {
    public let base: any HTTPTransport
    public let limiter: RateLimiter
    /// The limiter of every integration of the same app (Xero's limit across organisations), when there is one.
    public let app: RateLimiter?
    /// Whose requests these are, for windows that keep shares.
    public let share: RateLimitShare

    public init(base: any HTTPTransport, limiter: RateLimiter, app: RateLimiter? = nil, share: RateLimitShare = .live) {
        self.base = base
        self.limiter = limiter
        self.app = app
        self.share = share
    }

    public func send(_ request: TransportRequest) async throws(TransportError) -> TransportResponse {
        try await Self.acquire(limiter, request, share: share)
        if let app {
            do {
                try await Self.acquire(app, request, share: share)
            } catch {
                await limiter.release(status: nil)
                throw error
            }
        }
        do {
            let response = try await base.send(request)
            await limiter.release(status: response.status, headers: response.headers)
            await app?.release(status: response.status, headers: response.headers)
            return response
        } catch {
            await limiter.release(status: nil)
            await app?.release(status: nil)
            throw error
        }
    }

    private static func acquire(_ limiter: RateLimiter, _ request: TransportRequest, share: RateLimitShare)
        async throws(TransportError)
    {
        do {
            try await limiter.acquire(request.rateLimitWindows, share: share)
        } catch let exceeded as RateLimitExceeded {
            throw .overLimit(window: exceeded.window, retryAfter: exceeded.retryAfter)
        } catch {
            throw .failed("cancelled while waiting for the platform's rate limit")
        }
    }
}
