import Connectors
import Foundation
import Synchronization
import TestSupport
import Testing

/// A platform double that notes when each request arrived (by the test's clock) and how many were in flight,
/// answering from a script.
final class CountingTransport: HTTPTransport {
    private struct State {
        var arrivals: [Duration] = []
        var inFlight = 0
        var mostInFlight = 0
        var answers: [TransportResponse] = []
    }

    private let state = Mutex(State())
    let clock: TestClock
    let latency: Duration

    init(clock: TestClock, latency: Duration, answers: [TransportResponse] = []) {
        self.clock = clock
        self.latency = latency
        state.withLock { $0.answers = answers }
    }

    /// When each request arrived: the time since the clock started.
    var arrivals: [Duration] { state.withLock { $0.arrivals } }
    var mostInFlight: Int { state.withLock { $0.mostInFlight } }

    func send(_ request: TransportRequest) async throws(TransportError) -> TransportResponse {
        let answer = state.withLock { state in
            state.arrivals.append(clock.now.offset)
            state.inFlight += 1
            state.mostInFlight = max(state.mostInFlight, state.inFlight)
            return state.answers.isEmpty
                ? TransportResponse(status: 200, headers: [:], body: Data()) : state.answers.removeFirst()
        }
        if latency > .zero { try? await clock.sleep(for: latency) }
        state.withLock { $0.inFlight -= 1 }
        return answer
    }
}

@Suite struct RateLimiterTests {
    let request = TransportRequest(method: "GET", url: URL(string: "http://127.0.0.1:9/v3/company/1/query")!)
    let clock = TestClock()

