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

/// Times as the dashboard shows them: to the minute, in UTC, said so.
enum DashboardTime {
    private static let calendar: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? .current
        return calendar
    }()

    private static func parts(_ timestamp: Timestamp) -> DateComponents {
        let date = Date(timeIntervalSince1970: Double(timestamp.microsecondsSinceEpoch) / 1_000_000)
        return calendar.dateComponents([.year, .month, .day, .hour, .minute], from: date)
    }

    /// `2026-12-01 14:05 UTC`.
    static func format(_ timestamp: Timestamp) -> String {
        let parts = parts(timestamp)
        return String(
            format: "%04d-%02d-%02d %02d:%02d UTC", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0, parts.hour ?? 0,
            parts.minute ?? 0)
    }

    /// `14:00`.
    static func hour(_ timestamp: Timestamp) -> String {
        String(format: "%02d:00", parts(timestamp).hour ?? 0)
    }
}
