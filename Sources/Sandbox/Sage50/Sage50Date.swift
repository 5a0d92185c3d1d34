/// A calendar date as Sage 50 UK writes and reads it: `DD/MM/YYYY`.
///
/// The import takes "the format DD/MM/YYYY" (Sage knowledgebase, "Audit trail transaction data fields you can
/// import", gb-kb.sage.com k2dockey=250321114601443); older releases also read `ddmmyy`, `ddmmyyyy` and `dd/mm/yy`
/// (makingithappen.co.uk/CI/std/audittrans.htm, gtsagedev.co.uk daybook import), which the checker refuses so that
/// Ledgerwire never relies on a two-digit year.
public struct Sage50Date: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The year, 1900…2099 (Sage 50's own range for a transaction date).
    public var year: Int
    /// The month, 1…12.
    public var month: Int
    /// The day of the month, 1…31 as the month allows.
    public var day: Int

    /// The date `day`/`month`/`year`, or `nil` if there is no such day or the year is outside 1900…2099.
    public init?(day: Int, month: Int, year: Int) {
        guard (1900...2099).contains(year), (1...12).contains(month), day >= 1,
            day <= Self.days(inMonth: month, year: year)
        else { return nil }
        self.year = year
        self.month = month
        self.day = day
    }

    /// Reads `DD/MM/YYYY` (two digits, two digits, four digits); anything else is `nil`.
    public init?(parsing text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 2, parts[1].count == 2, parts[2].count == 4,
            parts.allSatisfy({ $0.allSatisfy(\.isASCIIDigit) }),
            let day = Int(parts[0]), let month = Int(parts[1]), let year = Int(parts[2])
        else { return nil }
        self.init(day: day, month: month, year: year)
    }

    static func days(inMonth month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    public static func < (lhs: Sage50Date, rhs: Sage50Date) -> Bool {
        (lhs.year, lhs.month, lhs.day) < (rhs.year, rhs.month, rhs.day)
    }

    /// The day before this one a year later: the last day of a financial year that starts on this date.
    var endOfYearStartingHere: Sage50Date {
        let next = year + 1
        let sameDay = Sage50Date(day: min(day, Self.days(inMonth: month, year: next)), month: month, year: next)
        guard let sameDay else { return self }
        if sameDay.day > 1 {
            return Sage50Date(day: sameDay.day - 1, month: month, year: next) ?? self
        }
        let previousMonth = month == 1 ? 12 : month - 1
        let yearOfPrevious = month == 1 ? next - 1 : next
        return Sage50Date(
            day: Self.days(inMonth: previousMonth, year: yearOfPrevious), month: previousMonth, year: yearOfPrevious)
            ?? self
    }

    /// `05/09/2026`.
    public var description: String {
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(two(day))/\(two(month))/\(year)"
    }
}
