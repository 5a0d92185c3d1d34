public import Foundation

/// One HTTP request waiting for an integration's agent (`ledgerwire tally-agent`), as the agent fetches it: the
/// request the connector made, to be sent on to the books beside the agent.
public struct AgentRequest: Sendable {
    /// `agr_…`: what the agent's reply names.
    public var id: String
    public var method: String
    /// The path (and query) the connector asked for, `/` for Tally.
    public var path: String
    public var headers: [(name: String, value: String)]
    public var body: Data
    /// How long the whole exchange may take; the agent gives Tally as much.
    public var timeout: Duration

    public init(
        id: String, method: String, path: String, headers: [(name: String, value: String)], body: Data,
        timeout: Duration
    ) {
        self.id = id
        self.method = method
        self.path = path
        self.headers = headers
        self.body = body
        self.timeout = timeout
    }
}

/// What an agent answers for one request: the books' HTTP answer, or why it got none.
public enum AgentReply: Sendable {
    case response(TransportResponse)
    /// `code` is `cannot_connect` (the books refused the connection: nothing was sent), `timed_out` or `failed`;
    /// `message` says what happened, naming the books' address.
    case failure(code: String, message: String)

    /// The codes of `failure` an agent may send.
    public static let failureCodes: Set<String> = ["cannot_connect", "timed_out", "failed"]
}
