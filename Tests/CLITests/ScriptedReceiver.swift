import Foundation
import Synchronization
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// An HTTP receiver on 127.0.0.1 that answers its first requests as scripted, one connection each, and then closes its
/// socket: a Ledgerwire that went away in the middle of a replay. Blocking sockets on a thread of its own.
/// `@unchecked Sendable`: its state is a file descriptor fixed at creation and `Mutex`es.
final class ScriptedReceiver: @unchecked Sendable {
    let port: Int
    private let listener: Int32
    private let received = Mutex<[String]>([])
    /// Whether `listener` is still open: only the serving thread closes it, and `stop()` shuts it down only while it
    /// is, so a descriptor number reused elsewhere in the process is never touched.
    private let open = Mutex<Bool>(true)

    /// The `webhook-id` of each request answered, in order.
    var webhookIDs: [String] { received.withLock { $0 } }

    var url: String { "http://127.0.0.1:\(port)/webhooks/billing" }

    /// - Parameter answers: status and JSON body of each request in turn; after the last, the socket is closed.
    init(answers: [(status: Int, body: String)]) throws {
        (listener, port) = try LoopbackSocket.open(listening: 16)
        let thread = Thread { [self] in serve(answers) }
        thread.start()
    }

    /// Stops listening now (a receiver still waiting for its next request).
    func stop() {
        open.withLock { isOpen in
            if isOpen { shutdown(listener, Int32(SHUT_RDWR)) }
        }
    }

    private func serve(_ answers: [(status: Int, body: String)]) {
        defer {
            open.withLock { isOpen in
                close(listener)
                isOpen = false
            }
        }
        for (status, body) in answers {
            let connection = accept(listener, nil, nil)
            guard connection >= 0 else { return }
            let head = readRequest(connection)
            if let id = head.split(separator: "\r\n").first(where: { $0.lowercased().hasPrefix("webhook-id:") }) {
                let value = id.dropFirst("webhook-id:".count).trimmingCharacters(in: .whitespaces)
                received.withLock { $0.append(value) }
            }
            let response = Array(
                "HTTP/1.1 \(status) Scripted\r\ncontent-type: application/json\r\ncontent-length: \(body.utf8.count)\r\nconnection: close\r\n\r\n\(body)"
                    .utf8)
            _ = response.withUnsafeBytes { send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            close(connection)
        }
    }

    /// Reads a request's head and its `content-length` of body; returns the head.
    private func readRequest(_ connection: Int32) -> String {
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        var expected: Int?
        while expected.map({ bytes.count < $0 }) ?? true {
            let count = buffer.withUnsafeMutableBytes { recv(connection, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { break }
            bytes.append(contentsOf: buffer[0..<count])
            if expected == nil, let end = bytes.firstRange(of: Array("\r\n\r\n".utf8)) {
                let head = String(decoding: bytes[..<end.lowerBound], as: UTF8.self)
                let length =
                    head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
                    .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) } ?? 0
                expected = end.upperBound + length
            }
        }
        guard let end = bytes.firstRange(of: Array("\r\n\r\n".utf8)) else { return "" }
        return String(decoding: bytes[..<end.lowerBound], as: UTF8.self)
    }
}
