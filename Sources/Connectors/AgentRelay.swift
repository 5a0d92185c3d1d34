public import Foundation

/// The requests on their way to integrations' agents, and the agents' replies: the server's half of
/// `ledgerwire tally-agent`, for books on a LAN the server cannot reach.
///
/// A connector's request to `agent://<integration id>/` (`AgentRoutingTransport`) joins the integration's queue,
/// first in first out; the agent long-polls (`next`) and takes one at a time, sends it to the books and posts
/// their answer (`reply`), which the connector's `send` returns as if the books had answered it directly.
///
/// - No agent of the integration polling now or within `connectedWindow`: `send` throws `.cannotConnect` at once,
///   nothing having been sent, so the sync engine defers the job without using an attempt.
/// - A request still queued when its `timeout` passes was never sent either (`.cannotConnect`); one the agent took
///   without replying in time is `.timedOut` (it may have reached the books).
/// - Bounded: at most `maximumWaiting` queued requests per integration (more: `.overLimit`, nothing sent), bodies
///   up to `maximumBodyBytes` either way.
public actor AgentRelay {
    /// How recently an agent must have polled to count as connected.
    public nonisolated let connectedWindow: Duration
    public nonisolated let maximumWaiting: Int
    public nonisolated let maximumBodyBytes: Int
    private let now: @Sendable () -> ContinuousClock.Instant
    private let makeID: @Sendable () -> String

    private struct Entry {
        var request: AgentRequest
        var integrationID: String
        var reply: OneShot<Result<TransportResponse, TransportError>>
    }

    private var queues: [String: [Entry]] = [:]
    private var taken: [String: Entry] = [:]
    private var lastPoll: [String: ContinuousClock.Instant] = [:]
    private var polling: [String: Int] = [:]
    private var pollers: [String: [OneShot<Void>]] = [:]

    /// - Parameters:
    ///   - maximumBodyBytes: the longest request or reply body relayed (the server's own limit on answers).
    ///   - now: the clock `connectedWindow` is measured on (tests move it).
    ///   - makeID: each request's id.
    public init(
        connectedWindow: Duration = .seconds(60), maximumWaiting: Int = 256,
        maximumBodyBytes: Int = HTTPClientTransport.defaultMaximumResponseBytes,
        now: @escaping @Sendable () -> ContinuousClock.Instant = { .now },
        makeID: @escaping @Sendable () -> String = { "agr_" + UUID().uuidString.lowercased() }
    ) {
        self.connectedWindow = connectedWindow
        self.maximumWaiting = max(1, maximumWaiting)
        self.maximumBodyBytes = max(1, maximumBodyBytes)
        self.now = now
        self.makeID = makeID
    }

    /// Whether an agent of the integration is polling now or polled within `connectedWindow`.
    public func isConnected(integrationID: String) -> Bool {
        if polling[integrationID, default: 0] > 0 { return true }
        guard let last = lastPoll[integrationID] else { return false }
        return now() - last <= connectedWindow
    }

    /// Sends `request` through the integration's agent and waits for its reply, up to `request.timeout`.
    public func send(_ request: TransportRequest, integrationID: String) async throws(TransportError)
        -> TransportResponse
    {
        guard isConnected(integrationID: integrationID) else {
            throw .cannotConnect("the Tally agent of integration \(integrationID) is not connected")
        }
        let body = request.body ?? Data()
        guard body.count <= maximumBodyBytes else {
            throw .failed("the request's body is longer than the \(maximumBodyBytes) bytes the agent relay takes")
        }
        guard queues[integrationID, default: []].count < maximumWaiting else {
            throw .overLimit(window: nil, retryAfter: .seconds(5))
        }
        var path = request.url.path.isEmpty ? "/" : request.url.path
        if let query = request.url.query { path += "?" + query }
        let entry = Entry(
            request: AgentRequest(
                id: makeID(), method: request.method, path: path, headers: request.headers, body: body,
                timeout: request.timeout),
            integrationID: integrationID, reply: OneShot())
        queues[integrationID, default: []].append(entry)
        for poller in pollers.removeValue(forKey: integrationID) ?? [] { poller.resume(()) }
        if let result = await entry.reply.wait(upTo: request.timeout) { return try result.get() }
        // The deadline passed or the caller was cancelled: withdraw the request.
        if let index = queues[integrationID]?.firstIndex(where: { $0.request.id == entry.request.id }) {
            queues[integrationID]?.remove(at: index)
            throw .cannotConnect(
                "the Tally agent of integration \(integrationID) did not take the request within \(request.timeout)")
        }
        taken[entry.request.id] = nil
        // A reply may have settled it just as the deadline passed.
        if case .some(.some(let result)) = entry.reply.settled { return try result.get() }
        throw .timedOut
    }

    /// The integration's next request, waiting up to `wait` for one: `nil` when none came. The agent counts as
    /// connected while it waits, and for `connectedWindow` after.
    public func next(integrationID: String, wait: Duration) async -> AgentRequest? {
        lastPoll[integrationID] = now()
        polling[integrationID, default: 0] += 1
        defer {
            polling[integrationID, default: 1] -= 1
            if polling[integrationID] == 0 { polling[integrationID] = nil }
            lastPoll[integrationID] = now()
        }
        let deadline = ContinuousClock.now + wait
        while true {
            if var queue = queues[integrationID], !queue.isEmpty {
                let entry = queue.removeFirst()
                queues[integrationID] = queue.isEmpty ? nil : queue
                taken[entry.request.id] = entry
                return entry.request
            }
            let remaining = deadline - ContinuousClock.now
            guard remaining > .zero, !Task.isCancelled else { return nil }
            let poller = OneShot<Void>()
            pollers[integrationID, default: []].append(poller)
            _ = await poller.wait(upTo: remaining)
            pollers[integrationID]?.removeAll { $0 === poller }
            if pollers[integrationID]?.isEmpty == true { pollers[integrationID] = nil }
        }
    }

    /// The agent's reply to request `requestID`, handed to the connector waiting for it.
    /// - Returns: `false` when the integration has no such request out (never taken, answered already, or its
    ///   deadline passed).
    public func reply(integrationID: String, requestID: String, _ reply: AgentReply) -> Bool {
        lastPoll[integrationID] = now()
        guard let entry = taken[requestID], entry.integrationID == integrationID else { return false }
        taken[requestID] = nil
        let result: Result<TransportResponse, TransportError>
        switch reply {
        case .response(let response):
            if response.body.count > maximumBodyBytes {
                result = .failure(.responseTooLarge(limit: maximumBodyBytes))
            } else {
                result = .success(response)
            }
        case .failure("cannot_connect", let message):
            result = .failure(.cannotConnect("the Tally agent of integration \(integrationID): \(message)"))
        case .failure("timed_out", _):
            result = .failure(.timedOut)
        case .failure(_, let message):
            result = .failure(.failed("the Tally agent of integration \(integrationID): \(message)"))
        }
        return entry.reply.resume(result)
    }

    /// How many requests wait for the integration's agent, not yet taken.
    public func waitingCount(integrationID: String) -> Int { queues[integrationID]?.count ?? 0 }
}
