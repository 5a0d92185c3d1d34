import GRDB

/// Which page of a list to read: at most `limit` items after the `cursor` of the previous page.
public struct PageRequest: Hashable, Sendable {
    public static let maximumLimit = 500
    public static let defaultLimit = 100

    public var limit: Int
    /// The sort key of the last item already seen, decoded from the opaque cursor.
    var after: Int64?

    /// - Parameters:
    ///   - limit: clamped to 1...500.
    ///   - cursor: `next_cursor` of the previous page; `nil` for the first page.
    /// - Throws: `PersistenceError.invalidCursor` when the cursor is not one this API handed out.
    public init(limit: Int? = nil, cursor: String? = nil) throws(PersistenceError) {
        self.limit = min(max(limit ?? Self.defaultLimit, 1), Self.maximumLimit)
        if let cursor {
            guard let value = Int64(cursor), value >= 0 else { throw .invalidCursor }
            self.after = value
        }
    }
}

/// A page of a list and the cursor of the next one (`nil` on the last page).
public struct Page<Item: Sendable>: Sendable {
    public var items: [Item]
    public var nextCursor: String?

    public init(items: [Item], nextCursor: String?) {
        self.items = items
        self.nextCursor = nextCursor
    }

    /// Builds a page from `limit + 1` fetched rows: the extra row only tells that a next page exists.
    init(rows: [Row], limit: Int, cursor: (Row) -> Int64, item: (Row) throws -> Item) rethrows {
        let visible = rows.prefix(limit)
        self.items = try visible.map(item)
        self.nextCursor = rows.count > limit ? visible.last.map { String(cursor($0)) } : nil
    }
}

/// `WHERE` clauses built from optional filters, with their arguments in order.
struct SQLFilter {
    private var conditions: [String] = []
    private(set) var arguments: StatementArguments = []

    /// Adds `condition` (with one `?`) when `value` is present.
    mutating func add(_ condition: String, _ value: (some DatabaseValueConvertible)?) {
        guard let value else { return }
        conditions.append(condition)
        arguments += [value]
    }

    /// Adds a condition without arguments.
    mutating func add(_ condition: String) {
        conditions.append(condition)
    }

    /// Adds the arguments of the `?` of conditions added without them, in order.
    mutating func append(_ more: StatementArguments) {
        arguments += more
    }

    var whereClause: String {
        conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
    }
}

extension AppDatabase {
    /// A page of `table`'s rows in insertion order (the cursor is the rowid), filtered by `filter`.
    static func rowPage<Item>(
        of table: String,
        _ filter: SQLFilter,
        _ page: PageRequest,
        db: Database,
        item: (Row) throws -> Item
    ) throws -> Page<Item> {
        var filter = filter
        filter.add("rowid > ?", page.after)
        let rows = try Row.fetchAll(
            db,
            // Named apart: a table whose `INTEGER PRIMARY KEY` aliases the rowid would report it by that name.
            sql: "SELECT rowid AS page_cursor, * FROM \(table) \(filter.whereClause) ORDER BY rowid LIMIT ?",
            arguments: filter.arguments + [page.limit + 1]
        )
        return try Page(rows: rows, limit: page.limit, cursor: { $0["page_cursor"] }, item: item)
    }
}
