import GRDB
import Synchronization

/// Counts the SQL statements the store runs, by kind, for benchmarks that count database work (reads per job). Off
/// unless enabled before the database is opened: connections opened while it is on report each statement they run.
public final class StatementCounter: Sendable {
    /// What was counted since the last `reset()`.
    public struct Counts: Sendable, Hashable {
        /// `SELECT` and `WITH` statements.
        public var reads: Int
        /// `INSERT`, `UPDATE`, `DELETE` and `REPLACE` statements.
        public var writes: Int
        /// Everything else: `BEGIN`, `COMMIT`, `SAVEPOINT`, `PRAGMA`, …
        public var other: Int
    }

    private let enabled = Atomic(false)
    private let reads = Atomic(0)
    private let writes = Atomic(0)
    private let other = Atomic(0)

    init() {}

    /// Counts the statements of connections opened from now on.
    public func enable() { enabled.store(true, ordering: .relaxed) }

    public var isEnabled: Bool { enabled.load(ordering: .relaxed) }

    public func reset() {
        reads.store(0, ordering: .relaxed)
        writes.store(0, ordering: .relaxed)
        other.store(0, ordering: .relaxed)
    }

    public var counts: Counts {
        Counts(
            reads: reads.load(ordering: .relaxed), writes: writes.load(ordering: .relaxed),
            other: other.load(ordering: .relaxed))
    }

    /// Reports `db`'s statements here, while counting is enabled.
    func observe(_ db: Database) {
        guard isEnabled else { return }
        db.trace(options: .statement) { [self] event in
            guard case .statement(let statement) = event else { return }
            let sql = statement.sql
            let keyword = sql.prefix { $0.isLetter }.uppercased()
            switch keyword {
            case "SELECT", "WITH": reads.add(1, ordering: .relaxed)
            case "INSERT", "UPDATE", "DELETE", "REPLACE": writes.add(1, ordering: .relaxed)
            default: other.add(1, ordering: .relaxed)
            }
        }
    }
}

extension AppDatabase {
    /// The process's statement counter (benchmarks enable it).
    public static let statements = StatementCounter()
}
