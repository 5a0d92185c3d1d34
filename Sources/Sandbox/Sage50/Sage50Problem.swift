/// Something in an import file that Sage 50 would refuse, or would import differently from what the file says.
public struct Sage50Problem: Sendable, Hashable, CustomStringConvertible {
    /// How Sage 50's import treats the problem.
    public enum Severity: Sendable, Hashable {
        /// Sage 50 refuses the file: nothing is imported.
        case error
        /// Sage 50 imports the row but not as written (a reference cut to eight characters, an existing customer
        /// overwritten, a VAT amount that is not the code's rate): the import works, the books are not what the
        /// sender meant.
        case warning
    }

    /// The row in the file, 1-based, counting every line including the header row, as a spreadsheet numbers it.
    public var row: Int
    /// The column's name as the checker's layouts spell it, or `nil` when the whole row or file is at fault.
    public var column: String?
    /// What is wrong and what Sage 50 expects, in plain words.
    public var message: String
    /// Whether Sage 50 refuses the file or imports it differently.
    public var severity: Severity

    /// A problem at `row` in `column`.
    public init(row: Int, column: String?, _ message: String, severity: Severity = .error) {
        self.row = row
        self.column = column
        self.message = message
        self.severity = severity
    }

    /// `Row 3, Tax Code: T1 is 20 % …` or `Row 1: …`.
    public var description: String {
        "Row \(row)" + (column.map { ", \($0)" } ?? "") + ": " + message
    }
}

extension [Sage50Problem] {
    /// Sorted by row, problems of one row kept in the order they were found (column order).
    func inRowOrder() -> [Sage50Problem] {
        enumerated().sorted { ($0.element.row, $0.offset) < ($1.element.row, $1.offset) }.map(\.element)
    }
}
