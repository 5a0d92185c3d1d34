import Accounting
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization

/// The production transport: AsyncHTTPClient on SwiftNIO's event loops (TLS by BoringSSL), bounded.
///
/// - Every request passes the `DestinationPolicy`, its host resolved and every address checked, before anything
///   is sent.
/// - The whole exchange has a deadline (`TransportRequest.timeout`), enforced by racing it against a clock and
///   cancelling the request.
/// - An answer longer than `maximumResponseBytes` (by its Content-Length, or counted as it arrives) is cut off.
/// - Redirects are not followed (a webhook receiver or a platform that redirects gets its 3xx back as the answer),
///   nothing is decompressed, cached or kept in cookies.
///
/// It replaced Foundation's `URLSession`, which on Linux (libcurl under dispatch sources) kept a core busy while it
/// waited for each answer: docs/decisions/0005-outbound-http-on-swiftnio.md.
public final class HTTPClientTransport: HTTPTransport {
    /// The default `maximumResponseBytes`: 10 MiB.
    public static let defaultMaximumResponseBytes = 10 << 20

    public let policy: DestinationPolicy
    public let maximumResponseBytes: Int
    private let client: HTTPClient

    /// - Parameters:
    ///   - policy: where requests may go; the default allows `https` to public addresses only.
    ///   - maximumResponseBytes: the longest answer read.
    public init(
        policy: DestinationPolicy = DestinationPolicy(), maximumResponseBytes: Int = defaultMaximumResponseBytes
    ) {
        self.policy = policy
        self.maximumResponseBytes = max(1, maximumResponseBytes)
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow, decompression: .disabled)
        // Each exchange's deadline is its own (`send`); an idle pooled connection is closed after a minute.
        configuration.connectionPool = .init(idleTimeout: .seconds(60))
        self.client = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: configuration)
    }

    deinit {
        // Requests still in flight fail; the client keeps itself alive until it has shut down.
        client.shutdown { _ in }
    }

    public func send(_ request: TransportRequest) async throws(TransportError) -> TransportResponse {
        try policy.check(request.url)
        var prepared = HTTPClientRequest(url: request.url.absoluteString)
        prepared.method = HTTPMethod(rawValue: request.method)
        var names: [String] = []
        for header in request.headers {
            // A later value for the same name replaces an earlier one (`TransportRequest.headers`).
            if names.contains(where: { $0.caseInsensitiveCompare(header.name) == .orderedSame }) {
                prepared.headers.replaceOrAdd(name: header.name, value: header.value)
            } else {
                names.append(header.name)
                prepared.headers.add(name: header.name, value: header.value)
            }
        }
        if let body = request.body { prepared.body = .bytes(ByteBuffer(bytes: body)) }
        let host = request.url.host ?? ""
        let exchange = prepared
        let outcome: Result<TransportResponse, TransportError> = await withTaskGroup(
            of: Result<TransportResponse, TransportError>?.self
        ) { group in
            group.addTask {
                do throws(TransportError) {
                    // A name is resolved off the cooperative pool; an address needs no look-up.
                    if self.policy.mustResolve(host: host) { try await self.checkResolving(host: host) }
                    return .success(try await self.exchange(exchange, deadline: request.timeout))
                } catch {
                    return .failure(error)
                }
            }
            group.addTask {
                // The deadline: when it passes first, the exchange is cancelled.
                try? await Task.sleep(for: request.timeout)
                return Task.isCancelled ? nil : .failure(.timedOut)
            }
            var first: Result<TransportResponse, TransportError>?
            while first == nil, let next = await group.next() { first = next }
            group.cancelAll()
            return first ?? .failure(.failed("cancelled"))
        }
        return try outcome.get()
    }

    /// The policy's check of the addresses `host` resolves to, made on a dispatch queue: `getaddrinfo` blocks, and
    /// cannot be interrupted, so a cancelled request (its deadline passed) stops waiting for it.
    private func checkResolving(host: String) async throws(TransportError) {
        let policy = policy
        let outcome = ResumeOnce<Result<Void, TransportError>>()
        let result = await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                outcome.wait(continuation)
                DispatchQueue.global().async {
                    do throws(TransportError) {
                        try policy.checkResolving(host: host)
                        outcome.resume(.success(()))
                    } catch {
                        outcome.resume(.failure(error))
                    }
                }
            }
        } onCancel: {
            outcome.resume(.failure(.timedOut))
        }
        try result.get()
    }

    /// One exchange, its answer counted against the size cap as it arrives; cancelling the calling task cancels it.
    private func exchange(_ request: HTTPClientRequest, deadline: Duration) async throws(TransportError)
        -> TransportResponse
    {
        let limit = maximumResponseBytes
        do {
            let response = try await client.execute(
                request, timeout: .microseconds(Int64(clamping: deadline.wholeMicroseconds)))
            if let declared = response.headers.first(name: "content-length").flatMap(Int.init), declared > limit {
                throw TransportError.responseTooLarge(limit: limit)
            }
            var body = ByteBuffer()
            for try await chunk in response.body {
                guard body.readableBytes + chunk.readableBytes <= limit else {
                    throw TransportError.responseTooLarge(limit: limit)
                }
                body.writeImmutableBuffer(chunk)
            }
            var headers: [String: String] = [:]
            for (name, value) in response.headers {
                // Repeated fields are one field, comma-separated (RFC 9110 §5.3).
                headers[name.lowercased()] = headers[name.lowercased()].map { "\($0), \(value)" } ?? value
            }
            return TransportResponse(
                status: Int(response.status.code), headers: headers, body: Data(body.readableBytesView))
        } catch let error as TransportError {
            throw error
        } catch {
            throw Self.transportError(error)
        }
    }

    /// What went wrong, as `TransportError` says it: no connection made (refused, unreachable, the TLS handshake
    /// failed) is `cannotConnect`, since nothing was sent; the rest `failed` or `timedOut`.
    static func transportError(_ error: any Error) -> TransportError {
        if error is CancellationError { return .failed("cancelled") }
        if let error = error as? HTTPClientError {
            switch error {
            case .deadlineExceeded, .readTimeout, .writeTimeout: return .timedOut
            case .connectTimeout: return .cannotConnect("the connection timed out")
            case .tlsHandshakeTimeout: return .cannotConnect("the TLS handshake timed out")
            case .cancelled: return .failed("cancelled")
            case .remoteConnectionClosed: return .failed("the connection was closed before the answer was whole")
            default: return .failed(String(describing: error))
            }
        }
        if let connection = error as? NIOConnectionError {
            let reasons =
                (connection.connectionErrors.map(\.error)
                + [connection.dnsAError, connection.dnsAAAAError]
                .compactMap { $0 }).map(Self.reason)
            return .cannotConnect(
                "\(connection.host):\(connection.port): \(reasons.first ?? "no address to connect to")")
        }
        if let io = error as? IOError, [ECONNREFUSED, ENETUNREACH, EHOSTUNREACH].contains(io.errnoCode) {
            return .cannotConnect(reason(io))
        }
        if error is NIOSSLError || error is BoringSSLError {
            // The handshake failed (an unknown certificate, no common protocol): nothing was sent.
            return .cannotConnect("TLS: \(String(describing: error))")
        }
        return .failed(reason(error))
    }

    /// An error in words: an errno's own text for a system call that failed ("connection refused").
    private static func reason(_ error: any Error) -> String {
        if let io = error as? IOError { return String(cString: strerror(io.errnoCode)).lowercased() }
        return String(describing: error)
    }
}

/// A continuation resumed by whichever comes first, even if that is before anyone waits.
private final class ResumeOnce<Value: Sendable>: Sendable {
    private enum State {
        case idle
        case waiting(CheckedContinuation<Value, Never>)
        case resumed(Value)
        case done
    }

    private let state = Mutex<State>(.idle)

    func wait(_ continuation: CheckedContinuation<Value, Never>) {
        let early: Value? = state.withLock { state in
            if case .resumed(let value) = state {
                state = .done
                return value
            }
            state = .waiting(continuation)
            return nil
        }
        if let early { continuation.resume(returning: early) }
    }

    func resume(_ value: Value) {
        let waiting: CheckedContinuation<Value, Never>? = state.withLock { state in
            switch state {
            case .idle:
                state = .resumed(value)
                return nil
            case .waiting(let continuation):
                state = .done
                return continuation
            case .resumed, .done:
                return nil
            }
        }
        waiting?.resume(returning: value)
    }
}
