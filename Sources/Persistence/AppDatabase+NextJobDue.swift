public import Accounting
import GRDB

extension AppDatabase {
    /// When `claimJobs` will next find a job of `platforms` to claim, if nothing else happens meanwhile: the first
    /// of the pending jobs' next attempts (no earlier than their integration's next reachability check) and the
    /// running jobs' lease expiries, among the jobs it could claim at all (of a connected integration, with no
    /// earlier job of the same record still open). `nil` when there is none: what is open waits for something else
    /// (a mapping saved, an integration connected, a conflict resolved).
    ///
    /// Tests that drive the engine on a manual clock move it there instead of waiting.
    public func nextJobDue(platforms: Set<Platform>) async throws -> Timestamp? {
        guard !platforms.isEmpty else { return nil }
        let micros = try await writer.read { db in
            try Int64.fetchOne(
                db,
                sql: """
                    SELECT MIN(MAX(
                        CASE j.status WHEN 'pending' THEN j.next_attempt_at ELSE j.lease_expires_at END,
                        COALESCE(i.next_check_at, 0)))
                    FROM jobs j JOIN integration_configs i ON i.id = j.integration_id
                    WHERE j.status IN ('pending', 'running') AND i.status = 'connected'
                        AND i.platform IN (\(databaseQuestionMarks(count: platforms.count)))
                        AND NOT EXISTS (
                            SELECT 1 FROM jobs e
                            WHERE e.integration_id = j.integration_id AND e.record_id = j.record_id AND e.seq < j.seq
                                AND e.status IN ('pending', 'running', 'needs_mapping', 'held', 'awaiting_platform'))
                    """,
                arguments: StatementArguments(platforms.map(\.rawValue).sorted()))
        }
        return micros.map { Timestamp(microsecondsSinceEpoch: $0) }
    }
}
