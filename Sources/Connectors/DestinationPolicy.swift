public import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Where Ledgerwire may send outbound requests: platform APIs, OAuth endpoints and webhook subscriptions, all of
/// them URLs a tenant admin types in. Checked when a URL is saved (`check(_:)`) and again by the transport after DNS
/// resolution, on every address the host resolves to (`checkResolved(_:)`), so a name that later points inside the
/// network is refused too.
///
/// Always refused: schemes other than `https` (plain `http` only with `allowsInsecure`), user info in the URL
/// (`https://user:pass@host`), the unspecified, multicast, broadcast and reserved addresses, and the cloud metadata
/// services (169.254.169.254, 100.100.100.200, fd00:ec2::254). Refused unless `allowsPrivateNetworks`: loopback,
/// private (10/8, 172.16/12, 192.168/16), carrier-grade NAT (100.64/10), link-local (169.254/16, fe80::/10) and
/// unique-local (fc00::/7) addresses, and the IPv6 forms embedding any of them (IPv4-mapped, NAT64, 6to4).
public struct DestinationPolicy: Sendable, Hashable {
    /// Plain `http` is allowed (tests, an emulator on loopback).
    public var allowsInsecure: Bool
    /// Loopback and private networks are allowed (tests, an on-premise platform on the LAN).
    public var allowsPrivateNetworks: Bool

    /// The production policy unless told otherwise: `https` to public addresses only.
    public init(allowsInsecure: Bool = false, allowsPrivateNetworks: Bool = false) {
        self.allowsInsecure = allowsInsecure
        self.allowsPrivateNetworks = allowsPrivateNetworks
    }

