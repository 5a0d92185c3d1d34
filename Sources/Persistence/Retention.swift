public import Accounting
import GRDB

/// What one retention run deleted, per kind.
public struct PruneSummary: Sendable, Hashable {
    public var jobs = 0
    public var syncOperations = 0
    public var ledgerChanges = 0
    public var conflicts = 0
    public var events = 0
    public var deliveries = 0
    public var auditEntries = 0
    /// Platforms' change notifications already fetched.
    public var notifications = 0
    /// Dashboard sessions that had ended (idle or too old).
    public var sessions = 0

    public init() {}

    public var total: Int {
        jobs + syncOperations + ledgerChanges + conflicts + events + deliveries + auditEntries + notifications
            + sessions
    }
}

extension AppDatabase {
    /// Deletes the sync history and audit entries older than `cutoff`: finished jobs (with their attempts),
    /// completed sync operations, handled ledger changes, resolved conflicts, events no longer being delivered
    /// (with their deliveries and attempts), inbound deliveries, and audit entries. Records and their versions are
    /// kept: they are the books' counterpart, not history. Nothing open is touched.
    ///
    /// The audit chain stays verifiable: the last pruned entry's hash is kept as the anchor the first remaining
    /// entry must link to (moved before the delete, which the audit log's trigger refuses beyond it, and signed in
    /// the checkpoint), and the newest entry is never pruned (the chain goes on from it). Works in batches of
    /// `batchSize` rows per transaction, so writers are never held up for long.
    ///
    /// What is only worth keeping briefly goes at `shortLivedCutoff` instead: platforms' change notifications once
    /// fetched (the change itself is kept as a ledger change), and deliveries that could not be routed to any
    /// integration (an unknown company, kept for a while in case it is connected and they are replayed).
    ///
    /// Given `now`, the dashboard's sessions that have ended by then go too (`pruneEndedSessions(now:)`).
    @discardableResult
    public func pruneHistory(
        before cutoff: Timestamp, shortLivedBefore shortLivedCutoff: Timestamp? = nil, now: Timestamp? = nil,
        batchSize: Int = 2000
    ) async throws -> PruneSummary {
        let before = cutoff.rfc3339
        var summary = PruneSummary()
        if let now { summary.sessions = try await pruneEndedSessions(now: now) }
        let shortLived = max(shortLivedCutoff ?? cutoff, cutoff).rfc3339
        summary.notifications = try await deleteInBatches(
            "ledger_notifications", key: "rowid", where: "status = 'fetched' AND created_at < ?", shortLived,
            batchSize)
        summary.deliveries = try await deleteInBatches(
            "deliveries", key: "rowid", where: "status = 'unroutable' AND received_at < ?", shortLived, batchSize)
        summary.jobs = try await deleteInBatches(
            "jobs", key: "seq",
            where: "status IN ('succeeded', 'superseded', 'failed', 'dead') AND updated_at < ?", before, batchSize)
        summary.syncOperations = try await deleteInBatches(
            "sync_operations", key: "rowid", where: "status = 'completed' AND finished_at < ?", before, batchSize)
        summary.ledgerChanges = try await deleteInBatches(
            "remote_changes", key: "seq", where: "status <> 'pending' AND processed_at < ?", before, batchSize)
        summary.conflicts = try await deleteInBatches(
            "conflicts", key: "seq", where: "status = 'resolved' AND resolved_at < ?", before, batchSize)
        _ = try await deleteInBatches(
            "event_deliveries", key: "seq",
            where: """
                status IN ('delivered', 'failed')
                    AND event_id IN (SELECT id FROM events WHERE created_at < ?)
                """, before, batchSize)
        summary.events = try await deleteInBatches(
            "events", key: "seq",
            where: "created_at < ? AND NOT EXISTS (SELECT 1 FROM event_deliveries d WHERE d.event_id = events.id)",
            before, batchSize)
        summary.deliveries += try await deleteInBatches(
            "deliveries", key: "rowid", where: "received_at < ?", before, batchSize)
        summary.auditEntries = try await pruneAudit(before: before, batchSize: batchSize)
        return summary
    }

    private func deleteInBatches(
        _ table: String, key: String, where condition: String, _ before: String, _ batchSize: Int
    ) async throws -> Int {
        var deleted = 0
        while true {
            let count = try await writer.write { db in
                try db.execute(
                    sql: """
                        DELETE FROM \(table) WHERE \(key) IN (
                            SELECT \(key) FROM \(table) WHERE \(condition) LIMIT ?)
                        """,
                    arguments: [before, batchSize])
                return db.changesCount
            }
            deleted += count
            if count < batchSize { return deleted }
        }
    }

    private func pruneAudit(before: String, batchSize: Int) async throws -> Int {
        var deleted = 0
        while true {
            let count = try await writer.write { db -> Int in
                // A prefix of the chain: the entries before the first one to keep (or the newest).
                guard
                    let oldest = try Int64.fetchOne(db, sql: "SELECT MIN(seq) FROM integration_audit_log"),
                    let newest = try Int64.fetchOne(db, sql: "SELECT MAX(seq) FROM integration_audit_log")
                else { return 0 }
                let firstKept =
                    try Int64.fetchOne(
                        db, sql: "SELECT MIN(seq) FROM integration_audit_log WHERE occurred_at >= ?",
                        arguments: [before]) ?? newest
                let upTo = min(min(firstKept, newest) - 1, oldest + Int64(batchSize) - 1)
                guard upTo >= oldest,
                    let last = try Row.fetchOne(
                        db,
                        sql: "SELECT seq, hash FROM integration_audit_log WHERE seq <= ? ORDER BY seq DESC LIMIT 1",
                        arguments: [upTo])
                else { return 0 }
                let lastSeq: Int64 = last["seq"]
                // The anchor moves first: the delete trigger lets go only of entries at or before it.
                var audit = try AuditLog(db, key: auditKey)
                try audit.moveAnchor(db, to: AuditLog.Position(seq: lastSeq, hash: last["hash"]), at: Timestamp.now())
                try db.execute(sql: "DELETE FROM integration_audit_log WHERE seq <= ?", arguments: [lastSeq])
                let count = db.changesCount
                return count
            }
            deleted += count
            if count < batchSize { return deleted }
        }
    }
}
