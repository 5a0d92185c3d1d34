import Connectors
import Foundation
import Synchronization
import Testing

/// A platform double that notes when each request arrived and how many were in flight, answering from a script.
final class CountingTransport: HTTPTransport {
    private struct State {
        var arrivals: [ContinuousClock.Instant] = []
        var inFlight = 0
        var mostInFlight = 0
        var answers: [TransportResponse] = []
    }

    private let state = Mutex(State())
    let latency: Duration

    init(latency: Duration, answers: [TransportResponse] = []) {
        self.latency = latency
        state.withLock { $0.answers = answers }
    }

    var arrivals: [ContinuousClock.Instant] { state.withLock { $0.arrivals } }
    var mostInFlight: Int { state.withLock { $0.mostInFlight } }

    func send(_ request: TransportRequest) async throws(TransportError) -> TransportResponse {
        let answer = state.withLock { state in
            state.arrivals.append(.now)
            state.inFlight += 1
            state.mostInFlight = max(state.mostInFlight, state.inFlight)
            return state.answers.isEmpty
                ? TransportResponse(status: 200, headers: [:], body: Data()) : state.answers.removeFirst()
        }
        try? await Task.sleep(for: latency)
        state.withLock { $0.inFlight -= 1 }
        return answer
    }
}

@Suite struct RateLimiterTests {
    let request = TransportRequest(method: "GET", url: URL(string: "http://127.0.0.1:9/v3/company/1/query")!)

    /// Sends `count` requests at once through a limiter with `policy`.
    func burst(
        _ count: Int, policy: RateLimitPolicy, base: CountingTransport, windows: Set<String> = []
    ) async throws -> RateLimiter {
        let limiter = RateLimiter(policy: policy)
        let transport = RateLimitedTransport(base: base, limiter: limiter)
        var named = request
        named.rateLimitWindows = windows
        let sent = named
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<count {
                group.addTask { _ = try await transport.send(sent) }
            }
            try await group.waitForAll()
        }
        return limiter
    }

    @Test func noWindowIsEverExceededAndNoMoreThanTheLimitRunAtOnce() async throws {
        let base = CountingTransport(latency: .milliseconds(20))
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
        #expect(await limiter.requests == 16)
    }

    @Test func aNamedWindowCountsOnlyTheRequestsNamingIt() async throws {
        let base = CountingTransport(latency: .zero)
        let limiter = RateLimiter(
            policy: RateLimitPolicy(
                windows: [
                    .init(limit: 100, period: .seconds(60)), .init(name: "batch", limit: 2, period: .seconds(60)),
                ],
                maxConcurrent: 10))
        let transport = RateLimitedTransport(base: base, limiter: limiter)
        for _ in 0..<10 { _ = try await transport.send(request) }
        var batch = request
        batch.rateLimitWindows = ["batch"]
        // Ten plain requests used none of the two batches a minute allows.
        _ = try await transport.send(batch)
        _ = try await transport.send(batch)
        #expect(base.arrivals.count == 12)
        // A third batch waits for the minute to pass.
        let third = batch
        let waiting = Task { try await transport.send(third) }
        try await Task.sleep(for: .milliseconds(300))
        #expect(base.arrivals.count == 12)
        waiting.cancel()
        await #expect(throws: TransportError.self) { try await waiting.value }
        #expect(await limiter.requests == 12)
    }

    @Test func aThrottledAnswerPausesEveryRequestForItsRetryAfter() async throws {
        let base = CountingTransport(
            latency: .zero,
            answers: [TransportResponse(status: 429, headers: ["Retry-After": "1"], body: Data())])
        let limiter = RateLimiter(
            policy: RateLimitPolicy(windows: [.init(limit: 100, period: .seconds(60))], maxConcurrent: 1))
        let transport = RateLimitedTransport(base: base, limiter: limiter)
        let throttled = try await transport.send(request)
        #expect(throttled.status == 429)
        // The others wait out the platform's pause instead of each being refused in turn.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<3 { group.addTask { _ = try await transport.send(request) } }
            try await group.waitForAll()
        }
        let arrivals = base.arrivals
        #expect(arrivals.count == 4)
        #expect(arrivals[1] - arrivals[0] >= .seconds(1))
        #expect(await limiter.throttles == 1)
    }
}