    /// Checks what can be checked without DNS: the scheme, user info, a host, and the host itself when it is an IP
    /// literal or `localhost`. Throws `TransportError.destinationRefused` saying what to fix.
    public func check(_ url: URL) throws(TransportError) {
        guard let components = URLComponents(url: url, resolvingAgainstBaseURL: false),
            let scheme = components.scheme?.lowercased()
        else { throw .destinationRefused("must be an absolute https URL") }
        switch scheme {
        case "https": break
        case "http" where allowsInsecure: break
        case "http": throw .destinationRefused("must use https (plain http is not allowed)")
        default: throw .destinationRefused("must be an https URL, not \(scheme)")
        }
        if components.user != nil || components.password != nil {
            throw .destinationRefused("must not contain a user name or password (user@host)")
        }
        guard let host = components.host, !host.isEmpty else {
            throw .destinationRefused("must name a host")
        }
        let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        let lowered = bare.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "."))
        if lowered == "localhost" || lowered.hasSuffix(".localhost") {
            if !allowsPrivateNetworks { throw .destinationRefused("must not point at this machine (\(host))") }
            return
        }
        if let address = Self.address(literal: bare) {
            try checkAddress(address, host: host)
        }
    }

    /// Checks the addresses a host resolved to; one forbidden address refuses the destination.
    public func checkResolved(_ addresses: [[UInt8]], host: String) throws(TransportError) {
        for address in addresses { try checkAddress(address, host: host) }
    }

    /// Checks one address (4 or 16 bytes, network order).
    public func checkAddress(_ address: [UInt8], host: String) throws(TransportError) {
        guard let found = Self.classify(address) else { return }
        if found.alwaysRefused || !allowsPrivateNetworks {
            let shown = Self.text(address)
            let subject = shown == host ? host : "\(host) (\(shown))"
            throw .destinationRefused("must be a public address; \(subject) is \(found.kind)")
        }
    }

    /// Whether `checkResolving(host:)` has anything to add to `check(_:)`: a name to resolve and check. An address
    /// (`check(_:)` checked it) or, with private networks allowed, any host has nothing.
    public func mustResolve(host: String) -> Bool {
        let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        return !allowsPrivateNetworks && Self.address(literal: bare) == nil
    }

    /// Resolves `host` with `getaddrinfo` and checks every address, unless private networks are allowed (then
    /// nothing it could resolve to is forbidden but what `check(_:)` already refused). Blocking: call it off the
    /// cooperative pool.
    public func checkResolving(host: String) throws(TransportError) {
        let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        if let literal = Self.address(literal: bare) {
            try checkAddress(literal, host: host)
            return
        }
        if allowsPrivateNetworks { return }
        let addresses = Self.resolve(bare)
        if addresses.isEmpty { throw .cannotConnect("\(host) could not be resolved") }
        try checkResolved(addresses, host: host)
    }

    // MARK: Addresses

    /// The bytes of an IPv4 or IPv6 literal, or `nil` for a name.
    static func address(literal: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, literal, &v4) == 1 {
            return withUnsafeBytes(of: &v4) { Array($0) }
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, literal, &v6) == 1 {
            return withUnsafeBytes(of: &v6) { Array($0) }
        }
        return nil
    }

    /// Every address `getaddrinfo` gives for `host` (empty when it fails).
    static func resolve(_ host: String) -> [[UInt8]] {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        #if canImport(Darwin)
        hints.ai_socktype = SOCK_STREAM
        #else
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #endif
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &list) == 0, let first = list else { return [] }
        defer { freeaddrinfo(first) }
        var addresses: [[UInt8]] = []
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let entry = cursor {
            if let socketAddress = entry.pointee.ai_addr {
                switch Int32(entry.pointee.ai_family) {
                case AF_INET:
                    socketAddress.withMemoryRebound(to: sockaddr_in.self, capacity: 1) {
                        var raw = $0.pointee.sin_addr
                        addresses.append(withUnsafeBytes(of: &raw) { Array($0) })
                    }
                case AF_INET6:
                    socketAddress.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) {
                        var raw = $0.pointee.sin6_addr
                        addresses.append(withUnsafeBytes(of: &raw) { Array($0) })
                    }
                default: break
                }
            }
            cursor = entry.pointee.ai_next
        }
        return addresses
    }

    /// What kind of non-public address this is, and whether it is refused even on private networks; `nil` for a
    /// public address.
    static func classify(_ address: [UInt8]) -> (kind: String, alwaysRefused: Bool)? {
        if address.count == 4 { return classifyV4(address) }
        guard address.count == 16 else { return ("not an IP address", true) }
        let prefix = Array(address[0..<12])
        if prefix == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff] {
            return classifyV4(Array(address[12...])).map { ("\($0.kind), IPv4-mapped", $0.alwaysRefused) }
        }
        if address.allSatisfy({ $0 == 0 }) { return ("unspecified", true) }
        if address == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1] { return ("loopback", false) }
        if prefix == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0] {
            // IPv4-compatible (deprecated): the embedded IPv4 address is what would be reached.
            return classifyV4(Array(address[12...])) ?? ("reserved (IPv4-compatible)", true)
        }
        if prefix == [0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0] {
            return classifyV4(Array(address[12...])).map { ("\($0.kind), through NAT64", $0.alwaysRefused) }
        }
        if address[0] == 0x20, address[1] == 0x02 {
            return classifyV4(Array(address[2..<6])).map { ("\($0.kind), through 6to4", $0.alwaysRefused) }
        }
        if address[0] == 0xff { return ("multicast", true) }
        if address[0] == 0xfe, address[1] & 0xc0 == 0x80 { return ("link-local", false) }
        // fd00:ec2::254, Amazon's metadata service over IPv6.
        if address == [0xfd, 0, 0x0e, 0xc2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, 0x54] {
            return ("a metadata service", true)
        }
        if address[0] & 0xfe == 0xfc { return ("unique-local (private)", false) }
        return nil
    }

    private static func classifyV4(_ bytes: [UInt8]) -> (kind: String, alwaysRefused: Bool)? {
        let (a, b) = (bytes[0], bytes[1])
        if bytes == [169, 254, 169, 254] || bytes == [100, 100, 100, 200] { return ("a metadata service", true) }
        switch a {
        case 0: return ("unspecified", true)
        case 10: return ("private", false)
        case 127: return ("loopback", false)
        case 100 where b & 0xc0 == 64: return ("carrier-grade NAT (private)", false)
        case 169 where b == 254: return ("link-local", false)
        case 172 where b & 0xf0 == 16: return ("private", false)
        case 192 where b == 168: return ("private", false)
        case 224...239: return ("multicast", true)
        case 240...255: return ("reserved or broadcast", true)
        default: return nil
        }
    }

    private static func text(_ address: [UInt8]) -> String {
        let size = 64
        var buffer = [CChar](repeating: 0, count: size)
        let family = address.count == 4 ? AF_INET : AF_INET6
        let written = address.withUnsafeBytes { inet_ntop(family, $0.baseAddress, &buffer, socklen_t(size)) }
        guard written != nil else { return "?" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

extension DestinationPolicy {
    /// Whether `text` is safe as one segment of a URL path (a QuickBooks realm id, a record id from a platform or a
    /// webhook): non-empty, at most 128 characters, no `/`, `\`, `%`, `?`, `#`, no `.` or `..`, no control characters
    /// or spaces. An id that fails is refused rather than escaped, since it can only come from a hostile party.
    public static func isSafePathSegment(_ text: String) -> Bool {
        guard !text.isEmpty, text.utf8.count <= 128, text != ".", text != ".." else { return false }
        return text.unicodeScalars.allSatisfy { scalar in
            !(scalar.properties.generalCategory == .control || scalar.properties.isWhitespace
                || "/\\%?#".unicodeScalars.contains(scalar))
        }
    }
}
