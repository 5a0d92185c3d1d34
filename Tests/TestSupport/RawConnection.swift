import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A plain TCP connection to 127.0.0.1, for sending what no HTTP client would: half a request, a header a byte at a
/// time, bytes that are not HTTP at all; and for talking to a server whose answers Foundation's client refuses
/// (BrowserTests' chromedriver). Its calls block: run them off the concurrency pool.
public final class RawConnection {
    private let descriptor: Int32

    /// Connects, or throws when the connection is refused.
    ///
    /// The socket is kept only once connected: a class whose initializer throws after `descriptor` is set is
    /// deinitialized, and closing the socket there as well as here closed whatever took its number meanwhile (another
    /// test's NIO channel, which then trapped on `EBADF`).
    public init(port: Int) throws {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw CLIFailure("socket() failed: \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            let failure = CLIFailure("connect() failed: \(errno)")
            close(socket)
            throw failure
        }
        descriptor = socket
    }

    deinit { close(descriptor) }

    /// Sends `bytes`; `false` when the server already closed the connection.
    @discardableResult
    public func send(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { buffer in
            Glibc.send(descriptor, buffer.baseAddress, buffer.count, Int32(MSG_NOSIGNAL)) == buffer.count
        }
    }

    @discardableResult
    public func send(_ text: String) -> Bool { send(Array(text.utf8)) }

    /// Reads until `enough` says so, the server closes the connection, or `timeout` passes.
    public func receive(
        timeout: Duration, until enough: ([UInt8]) -> Bool = { _ in false }
    ) -> (bytes: [UInt8], closed: Bool) {
        var received: [UInt8] = []
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline, !enough(received) {
            var pollDescriptor = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            guard poll(&pollDescriptor, 1, 50) > 0 else { continue }
            var buffer = [UInt8](repeating: 0, count: 65_536)
            let count = recv(descriptor, &buffer, buffer.count, 0)
            if count <= 0 { return (received, true) }
            received += buffer[0..<count]
        }
        return (received, false)
    }

    /// The HTTP status of the answer that arrives within `timeout`, or `nil` when none does.
    public func status(timeout: Duration = .seconds(10)) -> Int? {
        let (bytes, _) = receive(timeout: timeout) { $0.contains(UInt8(ascii: "\n")) }
        let text = String(decoding: bytes.prefix(64), as: UTF8.self)
        guard text.hasPrefix("HTTP/1.1 ") else { return nil }
        return Int(text.dropFirst(9).prefix(3))
    }
}
