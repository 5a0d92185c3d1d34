import Synchronization

/// Slows down guessing of API keys: an address that presented `limit` bad bearer tokens within `window` is refused
/// (429) for the rest of that window, whatever it presents.
///
/// Memory is bounded: at most `maximumAddresses` addresses are tracked; when full, expired entries are dropped, and
/// if none has expired the new address is refused tracking-free (counted as over the limit only once it has failed).
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
                guard entries.count < maximumAddresses else { return }
            }
            entries[address] = Entry(count: 1, windowStart: now)
        }
    }
}
