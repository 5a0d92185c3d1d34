public import Accounting
import GRDB

/// One integration's health, as the dashboard's overview shows it.
///
/// The figures "in the last 24 hours" count the same window as the chart: from the start of the hour 23 hours
/// before `now` up to `now` (so they equal the sums of its buckets). The rate-limit budget is not here: the store
/// does not know it (the sync engine's in-memory rate limiters do).
public struct IntegrationOverview: Sendable, Hashable {
    /// Records synced and errors in one hour.
    public struct Hour: Sendable, Hashable {
        /// The start of the hour (UTC).
        public var start: Timestamp
        /// Jobs that pushed a record to the books and finished (`succeeded`) in this hour.
        public var synced: Int
        /// Jobs that ended `failed` or `dead` in this hour (and are still so).
        public var errors: Int

        public init(start: Timestamp, synced: Int, errors: Int) {
            self.start = start
            self.synced = synced
            self.errors = errors
        }
    }

    public var integrationID: String
    public var tenantID: String
    public var platform: Platform
    /// The integration's name, as a person gave it.
    public var name: String
    public var status: Integration.Status
    /// Why it is `disconnected`, in plain words; `nil` otherwise.
    public var statusReason: String?
    /// Set while its platform cannot be reached.
    public var unreachable: Unreachability?
    /// Whether it syncs at all (`sync.enabled`).
    public var syncEnabled: Bool
    public var intervalSeconds: Int
    /// The later of its last completed sync operation (full, or an incremental one that read the feed) and its
    /// newest succeeded job's finish; `nil` when nothing ever reached the books.
    public var lastSuccessfulSync: Timestamp?
    /// When the scheduler requests its next incremental sync: its interval after the last one was requested (at or
    /// before `now` when one is due at the scheduler's next tick). `nil` when none will be: not connected, sync
    /// switched off, or its platform has no change feed (`changeFeedPlatforms`).
    public var nextScheduledSync: Timestamp?
    /// The newest sync operation still pending or running, with its progress.
    public var openSync: SyncOperation?
    /// Jobs still to be pushed: pending (new or waiting to retry), running, or awaiting the platform's reply.
    public var backlog: Int
    /// Jobs parked until a billing code is mapped (`needs_mapping`).
    public var needsMapping: Int
    /// Jobs waiting for a person to resolve their record's conflict (`held`).
    public var held: Int
    /// Jobs the platform refused (`failed`) in the last 24 hours.
    public var failures24h: Int
    /// Jobs dead-lettered (every attempt failed) in the last 24 hours.
    public var deadLetters24h: Int
    public var openConflicts: Int
    /// The last 24 hours, oldest first: 24 buckets, the last one the hour in progress.
    public var hours: [Hour]
}

extension AppDatabase {
    /// Every integration `tenantID` can see (every one when `nil`), by tenant, platform and name, with its health.
    ///
    /// A fixed number of index searches per integration, whatever the tables hold (`0022 dashboard indexes`).
    /// - Parameter changeFeedPlatforms: the platforms whose connectors have a change feed, which the scheduler polls;
    ///   `nil` counts every platform as one.
    public func integrationOverview(
        scope tenantID: String?, now: Timestamp, changeFeedPlatforms: Set<Platform>? = nil
    ) async throws -> [IntegrationOverview] {
        let window = Self.dayWindow(endingAt: now)
        let keys = window.map(Self.hourKey)
        return try await writer.read { db in
            var filter = SQLFilter()
            filter.add("i.tenant_id = ?", tenantID)
            let rows = try Row.fetchAll(db, sql: Self.overviewSQL(filter), arguments: filter.arguments)
            let open = try Self.openJobCounts(filter, db: db)
            let finished = try Self.finishedJobCounts(filter, since: window[0], db: db)
            return try rows.map { row in
                let integration = try Integration(row: row)
                let id = integration.id
                let counts = open[id, default: [:]]
                let hourly = finished[id, default: [:]]
                let lastSuccess = [
                    integration.lastSyncAt, (row["last_job_success"] as String?).flatMap(Timestamp.init(rfc3339:)),
                ].compactMap { $0 }.max()
                let scheduled =
                    integration.status == .connected && integration.sync.enabled
                    && changeFeedPlatforms.map { $0.contains(integration.platform) } ?? true
                let next =
                    (row["last_incremental"] as String?).flatMap(Timestamp.init(rfc3339:))
                    .map { $0.adding(.seconds(max(1, integration.sync.intervalSeconds))) } ?? now
                // Only the window's hours: a job stamped after `now` (another node's clock) is in none.
                let inWindow = keys.map { hourly[$0] ?? HourCounts() }
                let hours = zip(window, inWindow).map { start, counts in
                    IntegrationOverview.Hour(start: start, synced: counts.synced, errors: counts.errors)
                }
                return IntegrationOverview(
                    integrationID: id,
                    tenantID: integration.tenantID,
                    platform: integration.platform,
                    name: integration.name,
                    status: integration.status,
                    statusReason: integration.statusReason,
                    unreachable: integration.unreachable,
                    syncEnabled: integration.sync.enabled,
                    intervalSeconds: integration.sync.intervalSeconds,
                    lastSuccessfulSync: lastSuccess,
                    nextScheduledSync: scheduled ? next : nil,
                    openSync: try (row["open_sync"] as String?).flatMap {
                        try Self.fetchSyncOperation(id: $0, tenantID: nil, db: db)
                    },
                    backlog: counts[.pending, default: 0] + counts[.running, default: 0]
                        + counts[.awaitingPlatform, default: 0],
                    needsMapping: counts[.needsMapping, default: 0],
                    held: counts[.held, default: 0],
                    failures24h: inWindow.reduce(0) { $0 + $1.failed },
                    deadLetters24h: inWindow.reduce(0) { $0 + $1.dead },
                    openConflicts: row["open_conflicts"],
                    hours: hours)
            }
        }
    }

