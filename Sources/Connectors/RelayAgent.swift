import Accounting
public import Foundation
public import Logging

/// The agent beside the books (`ledgerwire tally-agent`): long-polls Ledgerwire's relay (`GET /agent/v1/requests`)
/// over an outgoing connection, sends each request it hands out to the books (Tally on `http://127.0.0.1:9000`),
/// and posts the books' answer back (`POST /agent/v1/requests/{id}/reply`). Nothing has to reach the PC from
/// outside.
///
/// It runs until its task is cancelled. While Ledgerwire cannot be reached, or refuses the token, it tries again
/// with a wait doubling from `Configuration.firstBackoff` to `maximumBackoff`; it logs one line when its state
/// changes (connected, server unreachable, token refused, the books unreachable and back), not one per attempt.
public struct RelayAgent: Sendable {
    /// Where it connects and how.
    public struct Configuration: Sendable {
        /// Ledgerwire's base URL (`https://ledgerwire.example.org`).
        public var server: URL
        /// The integration's agent token (`lwa_…`).
        public var token: String
        /// The books' base URL (`http://127.0.0.1:9000`).
        public var books: URL
        /// How long one poll waits for a request (the server caps it at 30 s).
        public var wait: Duration
        public var firstBackoff: Duration
        public var maximumBackoff: Duration

        public init(
            server: URL, token: String, books: URL, wait: Duration = .seconds(25), firstBackoff: Duration = .seconds(1),
            maximumBackoff: Duration = .seconds(30)
        ) {
            self.server = server
            self.token = token
            self.books = books
            self.wait = wait
            self.firstBackoff = firstBackoff
            self.maximumBackoff = maximumBackoff
        }
    }

    /// What the agent is doing, as its log lines say.
    public enum State: Sendable, Hashable {
        case starting
        /// Polling Ledgerwire, and the books answered the last request (if any).
        case connected
        /// Ledgerwire did not answer, or not as the relay does (the reason).
        case serverUnreachable(String)
        /// Ledgerwire refused the token (401): a new one must be issued.
        case tokenRefused
        /// Polling Ledgerwire, but the books did not answer the last request.
        case booksUnreachable(String)

        /// The state without its reason: what a log line is written for.
        var situation: Int {
            switch self {
            case .starting: 0
            case .connected: 1
            case .serverUnreachable: 2
            case .tokenRefused: 3
            case .booksUnreachable: 4
            }
        }
    }

    public let configuration: Configuration
    /// To Ledgerwire.
    let server: any HTTPTransport
    /// To the books.
    let books: any HTTPTransport
    let logger: Logger
    let clock: any Clock<Duration>
    /// Told each state change, after it is logged (tests follow the agent with it).
    let onStateChange: @Sendable (State) -> Void

    public init(
        configuration: Configuration, server: any HTTPTransport, books: any HTTPTransport, logger: Logger,
        clock: any Clock<Duration> = ContinuousClock(), onStateChange: @escaping @Sendable (State) -> Void = { _ in }
    ) {
        self.configuration = configuration
        self.server = server
        self.books = books
        self.logger = logger
        self.clock = clock
        self.onStateChange = onStateChange
    }

    /// Polls and relays until the task is cancelled.
    public func run() async {
        var state = State.starting
        var backoff = configuration.firstBackoff
        while !Task.isCancelled {
            let next = await round(from: state)
            // A poll cut short by the stop is no state to report.
            if Task.isCancelled { return }
            // A change of situation, not of its wording: the transport's reason for one outage differs from attempt
            // to attempt ("after 0 ms", "after 3 ms").
            if next.situation != state.situation {
                state = next
                log(state)
                onStateChange(state)
            } else {
                state = next
            }
            switch state {
            case .connected, .booksUnreachable, .starting:
                backoff = configuration.firstBackoff
            case .serverUnreachable, .tokenRefused:
                do { try await clock.sleep(for: backoff) } catch { return }
                backoff = min(backoff * 2, configuration.maximumBackoff)
            }
        }
    }

