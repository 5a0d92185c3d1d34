import Accounting
import Foundation
import Synchronization

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The production transport: Foundation's `URLSession` (libcurl on Linux), bounded.
///
/// - Every request passes the `DestinationPolicy`, its host resolved and every address checked, before anything
///   is sent.
/// - The whole exchange has a deadline (`TransportRequest.timeout`), enforced here by racing it against a clock and
///   cancelling the task: Foundation's own `timeoutInterval` is an idle timeout that each received byte restarts.
/// - An answer longer than `maximumResponseBytes` (by its Content-Length, or counted as it arrives) is cut off.
/// - Redirects are not followed (a webhook receiver or a platform that redirects gets its 3xx back as the answer),
///   and nothing is cached or stored in cookies.
public final class URLSessionTransport: HTTPTransport {
    /// The default `maximumResponseBytes`: 10 MiB.
    public static let defaultMaximumResponseBytes = 10 << 20

    public let policy: DestinationPolicy
    public let maximumResponseBytes: Int
    private let session: URLSession
    private let transfers: Transfers

    /// - Parameters:
    ///   - policy: where requests may go; the default allows `https` to public addresses only.
    ///   - maximumResponseBytes: the longest answer read.
    public init(
        policy: DestinationPolicy = DestinationPolicy(), maximumResponseBytes: Int = defaultMaximumResponseBytes
    ) {
        self.policy = policy
        self.maximumResponseBytes = max(1, maximumResponseBytes)
        let configuration = URLSessionConfiguration.ephemeral
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        configuration.httpCookieStorage = nil
        configuration.httpShouldSetCookies = false
        configuration.urlCache = nil
        let transfers = Transfers()
        self.transfers = transfers
        self.session = URLSession(configuration: configuration, delegate: transfers, delegateQueue: nil)
    }

    deinit {
        session.invalidateAndCancel()
    }

    public func send(_ request: TransportRequest) async throws(TransportError) -> TransportResponse {
        try policy.check(request.url)
        var urlRequest = URLRequest(url: request.url)
        urlRequest.httpMethod = request.method
        urlRequest.timeoutInterval = max(0.001, Double(request.timeout.wholeMicroseconds) / 1_000_000)
        for header in request.headers {
            urlRequest.setValue(header.value, forHTTPHeaderField: header.name)
        }
        urlRequest.httpBody = request.body
        let prepared = urlRequest
        let host = request.url.host ?? ""
        let outcome: Result<TransportResponse, TransportError> = await withTaskGroup(
            of: Result<TransportResponse, TransportError>?.self
        ) { group in
            group.addTask {
                do throws(TransportError) {
                    try await self.checkResolving(host: host)
                    return .success(try await self.exchange(prepared))
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

    /// One exchange, its answer counted against the size cap; cancelling the calling task cancels it.
    private func exchange(_ urlRequest: URLRequest) async throws(TransportError) -> TransportResponse {
        let task = session.dataTask(with: urlRequest)
        let identifier = task.taskIdentifier
        let limit = maximumResponseBytes
        let transfers = transfers
        let result: Result<TransportResponse, TransportError> = await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                transfers.start(identifier, limit: limit, continuation: continuation)
                if Task.isCancelled {
                    transfers.finish(identifier, with: .failure(.failed("cancelled")))
                    task.cancel()
                } else {
                    task.resume()
                }
            }
        } onCancel: {
            transfers.finish(identifier, with: .failure(.failed("cancelled")))
            task.cancel()
        }
        return try result.get()
    }
}

/// The session's delegate: each task's answer as it arrives, cut off at its size limit, and its continuation
/// resumed exactly once (by the answer, the cap, an error or a cancellation, whichever comes first).
/// `@unchecked Sendable`: its only state is behind a `Mutex`; `NSObject` is not marked Sendable.
private final class Transfers: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    private struct Transfer {
        var continuation: CheckedContinuation<Result<TransportResponse, TransportError>, Never>
        var limit: Int
        var response: HTTPURLResponse?
        var body = Data()
    }

    private let transfers = Mutex<[Int: Transfer]>([:])

    func start(
        _ identifier: Int, limit: Int,
        continuation: CheckedContinuation<Result<TransportResponse, TransportError>, Never>
    ) {
        transfers.withLock { $0[identifier] = Transfer(continuation: continuation, limit: limit) }
    }

    /// Resumes the transfer's continuation, if it is still waiting.
    func finish(_ identifier: Int, with result: Result<TransportResponse, TransportError>) {
        let transfer = transfers.withLock { $0.removeValue(forKey: identifier) }
        transfer?.continuation.resume(returning: result)
    }

    func urlSession(
        _ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
        completionHandler: @escaping @Sendable (URLSession.ResponseDisposition) -> Void
    ) {
        let identifier = dataTask.taskIdentifier
        let tooLarge = transfers.withLock { transfers -> Int? in
            guard var transfer = transfers[identifier] else { return nil }
            transfer.response = response as? HTTPURLResponse
            transfers[identifier] = transfer
            return response.expectedContentLength > Int64(transfer.limit) ? transfer.limit : nil
        }
        if let tooLarge {
            finish(identifier, with: .failure(.responseTooLarge(limit: tooLarge)))
            completionHandler(.cancel)
        } else {
            completionHandler(.allow)
        }
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        let identifier = dataTask.taskIdentifier
        let tooLarge = transfers.withLock { transfers -> Int? in
            guard var transfer = transfers[identifier] else { return nil }
            guard transfer.body.count + data.count <= transfer.limit else { return transfer.limit }
            transfer.body.append(data)
            transfers[identifier] = transfer
            return nil
        }
        if let tooLarge {
            finish(identifier, with: .failure(.responseTooLarge(limit: tooLarge)))
            dataTask.cancel()
        }
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: (any Error)?) {
        let identifier = task.taskIdentifier
        guard let transfer = transfers.withLock({ $0.removeValue(forKey: identifier) }) else { return }
        transfer.continuation.resume(returning: Self.result(transfer, error: error ?? nil, task: task))
    }

    func urlSession(
        _ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
        newRequest request: URLRequest, completionHandler: @escaping @Sendable (URLRequest?) -> Void
    ) {
        completionHandler(nil)
    }

    private static func result(
        _ transfer: Transfer, error: (any Error)?, task: URLSessionTask
    ) -> Result<TransportResponse, TransportError> {
        if let error {
            guard let error = error as? URLError else { return .failure(.failed(String(describing: error))) }
            switch error.code {
            case .timedOut: return .failure(.timedOut)
            // No connection was made (refused, no such host, no route, TLS handshake refused): nothing was sent.
            case .cannotConnectToHost, .cannotFindHost, .dnsLookupFailed, .notConnectedToInternet,
                .secureConnectionFailed:
                return .failure(.cannotConnect(error.localizedDescription))
            default: return .failure(.failed(error.localizedDescription))
            }
        }
        guard let http = transfer.response ?? task.response as? HTTPURLResponse else {
            return .failure(.failed("not an HTTP response"))
        }
        var headers: [String: String] = [:]
        for (name, value) in http.allHeaderFields {
            if let name = name as? String, let value = value as? String { headers[name] = value }
        }
        return .success(TransportResponse(status: http.statusCode, headers: headers, body: transfer.body))
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