    /// The starts of the 24 hours ending with the one `now` is in, oldest first.
    static func dayWindow(endingAt now: Timestamp) -> [Timestamp] {
        let hour: Int64 = 3_600_000_000
        let current = now.microsecondsSinceEpoch - ((now.microsecondsSinceEpoch % hour) + hour) % hour
        return (0..<24).map { Timestamp(microsecondsSinceEpoch: current - Int64(23 - $0) * hour) }
    }

    /// `YYYY-MM-DDTHH`: the hour as the prefix of the RFC 3339 instants the jobs keep.
    private static func hourKey(_ start: Timestamp) -> Substring {
        start.rfc3339.prefix(13)
    }

    /// Jobs not yet finished, by integration and status.
    private static func openJobCounts(_ filter: SQLFilter, db: Database) throws -> [String: [Job.Status: Int]] {
        var counts: [String: [Job.Status: Int]] = [:]
        for row in try Row.fetchAll(db, sql: openJobCountsSQL(filter), arguments: filter.arguments) {
            guard let status = Job.Status(rawValue: row["status"]) else { continue }
            counts[row["integration_id"], default: [:]][status] = row["n"]
        }
        return counts
    }

    private struct HourCounts {
        var synced = 0
        var failed = 0
        var dead = 0
        var errors: Int { failed + dead }
    }

    /// Jobs that finished since `start`, by integration and hour.
    private static func finishedJobCounts(_ filter: SQLFilter, since start: Timestamp, db: Database) throws
        -> [String: [Substring: HourCounts]]
    {
        var counts: [String: [Substring: HourCounts]] = [:]
        for row in try Row.fetchAll(
            db, sql: finishedJobCountsSQL(filter), arguments: filter.arguments + [start.rfc3339])
        {
            let hour = Substring(row["hour"] as String)
            let n: Int = row["n"]
            switch row["status"] as String {
            case "succeeded": counts[row["integration_id"], default: [:]][hour, default: .init()].synced += n
            case "failed": counts[row["integration_id"], default: [:]][hour, default: .init()].failed += n
            default: counts[row["integration_id"], default: [:]][hour, default: .init()].dead += n
            }
        }
        return counts
    }

    /// Each integration in view with its newest succeeded job, newest incremental sync, open sync and open conflicts.
    static func overviewSQL(_ filter: SQLFilter) -> String {
        """
        SELECT i.*,
            (SELECT MAX(j.updated_at) FROM jobs j
                WHERE j.integration_id = i.id AND j.status = 'succeeded') AS last_job_success,
            (SELECT MAX(o.created_at) FROM sync_operations o
                WHERE o.integration_id = i.id AND o.mode = 'incremental') AS last_incremental,
            (SELECT o.id FROM sync_operations o
                WHERE o.integration_id = i.id AND o.status IN ('pending', 'running')
                ORDER BY o.created_at DESC LIMIT 1) AS open_sync,
            (SELECT COUNT(*) FROM conflicts c INDEXED BY conflicts_open
                WHERE c.integration_id = i.id AND c.status = 'open') AS open_conflicts
        FROM integration_configs i \(filter.whereClause)
        ORDER BY i.tenant_id, i.platform, i.name, i.id
        """
    }

    /// Jobs not yet finished, by integration and status: one range of `jobs_integration_status` per pair (`CROSS
    /// JOIN` keeps the integrations outside, so the planner never walks the whole index instead).
    static func openJobCountsSQL(_ filter: SQLFilter) -> String {
        """
        SELECT j.integration_id, j.status, COUNT(*) AS n
        FROM integration_configs i CROSS JOIN jobs j ON j.integration_id = i.id
        \(filter.whereClause.isEmpty ? "WHERE" : filter.whereClause + " AND")
            j.status IN ('pending', 'running', 'awaiting_platform', 'needs_mapping', 'held')
        GROUP BY j.integration_id, j.status
        """
    }

    /// Jobs finished since `?`, by integration, status and hour: one range of `jobs_integration_status` per
    /// integration and status.
    static func finishedJobCountsSQL(_ filter: SQLFilter) -> String {
        """
        SELECT j.integration_id, j.status, substr(j.updated_at, 1, 13) AS hour, COUNT(*) AS n
        FROM integration_configs i CROSS JOIN jobs j ON j.integration_id = i.id
        \(filter.whereClause.isEmpty ? "WHERE" : filter.whereClause + " AND")
            j.status IN ('succeeded', 'failed', 'dead') AND j.updated_at >= ?
        GROUP BY j.integration_id, j.status, hour
        """
    }
}