    /// Sends `count` requests at once through a limiter with `policy`, the clock moving on 10 ms at a time while
    /// they wait.
    func burst(
        _ count: Int, policy: RateLimitPolicy, base: CountingTransport, windows: Set<String> = []
    ) async throws -> RateLimiter {
        let limiter = RateLimiter(policy: policy, clock: clock)
        let transport = RateLimitedTransport(base: base, limiter: limiter)
        var named = request
        named.rateLimitWindows = windows
        let sent = named
        try await clock.run(step: .milliseconds(10)) {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<count {
                    group.addTask { _ = try await transport.send(sent) }
                }
                try await group.waitForAll()
            }
        }
        return limiter
    }

    @Test func noWindowIsEverExceededAndNoMoreThanTheLimitRunAtOnce() async throws {
        let base = CountingTransport(clock: clock, latency: .milliseconds(20))
        let policy = RateLimitPolicy(
            windows: [.init(limit: 5, period: .milliseconds(200))], maxConcurrent: 2)
        let limiter = try await burst(16, policy: policy, base: base)
        let arrivals = base.arrivals
        #expect(arrivals.count == 16)
        #expect(base.mostInFlight <= 2)
        // Any 5 consecutive requests plus one more span at least the window.
        for index in 5..<arrivals.count {
            #expect(arrivals[index] - arrivals[index - 5] >= .milliseconds(200))
        }
        // 16 requests at 5 per 200 ms: the last three windows' worth waited.
        #expect(arrivals.last! >= .milliseconds(600))
        #expect(await limiter.requests == 16)
        #expect(await limiter.waited > .zero)
    }

    @Test func aNamedWindowCountsOnlyTheRequestsNamingIt() async throws {
        let base = CountingTransport(clock: clock, latency: .zero)
        let limiter = RateLimiter(
            policy: RateLimitPolicy(
                windows: [
                    .init(limit: 100, period: .seconds(60)), .init(name: "batch", limit: 2, period: .seconds(60)),
                ],
                maxConcurrent: 10),
            clock: clock)
        let transport = RateLimitedTransport(base: base, limiter: limiter)
        for _ in 0..<10 { _ = try await transport.send(request) }
        var batch = request
        batch.rateLimitWindows = ["batch"]
        // Ten plain requests used none of the two batches a minute allows.
        _ = try await transport.send(batch)
        _ = try await transport.send(batch)
        #expect(base.arrivals.count == 12)
        // A third batch waits for the minute to pass, and goes once it has.
        let third = batch
        let waiting = Task { try await transport.send(third) }
        #expect(await clock.waitForSleepers())
        clock.advance(by: .seconds(59))
        #expect(await clock.waitForSleepers())
        #expect(base.arrivals.count == 12)
        clock.advance(by: .seconds(1))
        _ = try await waiting.value
        #expect(base.arrivals == Array(repeating: .zero, count: 12) + [.seconds(60)])
        #expect(await limiter.requests == 13)
        #expect(await limiter.waited == .seconds(60))
    }

    @Test func aRequestWaitingForItsWindowIsCancelled() async throws {
        let base = CountingTransport(clock: clock, latency: .zero)
        let limiter = RateLimiter(
            policy: RateLimitPolicy(windows: [.init(limit: 1, period: .seconds(60))], maxConcurrent: 10),
            clock: clock)
        let transport = RateLimitedTransport(base: base, limiter: limiter)
        _ = try await transport.send(request)
        let sent = request
        let waiting = Task { try await transport.send(sent) }
        #expect(await clock.waitForSleepers())
        waiting.cancel()
        await #expect(throws: TransportError.self) { try await waiting.value }
        #expect(base.arrivals.count == 1)
        #expect(await limiter.requests == 1)
    }

    @Test func aThrottledAnswerPausesEveryRequestForItsRetryAfter() async throws {
        let base = CountingTransport(
            clock: clock, latency: .zero,
            answers: [TransportResponse(status: 429, headers: ["Retry-After": "1"], body: Data())])
        let limiter = RateLimiter(
            policy: RateLimitPolicy(windows: [.init(limit: 100, period: .seconds(60))], maxConcurrent: 1),
            clock: clock)
        let transport = RateLimitedTransport(base: base, limiter: limiter)
        let throttled = try await transport.send(request)
        #expect(throttled.status == 429)
        // The others wait out the platform's pause instead of each being refused in turn.
        let sent = request
        let others = Task {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<3 { group.addTask { _ = try await transport.send(sent) } }
                try await group.waitForAll()
            }
        }
        #expect(await clock.waitForSleepers(3))
        clock.advance(by: .milliseconds(999))
        #expect(await clock.waitForSleepers(3))
        #expect(base.arrivals.count == 1)
        clock.advance(by: .milliseconds(1))
        try await others.value
        #expect(base.arrivals == [.zero, .seconds(1), .seconds(1), .seconds(1)])
        #expect(await limiter.throttles == 1)
    }

    /// Xero's day, planned: a full sync stops at its share, leaving live work and polling theirs; it is turned away at
    /// once (nothing sent, no hours-long wait holding a slot) until its oldest calls age out of the window.
    @Test func aWindowKeepsItsReservesAndTurnsAwayWhatWouldWaitTooLong() async throws {
        let day = RateLimitPolicy.Window(
            name: "day", limit: 10, period: .seconds(86_400), countsEveryRequest: true,
            reserved: [.polling: 2, .live: 3])
        let policy = RateLimitPolicy(windows: [day], maxConcurrent: 5)
        let base = CountingTransport(clock: clock, latency: .zero)
        let limiter = RateLimiter(policy: policy, clock: clock)
        let bulk = RateLimitedTransport(base: base, limiter: limiter, share: .bulk)
        let live = RateLimitedTransport(base: base, limiter: limiter, share: .live)
        let polling = RateLimitedTransport(base: base, limiter: limiter, share: .polling)
        for _ in 0..<5 { _ = try await bulk.send(request) }
        clock.advance(by: .seconds(3600))
        await #expect(throws: TransportError.overLimit(window: "day", retryAfter: .seconds(82_800))) {
            _ = try await bulk.send(request)
        }
        for _ in 0..<3 { _ = try await live.send(request) }
        await #expect(throws: TransportError.self) { _ = try await live.send(request) }
        for _ in 0..<2 { _ = try await polling.send(request) }
        await #expect(throws: TransportError.self) { _ = try await polling.send(request) }
        #expect(base.arrivals.count == 10, "nothing beyond the day's 10 was sent")
        let budget = try #require(await limiter.budgets().first)
        #expect(budget.window == "day" && budget.remaining == 0 && budget.reserved == [.polling: 2, .live: 3])

        // A day after the full sync's calls they have aged out, but the reserves' five calls still count against
        // the window: the full sync goes once those are a day old too.
        clock.advance(by: .seconds(82_800))
        await #expect(throws: TransportError.overLimit(window: "day", retryAfter: .seconds(3600))) {
            _ = try await bulk.send(request)
        }
        _ = try await live.send(request)
        clock.advance(by: .seconds(3600))
        _ = try await bulk.send(request)
        #expect(base.arrivals.count == 12)
    }

    /// What the platform says is left of a window (after a restart, or calls from another process) counts while it
    /// is fresh, when it is more than this limiter counted itself.
    @Test func thePlatformsOwnCountOfAWindowIsBelieved() async throws {
        let day = RateLimitPolicy.Window(
            name: "day", limit: 100, period: .seconds(86_400), countsEveryRequest: true, reserved: [.live: 10],
            remainingHeader: "X-DayLimit-Remaining")
        let base = CountingTransport(
            clock: clock, latency: .zero,
            answers: [TransportResponse(status: 200, headers: ["X-DayLimit-Remaining": "9"], body: Data())])
        let limiter = RateLimiter(policy: RateLimitPolicy(windows: [day], maxConcurrent: 5), clock: clock)
        _ = try await RateLimitedTransport(base: base, limiter: limiter, share: .live).send(request)
        #expect(await limiter.budgets().first?.remaining == 9)
        // 91 used: more than a full sync's 90; live work may still go.
        await #expect(throws: TransportError.self) {
            _ = try await RateLimitedTransport(base: base, limiter: limiter, share: .bulk).send(request)
        }
        _ = try await RateLimitedTransport(base: base, limiter: limiter, share: .live).send(request)
        #expect(base.arrivals.count == 2)
        // A word an hour old is no longer believed: the limiter's own count (2) is all it knows.
        clock.advance(by: .seconds(3601))
        #expect(await limiter.budgets().first?.remaining == 98)
        _ = try await RateLimitedTransport(base: base, limiter: limiter, share: .bulk).send(request)
    }

    /// A pause the platform asks for that is longer than a request may wait (Xero's day spent: `Retry-After` of
    /// hours) turns requests away at once instead of holding them.
    @Test func aPauseLongerThanTheLongestWaitTurnsRequestsAway() async throws {
        let base = CountingTransport(
            clock: clock, latency: .zero,
            answers: [TransportResponse(status: 429, headers: ["Retry-After": "7200"], body: Data())])
        let limiter = RateLimiter(
            policy: RateLimitPolicy(windows: [.init(limit: 60, period: .seconds(61))], maxConcurrent: 5),
            clock: clock)
        let transport = RateLimitedTransport(base: base, limiter: limiter)
        #expect(try await transport.send(request).status == 429)
        await #expect(throws: TransportError.overLimit(window: nil, retryAfter: .seconds(7200))) {
            _ = try await transport.send(request)
        }
        #expect(base.arrivals.count == 1)
    }

    /// Xero's app-wide minute spans organisations: two integrations of one app share it, and only a 429 for the
    /// app's own limit pauses it (one organisation's minute pauses that organisation alone).
    @Test func anAppLimitSpansIntegrationsAndPausesOnlyForItsOwnProblem() async throws {
        let perOrganisation = RateLimitPolicy(windows: [.init(limit: 60, period: .seconds(60))], maxConcurrent: 5)
        let app = RateLimiter(
            policy: RateLimitPolicy(
                windows: [.init(limit: 3, period: .seconds(60))], maxConcurrent: 100, throttleProblems: ["appminute"]),
            clock: clock)
        let base = CountingTransport(
            clock: clock, latency: .zero,
            answers: [
                TransportResponse(
                    status: 429, headers: ["Retry-After": "30", "X-Rate-Limit-Problem": "minute"], body: Data())
            ])
        let first = RateLimitedTransport(
            base: base, limiter: RateLimiter(policy: perOrganisation, clock: clock), app: app)
        let secondLimiter = RateLimiter(policy: perOrganisation, clock: clock)
        let second = RateLimitedTransport(base: base, limiter: secondLimiter, app: app)
        #expect(try await first.send(request).status == 429)
        #expect(await app.remainingPause == nil, "one organisation's minute is not the app's")
        _ = try await second.send(request)
        _ = try await second.send(request)
        // The app's 3 a minute are spent: the next request of either organisation waits for the window.
        let sent = request
        let waiting = Task { try await second.send(sent) }
        #expect(await clock.waitForSleepers(1))
        #expect(base.arrivals.count == 3)
        clock.advance(by: .seconds(60))
        _ = try await waiting.value
        #expect(base.arrivals.count == 4)
        #expect(await secondLimiter.requests == 3)
        #expect(await app.requests == 4)

        clock.advance(by: .seconds(60))
        try await app.acquire()
        await app.release(status: 429, headers: ["retry-after": "20", "x-rate-limit-problem": "appminute"])
        #expect(await app.remainingPause != nil, "the app's own limit pauses every organisation")
    }
}
