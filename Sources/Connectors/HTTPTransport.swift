import Accounting
import Foundation

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

/// Why a request got no answer. Only `cannotConnect` says nothing was sent; after the others the request may
/// have been received and acted on.
public enum TransportError: Error, Sendable, Hashable {
    /// Nothing was sent: the connection was refused or could not be made.
    case cannotConnect(String)
    case timedOut
    /// The exchange broke after it started.
    case failed(String)
}

/// Sends HTTP requests: `URLSessionTransport` in production (libcurl on Linux), doubles in tests.
public protocol HTTPTransport: Sendable {
    func send(_ request: TransportRequest) async throws(TransportError) -> TransportResponse
}

/// The production transport: Foundation's `URLSession`. Redirects are not followed (a webhook receiver or a
/// platform that redirects gets its 3xx back as the answer), and nothing is cached or stored in cookies.
public final class URLSessionTransport: HTTPTransport {
    private let session: URLSession

    public init() {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        configuration.httpCookieStorage = nil
        configuration.httpShouldSetCookies = false
        configuration.urlCache = nil
        self.session = URLSession(configuration: configuration, delegate: RedirectRefusal(), delegateQueue: nil)
    }

    deinit {
        session.finishTasksAndInvalidate()
    }

    public func send(_ request: TransportRequest) async throws(TransportError) -> TransportResponse {
        var urlRequest = URLRequest(url: request.url)
        urlRequest.httpMethod = request.method
        urlRequest.timeoutInterval = Double(request.timeout.wholeMicroseconds) / 1_000_000
        for header in request.headers {
            urlRequest.setValue(header.value, forHTTPHeaderField: header.name)
        }
        urlRequest.httpBody = request.body
        let data: Data
        let response: URLResponse
        do {
            (data, response) = try await session.data(for: urlRequest)
        } catch let error as URLError {
            switch error.code {
            case .timedOut: throw .timedOut
            case .cannotConnectToHost, .cannotFindHost, .dnsLookupFailed, .notConnectedToInternet:
                throw .cannotConnect(error.localizedDescription)
            default: throw .failed(error.localizedDescription)
            }
        } catch {
            throw .failed(String(describing: error))
        }
        guard let http = response as? HTTPURLResponse else { throw .failed("not an HTTP response") }
        var headers: [String: String] = [:]
        for (name, value) in http.allHeaderFields {
            if let name = name as? String, let value = value as? String { headers[name] = value }
        }
        return TransportResponse(status: http.statusCode, headers: headers, body: data)
    }
}

private final class RedirectRefusal: NSObject, URLSessionTaskDelegate, Sendable {
    func urlSession(
        _ session: URLSession,
        task: URLSessionTask,
        willPerformHTTPRedirection response: HTTPURLResponse,
        newRequest request: URLRequest,
        completionHandler: @escaping @Sendable (URLRequest?) -> Void
    ) {
        completionHandler(nil)
    }
}
