import Accounting
import Foundation

extension Platform {
    /// The platform's name as its users know it.
    var displayName: String {
        switch self {
        case .quickBooksOnline: "QuickBooks Online"
        case .quickBooksDesktop: "QuickBooks Desktop"
        case .xero: "Xero"
        case .sageBusinessCloud: "Sage Business Cloud Accounting"
        case .sage50: "Sage 50"
        case .tally: "Tally"
        default:
            rawValue.split(separator: "_").map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined(separator: " ")
        }
    }
}

extension CodeMappings.Kind {
    /// The kind of mapping as a heading: "Revenue accounts", "Tax codes", …
    var title: String {
        switch self {
        case .account: "Revenue accounts"
        case .taxCode: "Tax codes"
        case .depositAccount: "Deposit accounts"
        case .item: "Items by course"
        default: member.replacingOccurrences(of: "_", with: " ").capitalized
        }
    }
}

/// Times as the dashboard shows them: to the minute, in the zone of the school of the person looking (`zone`, set
/// for each request by the session middleware), said so.
enum DashboardTime {
    /// A time zone and the calendar that reads instants in it.
    struct Zone: Sendable {
        let calendar: Calendar
        /// How a time says its zone: `UTC`, `GMT+5:30`.
        let label: String

        /// The zone of `identifier` (IANA), UTC when it is `nil` or unknown.
        init(identifier: String?) {
            let zone = identifier.flatMap(TimeZone.init(identifier:)) ?? TimeZone(identifier: "UTC") ?? .current
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = zone
            self.calendar = calendar
            self.label = zone.identifier == "UTC" || zone.identifier == "GMT" ? "UTC" : zone.identifier
        }

        static let utc = Zone(identifier: nil)
    }

    @TaskLocal static var zone = Zone.utc

    private static func parts(_ timestamp: Timestamp) -> DateComponents {
        let date = Date(timeIntervalSince1970: Double(timestamp.microsecondsSinceEpoch) / 1_000_000)
        return zone.calendar.dateComponents([.year, .month, .day, .hour, .minute], from: date)
    }

    /// `2026-12-01 14:05 UTC`, `2026-12-01 19:35 Asia/Kolkata`.
    static func format(_ timestamp: Timestamp) -> String {
        let parts = parts(timestamp)
        return String(
            format: "%04d-%02d-%02d %02d:%02d ", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0, parts.hour ?? 0,
            parts.minute ?? 0) + zone.label
    }

    /// The hour an hour of the chart starts at: `14:00` (`19:30` in a zone half an hour off UTC's hours).
    static func hour(_ timestamp: Timestamp) -> String {
        let parts = parts(timestamp)
        return String(format: "%02d:%02d", parts.hour ?? 0, parts.minute ?? 0)
    }
}

extension Money {
    /// The amount as people who use the currency write it: its symbol, the currency's own fraction digits, and its
    /// grouping — `₹1,18,000.00` (lakhs and crores), `£1,180.00`, `¥500`, `-$12.50`; a currency without a
    /// well-known symbol is written with its code, `CHF 10.00`.
    var displayed: String {
        let units = minorUnits.magnitude
        let perMajor = UInt64(currency.minorUnitsPerMajorUnit)
        let whole = String(units / perMajor)
        var text = currency.code == "INR" ? Self.groupedIndian(whole) : Self.grouped(whole)
        if currency.minorUnitExponent > 0 {
            let fraction = String(units % perMajor)
            text += "." + String(repeating: "0", count: currency.minorUnitExponent - fraction.count) + fraction
        }
        let symbol = Self.symbols[currency.code]
        return (isNegative ? "-" : "") + (symbol ?? currency.code + " ") + text
    }

    static let symbols = [
        "INR": "₹", "GBP": "£", "USD": "$", "EUR": "€", "JPY": "¥", "AUD": "A$", "CAD": "CA$", "NZD": "NZ$",
        "SGD": "S$", "HKD": "HK$", "ZAR": "R", "KES": "KSh", "NGN": "₦", "AED": "AED ",
    ]

    /// Digits in threes: `1180000` → `1,180,000`.
    static func grouped(_ digits: String) -> String {
        var groups: [Substring] = []
        var end = digits.endIndex
        while end > digits.startIndex {
            let start = digits.index(end, offsetBy: -3, limitedBy: digits.startIndex) ?? digits.startIndex
            groups.insert(digits[start..<end], at: 0)
            end = start
        }
        return groups.joined(separator: ",")
    }

    /// The Indian way: the last three digits, then twos: `118000` → `1,18,000`, `12345678` → `1,23,45,678`.
    static func groupedIndian(_ digits: String) -> String {
        guard digits.count > 3 else { return digits }
        let head = digits.dropLast(3)
        var groups: [Substring] = []
        var end = head.endIndex
        while end > head.startIndex {
            let start = head.index(end, offsetBy: -2, limitedBy: head.startIndex) ?? head.startIndex
            groups.insert(head[start..<end], at: 0)
            end = start
        }
        return groups.joined(separator: ",") + "," + digits.suffix(3)
    }
}
