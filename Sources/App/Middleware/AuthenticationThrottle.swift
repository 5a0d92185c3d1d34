import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Slows down guessing of API keys: an address that presented `limit` bad bearer tokens within `window` is refused
/// (429) for the rest of that window, whatever it presents.
///
/// An IPv6 client is counted by its /64 network, since one host usually holds a whole /64 and could otherwise
/// rotate addresses to escape the count. Memory is bounded: at most `maximumAddresses` are tracked; when full,
/// expired entries are dropped, and if none has expired the one whose window started earliest makes room.
final class AuthenticationThrottle: Sendable {
    let limit: Int
    let window: Duration
    let maximumAddresses: Int
    private let failures = Mutex<[String: Entry]>([:])

    private struct Entry {
        var count: Int
        var windowStart: ContinuousClock.Instant
    }

    init(limit: Int = 20, window: Duration = .seconds(60), maximumAddresses: Int = 10_000) {
        self.limit = limit
        self.window = window
        self.maximumAddresses = maximumAddresses
    }

    /// How long `address` must still wait, or `nil` when it may try.
    func wait(for address: String, now: ContinuousClock.Instant = .now) -> Duration? {
        failures.withLock { entries in
            guard let entry = entries[address] else { return nil }
            let end = entry.windowStart + window
            if end <= now {
                entries[address] = nil
                return nil
            }
            return entry.count >= limit ? end - now : nil
        }
    }

    /// Counts one bad token from `address`.
    func recordFailure(from address: String, now: ContinuousClock.Instant = .now) {
        failures.withLock { entries in
            if var entry = entries[address], entry.windowStart + window > now {
                entry.count += 1
                entries[address] = entry
                return
            }
            if entries.count >= maximumAddresses {
                entries = entries.filter { $0.value.windowStart + window > now }
                if entries.count >= maximumAddresses,
                    let oldest = entries.min(by: { $0.value.windowStart < $1.value.windowStart })?.key
                {
                    entries[oldest] = nil
                }
            }
            entries[address] = Entry(count: 1, windowStart: now)
        }
    }

    /// What failures are counted under for a peer's IP address: the address itself for IPv4 (and IPv4-mapped IPv6),
    /// its /64 network for IPv6.
    static func clientKey(forIP ip: String) -> String {
        var bytes = [UInt8](repeating: 0, count: 16)
        guard ip.contains(":"), inet_pton(AF_INET6, ip, &bytes) == 1 else { return ip }
        let mappedIPv4Prefix: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF]
        if Array(bytes.prefix(12)) == mappedIPv4Prefix {
            return bytes.suffix(4).map(String.init).joined(separator: ".")
        }
        let hex = bytes.prefix(8).map { byte in
            let digits = Array("0123456789abcdef")
            return String([digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]])
        }
        return hex.joined() + "::/64"
    }
}
