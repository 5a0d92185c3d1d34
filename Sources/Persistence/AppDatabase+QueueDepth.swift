public import Accounting
import GRDB

extension AppDatabase {
    /// How many pending jobs are due at `now`: the queue's depth, for the engine's metrics (one range search of
    /// the `jobs_open` index, whatever else the table holds).
    public func dueJobCount(at now: Timestamp) async throws -> Int {
        try await writer.read { db in
            try Int.fetchOne(
                db,
                sql: """
                    SELECT COUNT(*) FROM jobs
                    WHERE status IN ('pending', 'running') AND status = 'pending' AND next_attempt_at <= ?
                    """,
                arguments: [now.microsecondsSinceEpoch]) ?? 0
        }
    }
}
