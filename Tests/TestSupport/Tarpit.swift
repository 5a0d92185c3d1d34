import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A hostile HTTP server on 127.0.0.1 for tests of outbound bounds: it accepts, reads the request, and then
/// answers as badly as its `Behaviour` says. Plain blocking sockets on threads of its own, so nothing it does can
/// hold up the tests' cooperative pool.
/// `@unchecked Sendable`: its state is a file descriptor fixed at creation, `Atomic`s and a `Mutex`.
public final class Tarpit: @unchecked Sendable {
    public enum Behaviour: Sendable {
        /// Headers promising a large body, then one byte of it every `interval`: an idle timeout never fires.
        case drip(interval: Duration)
        /// Never answers.
        case silent
        /// 200 with `bytes` of body, with or without a `Content-Length` saying so up front.
        case oversized(bytes: Int, declared: Bool)
        /// 302 to `location`.
        case redirect(location: String)
        /// An ordinary answer: `status` with `body`.
        case answer(status: Int, body: String)
    }

    public let port: Int
    private let listener: Int32
    private let behaviour: Behaviour
    /// Request-line fragments answered at once with 200 and a JSON body, the rest as `behaviour` says: a platform
    /// that lets an integration connect (QuickBooks' `companyinfo`) and then stalls its work.
    private let honest: [String: String]
    private let accepted = Atomic<Int>(0)
    private let requestLines = Mutex<[String]>([])
    private let stopped = Atomic<Bool>(false)
    /// Whether the listener is still open: only its accept thread closes it, once it stops accepting, so the number is
    /// never accepted on, shut down or closed again after another socket took it.
    private let listening = Mutex(true)

    /// The URL of its root.
    public var url: String { "http://127.0.0.1:\(port)" }
    /// Connections it accepted so far.
    public var connections: Int { accepted.load(ordering: .relaxed) }
    /// The request lines it read so far (`POST /hooks HTTP/1.1`).
    public var requests: [String] { requestLines.withLock { $0 } }

    public init(_ behaviour: Behaviour, answering honest: [String: String] = [:]) throws {
        self.behaviour = behaviour
        self.honest = honest
        (listener, port) = try LoopbackSocket.open(listening: 64)
        let thread = Thread { [self] in acceptLoop() }
        thread.start()
    }

    /// Stops accepting (the accept thread then closes the listener) and ends every connection (at its next write).
    public func stop() {
        guard !stopped.exchange(true, ordering: .relaxed) else { return }
        listening.withLock { open in
            if open { shutdown(listener, Int32(SHUT_RDWR)) }
        }
    }

    deinit { stop() }

    private func acceptLoop() {
        defer {
            listening.withLock { open in
                close(listener)
                open = false
            }
        }
        while !stopped.load(ordering: .relaxed) {
            let client = accept(listener, nil, nil)
            guard client >= 0 else { return }
            accepted.add(1, ordering: .relaxed)
            let thread = Thread { [self] in serve(client) }
            thread.start()
        }
    }

    private func serve(_ client: Int32) {
        defer { close(client) }
        let line = readRequestHead(client)
        if let body = honest.first(where: { line.contains($0.key) })?.value {
            _ = write(
                client,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
            )
            usleep(200_000)
            return
        }
        switch behaviour {
        case .silent:
            while !stopped.load(ordering: .relaxed) { usleep(50_000) }
        case .drip(let interval):
            guard write(client, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n")
            else { return }
            let (seconds, attoseconds) = interval.components
            let micros = UInt32(clamping: seconds * 1_000_000 + attoseconds / 1_000_000_000_000)
            while !stopped.load(ordering: .relaxed), write(client, " ") { usleep(micros) }
        case .oversized(let bytes, let declared):
            let length = declared ? "Content-Length: \(bytes)\r\n" : "Connection: close\r\n"
            guard write(client, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\(length)\r\n") else { return }
            let chunk = String(repeating: " ", count: 4096)
            var sent = 0
            while sent < bytes, !stopped.load(ordering: .relaxed), write(client, String(chunk.prefix(bytes - sent))) {
                sent += min(4096, bytes - sent)
            }
        case .redirect(let location):
            _ = write(client, "HTTP/1.1 302 Found\r\nLocation: \(location)\r\nContent-Length: 0\r\n\r\n")
            usleep(200_000)
        case .answer(let status, let body):
            _ = write(
                client,
                "HTTP/1.1 \(status) Answer\r\nContent-Type: text/html\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
            )
            usleep(200_000)
        }
    }

    /// Reads until the blank line after the headers (the tests' requests have small bodies, read or not).
    /// Returns the request line (empty when none came).
    @discardableResult
    private func readRequestHead(_ client: Int32) -> String {
        var received: [UInt8] = []
        let size = 4096
        var buffer = [UInt8](repeating: 0, count: size)
        while received.count < 65_536 {
            let count = recv(client, &buffer, size, 0)
            guard count > 0 else { return "" }
            received += buffer[0..<count]
            if received.count >= 4, received.suffix(from: 0).windowsContainEnd() {
                let line = String(decoding: received.prefix { $0 != 13 }, as: UTF8.self)
                requestLines.withLock { $0.append(line) }
                return line
            }
        }
        return ""
    }

    /// A write to a closed connection fails instead of raising SIGPIPE in the test process.
    #if canImport(Darwin)
    private static let noSignal: Int32 = 0
    #else
    private static let noSignal = Int32(MSG_NOSIGNAL)
    #endif

    private func write(_ client: Int32, _ text: String) -> Bool {
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { send(client, $0.baseAddress, $0.count, Self.noSignal) }
            guard sent > 0 else { return false }
            offset += sent
        }
        return true
    }
}

extension ArraySlice<UInt8> {
    fileprivate func windowsContainEnd() -> Bool {
        let end: [UInt8] = [13, 10, 13, 10]
        guard count >= 4 else { return false }
        for start in startIndex...(endIndex - 4) where Array(self[start..<start + 4]) == end { return true }
        return false
    }
}
