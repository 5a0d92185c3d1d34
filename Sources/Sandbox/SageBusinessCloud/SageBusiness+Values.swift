import Accounting
import Foundation

extension SageBusiness {
    /// A new id as Sage's are: 32 lower-case hex digits (platforms.md §5.2).
    static func newID() -> String {
        UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
    }

    /// `2026-11-21T09:30:00Z`, as Sage writes `created_at` and `updated_at`.
    static func instant(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }

    /// `2026-11-21`.
    static func day(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withFullDate]
        formatter.timeZone = TimeZone(secondsFromGMT: 0)
        return formatter.string(from: date)
    }

    /// A `YYYY-MM-DD` date a client sent, or `nil`.
    static func date(_ value: JSONValue?) -> String? {
        guard let text = value?.stringValue,
            text.wholeMatch(of: /[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])/) != nil
        else { return nil }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withFullDate]
        formatter.timeZone = TimeZone(secondsFromGMT: 0)
        return formatter.date(from: text) == nil ? nil : text
    }

    /// An instant from `updated_or_created_since` or `deleted_since`: a date-time with an offset
    /// (`2026-11-21T09:30:00+00:00`, `…Z`, with or without fractions), or a date (`2026-11-21`, midnight UTC).
    static func since(_ text: String) -> Date? {
        guard text.utf8.count <= 64 else { return nil }
        let formatter = ISO8601DateFormatter()
        for options: ISO8601DateFormatter.Options in [
            [.withInternetDateTime, .withFractionalSeconds], [.withInternetDateTime], [.withFullDate],
        ] {
            formatter.formatOptions = options
            if let date = formatter.date(from: text) { return date }
        }
        return nil
    }

    /// A number a client sent (a JSON number or a numeric string), bounded: no amount of a business reaches a
    /// trillion. `nil` for anything else.
    static func decimal(_ value: JSONValue?) -> Decimal? {
        let text: String
        switch value {
        case .number(let number)?: text = number
        case .string(let string)?: text = string
        default: return nil
        }
        guard text.utf8.count <= 40, let decimal = Decimal(string: text, locale: Locale(identifier: "en_US_POSIX")),
            !decimal.isNaN, abs(decimal) < 1_000_000_000_000
        else { return nil }
        return decimal
    }

    /// An amount rounded to two places, halves away from zero.
    static func round(_ value: Decimal, places: Int = 2) -> Decimal {
        var result = Decimal()
        var source = value
        NSDecimalRound(&result, &source, places, .plain)
        return result
    }

    /// An amount as the emulator answers it: a JSON number with two decimal places (`120.00`).
    static func money(_ value: Decimal) -> JSONValue { .number(fixed(value, places: 2)) }

    static func fixed(_ value: Decimal, places: Int) -> String {
        let rounded = round(value, places: places)
        let parts = NSDecimalNumber(decimal: rounded).stringValue.split(separator: ".", maxSplits: 1)
        let whole = parts.first.map(String.init) ?? "0"
        let fraction = parts.count > 1 ? String(parts[1]) : ""
        guard places > 0 else { return whole }
        return whole + "." + fraction + String(repeating: "0", count: max(0, places - fraction.count))
    }

    /// A text field a client sent, bounded: `nil` when absent, refused when not a string or longer than `limit`.
    static func text(
        _ value: JSONValue?, _ source: String, limit: Int = 500
    ) throws(SageBusinessCloudFailure) -> String? {
        switch value {
        case nil, .null?: return nil
        case .string(let text)? where text.count <= limit: return text
        case .string?: throw .invalid(source, "is too long (maximum is \(limit) characters)")
        default: throw .invalid(source, "is invalid")
        }
    }
}

extension SageBusiness {
    /// Compares secrets in time that does not depend on where they differ.
    static func constantTimeEqual(_ left: String, _ right: String) -> Bool {
        let a = Array(left.utf8)
        let b = Array(right.utf8)
        var difference = UInt8(truncatingIfNeeded: a.count ^ b.count)
        for index in 0..<max(a.count, b.count) {
            difference |= (index < a.count ? a[index] : 0) ^ (index < b.count ? b[index] : 0)
        }
        return difference == 0
    }
}
