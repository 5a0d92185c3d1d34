import Accounting
import Foundation

extension XeroOrganisation {
    /// A number or numeric string a client sent, bounded (no amount of Xero's is beyond a trillion): `nil` otherwise.
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

    /// Xero keeps every amount (line amounts, tax, totals, payments) to two decimal places, whatever the currency
    /// ("Rounding in Xero": "All summary values such as Total, LineAmount etc will remain at two decimal places
    /// only"): a JPY amount keeps its two places, a KWD or BHD amount loses its third. Halves round away from zero.
    static func round(_ value: Decimal) -> Decimal {
        var result = Decimal()
        var source = value
        NSDecimalRound(&result, &source, 2, .plain)
        return result
    }

    /// An amount as Xero answers it: two decimal places (`40.00`).
    static func money(_ value: Decimal) -> JSONValue { .number(fixed(round(value), places: 2)) }

    /// A rate as Xero answers it: four decimal places (`20.0000`).
    static func rateNumber(_ value: Decimal) -> JSONValue { .number(fixed(value, places: 4)) }

    static func fixed(_ value: Decimal, places: Int) -> String {
        var result = Decimal()
        var source = value
        NSDecimalRound(&result, &source, places, .plain)
        let parts = NSDecimalNumber(decimal: result).stringValue.split(separator: ".", maxSplits: 1)
        let whole = parts.first.map(String.init) ?? "0"
        let fraction = parts.count > 1 ? String(parts[1]) : ""
        guard places > 0 else { return whole }
        return whole + "." + fraction + String(repeating: "0", count: max(0, places - fraction.count))
    }

    /// `/Date(1552262400000+0000)/`, as Xero writes dates and instants in JSON.
    static func dateJSON(_ date: Date) -> String {
        "/Date(\(Int64((date.timeIntervalSince1970 * 1000).rounded(.down)))+0000)/"
    }

    /// `/Date(1552327126164)/`, the envelope's `DateTimeUTC`.
    static func instantJSON(_ date: Date) -> String {
        "/Date(\(Int64((date.timeIntervalSince1970 * 1000).rounded(.down))))/"
    }

    /// `2019-03-11`.
    static func day(_ date: Date) -> Substring {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withFullDate]
        formatter.timeZone = TimeZone(secondsFromGMT: 0)
        return Substring(formatter.string(from: date))
    }

    /// A date a client sent: `2019-03-11`, `2019-03-11T00:00:00`, or `/Date(ms+0000)/`.
    static func parseDate(_ value: JSONValue?) -> Date? {
        guard let text = value?.stringValue, text.utf8.count <= 40 else { return nil }
        if text.hasPrefix("/Date(") {
            let digits = text.dropFirst(6).prefix { $0.isNumber || $0 == "-" }
            guard let millis = Int64(digits), abs(millis) < 100_000_000_000_000 else { return nil }
            return Date(timeIntervalSince1970: TimeInterval(millis) / 1000)
        }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withFullDate]
        formatter.timeZone = TimeZone(secondsFromGMT: 0)
        return formatter.date(from: String(text.prefix(10)))
    }

    /// `2019-03-11T00:00:00`, the `DateString` beside a date.
    static func dateString(_ date: Date) -> String { "\(day(date))T00:00:00" }

    /// An instant from `If-Modified-Since`: ISO 8601 with or without an offset or fractions (UTC when none), or an
    /// HTTP date.
    static func instant(_ text: String) -> Date? {
        guard text.utf8.count <= 64 else { return nil }
        let formatter = ISO8601DateFormatter()
        for options: ISO8601DateFormatter.Options in [
            [.withInternetDateTime, .withFractionalSeconds], [.withInternetDateTime],
        ] {
            formatter.formatOptions = options
            if let date = formatter.date(from: text) { return date }
        }
        let local = DateFormatter()
        local.locale = Locale(identifier: "en_US_POSIX")
        local.timeZone = TimeZone(secondsFromGMT: 0)
        for format in ["yyyy-MM-dd'T'HH:mm:ss.SSS", "yyyy-MM-dd'T'HH:mm:ss", "EEE, dd MMM yyyy HH:mm:ss zzz"] {
            local.dateFormat = format
            if let date = local.date(from: text) { return date }
        }
        return nil
    }

    static func currencyName(_ code: String) -> String {
        Locale(identifier: "en_GB").localizedString(forCurrencyCode: code) ?? code
    }

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