    /// One poll, and the request it brought relayed: the state it leaves the agent in. A poll that brought nothing
    /// says nothing new about the books.
    func round(from state: State) async -> State {
        let seconds = max(0, min(30, configuration.wait.components.seconds))
        guard let pollURL = endpoint("agent/v1/requests", query: "wait=\(seconds)") else {
            return .serverUnreachable("the server URL is not valid")
        }
        let answer: TransportResponse
        do throws(TransportError) {
            answer = try await server.send(
                TransportRequest(
                    method: "GET", url: pollURL, headers: authorization, timeout: configuration.wait + .seconds(15)))
        } catch {
            return .serverUnreachable(Self.describe(error))
        }
        switch answer.status {
        case 204:
            if case .booksUnreachable = state { return state }
            return .connected
        case 200: break
        case 401: return .tokenRefused
        default: return .serverUnreachable("the server answered \(answer.status) to a poll")
        }
        guard let json = try? JSONValue(parsing: answer.body), let request = AgentRequest(json: json) else {
            return .serverUnreachable("the server's request could not be read")
        }
        let (reply, state) = await relay(request)
        guard let replyURL = endpoint("agent/v1/requests/\(request.id)/reply", query: nil) else {
            return .serverUnreachable("the request id is not valid")
        }
        do throws(TransportError) {
            let posted = try await server.send(
                TransportRequest(
                    method: "POST", url: replyURL,
                    headers: authorization + [("Content-Type", "application/json")],
                    body: Data(reply.json.canonicalBytes), timeout: .seconds(60)))
            switch posted.status {
            case 200..<300, 404:
                // 404: the request's deadline passed meanwhile; the connector has given up on it.
                return state
            case 401: return .tokenRefused
            default: return .serverUnreachable("the server answered \(posted.status) to a reply")
            }
        } catch {
            return .serverUnreachable(Self.describe(error))
        }
    }

    /// Sends `request` to the books: their answer, or why there was none.
    func relay(_ request: AgentRequest) async -> (AgentReply, State) {
        let address = configuration.books.absoluteString
        guard let url = URL(string: request.path, relativeTo: configuration.books)?.absoluteURL else {
            return (.failure(code: "failed", message: "the path \(request.path) is not valid"), .connected)
        }
        // Hop-by-hop and computed headers are the transport's own.
        let skipped: Set<String> = ["host", "content-length", "connection", "transfer-encoding", "authorization"]
        let headers = request.headers.filter { !skipped.contains($0.name.lowercased()) }
        do throws(TransportError) {
            let response = try await books.send(
                TransportRequest(
                    method: request.method, url: url, headers: headers, body: request.body, timeout: request.timeout))
            return (.response(response), .connected)
        } catch .cannotConnect(let reason) {
            let message = "Tally at \(address) refused the connection or could not be reached (\(reason))"
            return (.failure(code: "cannot_connect", message: message), .booksUnreachable(message))
        } catch .timedOut {
            let message = "Tally at \(address) did not answer within \(request.timeout)"
            return (.failure(code: "timed_out", message: message), .booksUnreachable(message))
        } catch {
            let message = "the exchange with Tally at \(address) failed: \(Self.describe(error))"
            return (.failure(code: "failed", message: message), .booksUnreachable(message))
        }
    }

    private var authorization: [(name: String, value: String)] {
        [("Authorization", "Bearer \(configuration.token)")]
    }

    private func endpoint(_ path: String, query: String?) -> URL? {
        var base = configuration.server.absoluteString
        if !base.hasSuffix("/") { base += "/" }
        return URL(string: base + path + (query.map { "?" + $0 } ?? ""))
    }

    private func log(_ state: State) {
        switch state {
        case .starting: break
        case .connected:
            logger.info("agent.connected", metadata: ["agent.server": "\(configuration.server.absoluteString)"])
        case .serverUnreachable(let reason):
            logger.warning(
                "agent.server_unreachable",
                metadata: ["agent.server": "\(configuration.server.absoluteString)", "agent.reason": "\(reason)"])
        case .tokenRefused:
            logger.error(
                "agent.token_refused",
                metadata: [
                    "agent.server": "\(configuration.server.absoluteString)",
                    "agent.reason": "the server refused the agent token; issue a new one",
                ])
        case .booksUnreachable(let reason):
            logger.warning("agent.tally_unreachable", metadata: ["agent.reason": "\(reason)"])
        }
    }

    private static func describe(_ error: TransportError) -> String {
        switch error {
        case .cannotConnect(let reason), .failed(let reason), .destinationRefused(let reason): reason
        case .timedOut: "timed out"
        case .responseTooLarge(let limit): "the answer was longer than \(limit) bytes"
        case .overLimit: "over the limit"
        }
    }
}
