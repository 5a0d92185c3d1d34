import Foundation
import NIOCore

/// Why a server could not listen, in words naming the address and what to do, from the socket error NIO throws
/// (`bind(descriptor:ptr:bytes:): Address already in use (errno: 98)` says neither).
public struct ListenError: Error, CustomStringConvertible, Sendable {
    public var description: String

    /// The plain-words form of `error` when it is a failure to listen on `host`:`port`; `nil` for any other error.
    public init?(_ error: any Error, host: String, port: Int) {
        let address = "port \(port) on \(host)"
        switch error {
        case let error as IOError where error.errnoCode == EADDRINUSE:
            description = "\(address) is already in use; stop the other process or pass --port (0 picks a free one)"
        case let error as IOError where error.errnoCode == EACCES:
            description =
                "not allowed to listen on \(address) (ports below 1024 need privileges); pass --port with a port "
                + "from 1024 to 65535"
        case let error as IOError where error.errnoCode == EADDRNOTAVAIL:
            description =
                "cannot listen on \(address): \(host) is not an address of this machine; pass --host "
                + "(127.0.0.1, or 0.0.0.0 for every interface)"
        case is SocketAddressError, is SocketAddressError.UnknownHost:
            description =
                "cannot listen on \(address): \(host) is not an address or a name that resolves; pass --host "
                + "(127.0.0.1, or 0.0.0.0 for every interface)"
        default:
            return nil
        }
    }
}
