import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A port on 127.0.0.1 that is bound but not listening, for as long as the value lives: connecting to it is
/// refused, and nobody else can take it meanwhile.
public final class ClosedPort: Sendable {
    public let port: Int
    private let descriptor: Int32

    /// `http://127.0.0.1:<port>`.
    public var url: String { "http://127.0.0.1:\(port)" }

    public init() throws {
        (descriptor, port) = try LoopbackSocket.open()
    }

    deinit { close(descriptor) }
}
