public import Accounting
import Foundation

/// The W3C WebDriver protocol (https://www.w3.org/TR/webdriver2/), JSON over HTTP/1.1 to a local `chromedriver`: one
/// command a call, its answer's `value`, or a `CommandError` naming the WebDriver error.
///
/// Over a plain loopback connection rather than `URLSession`: chromedriver writes its header lines without a space
/// after the colon (`Content-Length:252`), which is valid HTTP but which this toolchain's FoundationNetworking
/// refuses ("Failed writing header"; fixed upstream by swift-corelibs-foundation#5527). Each exchange runs on a
/// thread of its own, so a slow navigation never holds one of the concurrency pool's few threads.
public struct WebDriverClient: Sendable {
    /// Where chromedriver listens on 127.0.0.1.
    public let port: Int

    /// A WebDriver error answer: its `error` code (`no such element`, `stale element reference`, …) and message.
    public struct CommandError: Error, CustomStringConvertible {
        public let code: String
        public let message: String
        public let command: String
        public var description: String { "\(command): \(code): \(message)" }
    }

    /// Sends `method path` (`session`, `status`, `session/{id}/url`, …) with `body` as JSON when it is a POST.
    public func send(_ method: String, _ path: String, _ body: JSONValue? = nil, timeout: Duration = .seconds(30))
        async throws -> JSONValue
    {
        let payload = method == "POST" ? (body ?? [:]).canonicalBytes : []
        var head = "\(method) /\(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n"
        if method == "POST" { head += "Content-Type: application/json; charset=utf-8\r\n" }
        head += "Content-Length: \(payload.count)\r\n\r\n"
        let request = Array(head.utf8) + payload
        let port = port
        let (status, data): (Int, [UInt8]) = try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(with: Result { try Self.exchange(request, port: port, timeout: timeout) })
            }
        }
        let value = (try? JSONValue(parsing: data))?["value"] ?? .null
        guard (200..<300).contains(status) else {
            throw CommandError(
                code: value["error"]?.stringValue ?? "HTTP \(status)",
                message: value["message"]?.stringValue.map { String($0.prefix(500)) }
                    ?? String(decoding: data.prefix(500), as: UTF8.self),
                command: "\(method) /\(path)")
        }
        return value
    }

    /// One request and its whole answer (status and body), blocking.
    public static func exchange(_ request: [UInt8], port: Int, timeout: Duration) throws -> (Int, [UInt8]) {
        let connection = try RawConnection(port: port)
        guard connection.send(request) else { throw BrowserFailure("chromedriver closed the connection") }
        let (bytes, _) = connection.receive(timeout: timeout) { answer($0) != nil }
        guard let (status, body) = answer(bytes) else {
            throw BrowserFailure("chromedriver gave no whole answer within \(timeout)")
        }
        return (status, body)
    }

    /// The status and body of a whole HTTP/1.1 answer (its `Content-Length` bytes arrived), else `nil`.
    public static func answer(_ bytes: [UInt8]) -> (Int, [UInt8])? {
        let separator = Array("\r\n\r\n".utf8)
        guard let end = bytes.indices.first(where: { bytes[$0...].starts(with: separator) }) else { return nil }
        let lines = String(decoding: bytes[..<end], as: UTF8.self).split(separator: "\r\n")
        guard let statusLine = lines.first, statusLine.hasPrefix("HTTP/1.1 "),
            let status = Int(statusLine.dropFirst(9).prefix(3))
        else { return nil }
        var length = 0
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":"),
                line[..<colon].lowercased() == "content-length"
            else { continue }
            length = Int(line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)) ?? 0
        }
        let body = bytes[(end + separator.count)...]
        guard body.count >= length else { return nil }
        return (status, Array(body.prefix(length)))
    }
}

/// What went wrong driving the browser, in words a reader of a failed test understands.
public struct BrowserFailure: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
