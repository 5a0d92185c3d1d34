import Accounting
public import Foundation

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// One HTTP request as connectors and the event dispatcher make them.
public struct TransportRequest: Sendable {
    public var method: String
    public var url: URL
    /// Header names as sent; a later value for the same name replaces an earlier one.
    public var headers: [(name: String, value: String)]
    public var body: Data?
    /// The whole exchange, connection to last byte.
    public var timeout: Duration
    /// The platform's rate-limit windows this request counts against besides its overall one (QuickBooks counts
    /// `batch` calls separately); see `RateLimitPolicy`.
    public var rateLimitWindows: Set<String>

    public init(
        method: String, url: URL, headers: [(name: String, value: String)] = [], body: Data? = nil,
        timeout: Duration = .seconds(30), rateLimitWindows: Set<String> = []
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
        self.rateLimitWindows = rateLimitWindows
    }
}

/// What the other side answered.
public struct TransportResponse: Sendable {
    public var status: Int
    /// Header names lowercased.
    public var headers: [String: String]
    public var body: Data

    public init(status: Int, headers: [String: String], body: Data) {
        self.status = status
        self.headers = Dictionary(
            headers.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { _, last in last })
        self.body = body
    }

    public func header(_ name: String) -> String? { headers[name.lowercased()] }
}

/// Why a request got no answer. Only `cannotConnect` and `destinationRefused` say nothing was sent; after the others
/// the request may have been received and acted on.
public enum TransportError: Error, Sendable, Hashable {
    /// Nothing was sent: the connection was refused or could not be made.
    case cannotConnect(String)
    /// The whole exchange did not finish within the request's deadline (`TransportRequest.timeout`).
    case timedOut
    /// The exchange broke after it started.
    case failed(String)
    /// Nothing was sent: the URL, or an address its host resolved to, is not allowed by the `DestinationPolicy`.
    /// The reason says what to fix.
    case destinationRefused(String)
    /// The answer was longer than the transport takes (`HTTPClientTransport.maximumResponseBytes`); reading
    /// stopped there.
    case responseTooLarge(limit: Int)
    /// Nothing was sent: the integration's own limiter turned the request away, its share of `window` (or, for
    /// `nil`, the pause the platform asked for) being spent until `retryAfter` (`RateLimitExceeded`).
    case overLimit(window: String?, retryAfter: Duration)

    /// A short stable code for logs and metrics.
    public var code: String {
        switch self {
        case .cannotConnect: "cannot_connect"
        case .timedOut: "timed_out"
        case .failed: "failed"
        case .destinationRefused: "destination_refused"
        case .responseTooLarge: "response_too_large"
        case .overLimit: "over_limit"
        }
    }

    /// Whether the same request may succeed later: everything but a refused destination, which only a change of
    /// settings (or of the name's DNS records) mends.
    public var isRetryable: Bool {
        if case .destinationRefused = self { return false }
        return true
    }
}

/// Sends HTTP requests: `HTTPClientTransport` in production (AsyncHTTPClient on SwiftNIO), doubles in tests.
public protocol HTTPTransport: Sendable {
    func send(_ request: TransportRequest) async throws(TransportError) -> TransportResponse
}
