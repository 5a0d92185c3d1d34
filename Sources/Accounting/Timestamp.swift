/// An instant with microsecond precision, parsed from RFC 3339 (`2026-11-21T09:30:00.123Z`, `…+05:30`).
///
/// Billing's `updated_at` decides which version of a record is newer, so the comparison must be exact:
/// this is an integer count of microseconds since 1970-01-01T00:00:00Z, never a floating-point date.
public struct Timestamp: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let microsecondsSinceEpoch: Int64

    public init(microsecondsSinceEpoch: Int64) {
        self.microsecondsSinceEpoch = microsecondsSinceEpoch
    }

    /// Saturates at the representable range (about ±292,000 years) instead of trapping.
    public init(secondsSinceEpoch: Int64) {
        let (micros, overflow) = secondsSinceEpoch.multipliedReportingOverflow(by: 1_000_000)
        self.microsecondsSinceEpoch = overflow ? (secondsSinceEpoch < 0 ? .min : .max) : micros
    }

    /// Parses `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`; `t`/`z` and a space separator are accepted as
    /// RFC 3339 §5.6 allows. Fractions beyond microseconds must be zeros (no silent truncation).
    public init?(rfc3339 text: String) {
        let bytes = Array(text.utf8)
        guard bytes.count >= 20, let date = LocalDate(parsing: String(decoding: bytes[0..<10], as: UTF8.self)) else {
            return nil
        }
        let separator = bytes[10]
        guard separator == UInt8(ascii: "T") || separator == UInt8(ascii: "t") || separator == UInt8(ascii: " "),
            bytes[13] == UInt8(ascii: ":"), bytes[16] == UInt8(ascii: ":"),
            let hour = LocalDate.number(bytes[11..<13]), let minute = LocalDate.number(bytes[14..<16]),
            let second = LocalDate.number(bytes[17..<19]), hour < 24, minute < 60, second < 61
        else { return nil }
        var index = 19
        var micros: Int64 = 0
        if bytes[index] == UInt8(ascii: ".") {
            index += 1
            var digits = 0
            while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") {
                let digit = Int64(bytes[index] - UInt8(ascii: "0"))
                if digits < 6 {
                    micros = micros * 10 + digit
                } else if digit != 0 {
                    return nil
                }
                digits += 1
                index += 1
            }
            guard digits > 0 else { return nil }
            for _ in digits..<max(digits, 6) { micros *= 10 }
        }
        guard index < bytes.count else { return nil }
        var offsetSeconds: Int64 = 0
        switch bytes[index] {
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            guard index + 1 == bytes.count else { return nil }
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            guard index + 6 == bytes.count, bytes[index + 3] == UInt8(ascii: ":"),
                let offsetHours = LocalDate.number(bytes[(index + 1)..<(index + 3)]),
                let offsetMinutes = LocalDate.number(bytes[(index + 4)..<(index + 6)]),
                offsetHours < 24, offsetMinutes < 60
            else { return nil }
            offsetSeconds = Int64(offsetHours * 3600 + offsetMinutes * 60)
            if bytes[index] == UInt8(ascii: "-") { offsetSeconds = -offsetSeconds }
        default:
            return nil
        }
        let seconds =
            date.daysSinceEpoch * 86_400 + Int64(hour * 3600 + minute * 60 + min(second, 59)) - offsetSeconds
        self.microsecondsSinceEpoch = seconds * 1_000_000 + micros
    }

    /// RFC 3339 in UTC with microseconds: `2026-11-21T09:30:00.123000Z`.
    public var rfc3339: String {
        let seconds = microsecondsSinceEpoch.floorDivided(by: 1_000_000)
        // The floor remainder, computed without `seconds * 1_000_000`, which overflows near `Int64.min`.
        let remainder = microsecondsSinceEpoch % 1_000_000
        let micros = remainder < 0 ? remainder + 1_000_000 : remainder
        let days = seconds.floorDivided(by: 86_400)
        let secondOfDay = seconds - days * 86_400
        let (year, month, day) = Self.civil(fromDays: days)
        func pad(_ value: Int64, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(secondOfDay / 3600, 2)):"
            + "\(pad(secondOfDay % 3600 / 60, 2)):\(pad(secondOfDay % 60, 2)).\(pad(micros, 6))Z"
    }

    public var description: String { rfc3339 }

    /// This instant moved by `duration` (microsecond precision), saturating at the representable range rather than
    /// trapping: an absurd `expires_in` or `Retry-After` becomes "the far future", never a crash.
    public func adding(_ duration: Duration) -> Timestamp {
        let offset = duration.wholeMicroseconds
        let (sum, overflow) = microsecondsSinceEpoch.addingReportingOverflow(offset)
        return Timestamp(microsecondsSinceEpoch: overflow ? (offset < 0 ? .min : .max) : sum)
    }

    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool {
        lhs.microsecondsSinceEpoch < rhs.microsecondsSinceEpoch
    }

    /// Howard Hinnant's `civil_from_days`.
    static func civil(fromDays days: Int64) -> (Int64, Int64, Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}

extension Int64 {
    fileprivate func floorDivided(by divisor: Int64) -> Int64 {
        let quotient = self / divisor
        return (self % divisor != 0 && (self < 0) != (divisor < 0)) ? quotient - 1 : quotient
    }
}
