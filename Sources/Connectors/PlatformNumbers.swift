public import Accounting

/// Numbers a platform sends in headers and token answers, read with bounds.
///
/// A platform (or whoever answers in its place) decides these bytes, so none of them may reach an arithmetic trap:
/// each is parsed as plain digits within a range, and anything else is treated as absent.
public enum PlatformNumbers {
    /// The longest wait a platform can impose through `Retry-After` or a rate-limit reset: one day. A longer wait
    /// is taken as one day, so a hostile answer cannot park an integration for years.
    public static let longestWait: Duration = .seconds(86_400)

    /// Whether the platform's amount (a JSON number or string) is billing's decimal string to the last digit, at up to
    /// eight decimals: a document whose total differs by a cent fails its job loudly.
    static func sameAmount(_ billing: String, _ theirs: JSONValue?) -> Bool {
        guard let theirs = theirs?.stringValue,
            let left = try? ScaledDecimal(parsing: billing, maximumFractionDigits: 8).rescaled(to: 8),
            let right = try? ScaledDecimal(parsing: theirs, maximumFractionDigits: 8).rescaled(to: 8)
        else { return false }
        return left == right
    }

    /// `Retry-After` in its delta-seconds form (RFC 9110 §10.2.3), capped at `longestWait`; `nil` when absent or
    /// not 1–10 ASCII digits (the HTTP-date form is not used by the platforms Ledgerwire calls, and a date would
    /// trust the other side's clock).
    public static func retryAfter(_ value: String?) -> Duration? {
        guard let seconds = value.flatMap({ digits($0, maximumCount: 10) }) else { return nil }
        return min(.seconds(seconds), longestWait)
    }

    /// A wait in seconds with an optional fraction (`x-ratelimit-reset: 12.5`), capped at `longestWait`; `nil` when
    /// absent, negative, not finite or not a number.
    public static func waitSeconds(_ value: String?) -> Duration? {
        guard let value, value.utf8.count <= 32, let seconds = Double(value), seconds.isFinite, seconds >= 0 else {
            return nil
        }
        let clamped = min(seconds, Double(longestWait.components.seconds))
        return .milliseconds(Int64((clamped * 1000).rounded(.up)))
    }

    /// A whole number of seconds from a JSON answer (`expires_in`), or `nil` when it is not an integer within
    /// `range`.
    public static func seconds(_ value: JSONValue?, in range: ClosedRange<Int>) -> Int? {
        guard let value = value?.intValue, range.contains(value) else { return nil }
        return value
    }

    private static func digits(_ text: String, maximumCount: Int) -> Int64? {
        let bytes = text.utf8
        guard (1...maximumCount).contains(bytes.count) else { return nil }
        var value: Int64 = 0
        for byte in bytes {
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
            value = value * 10 + Int64(byte - UInt8(ascii: "0"))
        }
        return value
    }
}
