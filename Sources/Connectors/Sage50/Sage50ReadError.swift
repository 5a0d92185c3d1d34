/// Why an uploaded file is not a Sage 50 export Ledgerwire can read: the row (counting every line, the header row
/// as 1, as a spreadsheet numbers them) and the column, with what is wrong.
public struct Sage50ReadError: Error, Sendable, Hashable {
    /// The row, from 1.
    public var row: Int
    /// The column's header, when the problem is in one column.
    public var column: String?
    /// What is wrong, in plain words.
    public var message: String

    public init(row: Int, column: String?, _ message: String) {
        self.row = row
        self.column = column
        self.message = message
    }
}
