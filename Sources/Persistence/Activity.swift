public import Accounting
import GRDB

/// Which jobs and sync operations the dashboard's activity page lists; `nil` (or empty) filters nothing.
public struct ActivityFilter: Sendable, Hashable {
    /// The caller's tenant scope: `nil` for every tenant.
    public var tenantID: String?
    public var integrationID: String?
    public var platform: Platform?
    public var recordType: RecordType?
    /// Jobs in any of these statuses; empty for every status. Counts by status ignore it.
    public var statuses: Set<Job.Status>

    public init(
        tenantID: String? = nil, integrationID: String? = nil, platform: Platform? = nil,
        recordType: RecordType? = nil, statuses: Set<Job.Status> = []
    ) {
        self.tenantID = tenantID
        self.integrationID = integrationID
        self.platform = platform
        self.recordType = recordType
        self.statuses = statuses
    }
}

/// The activity page: the newest sync operations with their progress, a page of jobs newest first, and how many
/// jobs of the filter's scope are in each status.
public struct Activity: Sendable {
    public var operations: [SyncOperation]
    /// Each with its last error (`Job.lastError`: the platform's message, and the codes a parked job waits for).
    public var jobs: Page<Job>
    /// Jobs by status within the filter's integration, platform, record type and tenant (whatever `statuses` says);
    /// a status with no job is absent.
    public var counts: [Job.Status: Int]
}

extension AppDatabase {
    /// The activity page in one read (one snapshot): the `operations` newest sync operations, a page of jobs newest
    /// first, and the counts by status.
    public func activity(_ filter: ActivityFilter, jobs page: PageRequest, operations: Int = 10) async throws
        -> Activity
    {
        try await writer.read { db in
            let scope = try Scope(filter, db: db)
            return Activity(
                operations: try Self.recentSyncOperations(scope, after: nil, limit: operations, db: db),
                jobs: try Self.recentJobs(filter, scope: scope, page: page, db: db),
                counts: try Self.jobCounts(filter, scope: scope, db: db))
        }
    }

    /// Jobs newest first (the cursor is the last job's `seq`, going back), filtered by `filter`.
    public func recentJobs(_ filter: ActivityFilter, page: PageRequest) async throws -> Page<Job> {
        try await writer.read { db in
            try Self.recentJobs(filter, scope: try Scope(filter, db: db), page: page, db: db)
        }
    }

    /// Sync operations newest first, with their live progress (as `syncOperation(id:)`), of the filter's
    /// integration, platform and tenant.
    public func recentSyncOperations(_ filter: ActivityFilter, page: PageRequest) async throws -> Page<SyncOperation> {
        try await writer.read { db in
            let rows = try Self.recentSyncOperationRows(
                try Scope(filter, db: db), after: page.after, limit: page.limit + 1, db: db)
            return try Page(rows: rows, limit: page.limit, cursor: { $0["page_cursor"] }) { row in
                try Self.syncOperation(row: row, db: db)
            }
        }
    }

    /// The integrations a filter leaves in view: every one (`all`, no condition), or those listed.
    struct Scope {
        /// `nil` when the filter names no integration, platform or tenant.
        var integrationIDs: [String]?

        init(integrationIDs: [String]?) {
            self.integrationIDs = integrationIDs
        }

        init(_ filter: ActivityFilter, db: Database) throws {
            guard filter.integrationID != nil || filter.platform != nil || filter.tenantID != nil else { return }
            var sql = SQLFilter()
            sql.add("id = ?", filter.integrationID)
            sql.add("platform = ?", filter.platform?.rawValue)
            sql.add("tenant_id = ?", filter.tenantID)
            integrationIDs = try String.fetchAll(
                db, sql: "SELECT id FROM integration_configs \(sql.whereClause) ORDER BY id",
                arguments: sql.arguments)
        }

        var isEmpty: Bool { integrationIDs?.isEmpty ?? false }

        /// Adds `integration_id IN (…)` to `filter` when the scope is not everything.
        func restrict(_ filter: inout SQLFilter) {
            guard let ids = integrationIDs else { return }
            filter.add("integration_id IN (\(databaseQuestionMarks(count: ids.count)))")
            filter.append(StatementArguments(ids))
        }
    }

    private static func recentSyncOperationRows(_ scope: Scope, after: Int64?, limit: Int, db: Database) throws
        -> [Row]
    {
        guard !scope.isEmpty, limit > 0 else { return [] }
        var sql = SQLFilter()
        sql.add("rowid < ?", after)
        scope.restrict(&sql)
        return try Row.fetchAll(
            db,
            sql: "SELECT rowid AS page_cursor, * FROM sync_operations \(sql.whereClause) ORDER BY rowid DESC LIMIT ?",
            arguments: sql.arguments + [limit])
    }

    private static func recentSyncOperations(_ scope: Scope, after: Int64?, limit: Int, db: Database) throws
        -> [SyncOperation]
    {
        try recentSyncOperationRows(scope, after: after, limit: limit, db: db).map {
            try syncOperation(row: $0, db: db)
        }
    }

    private static func recentJobs(_ filter: ActivityFilter, scope: Scope, page: PageRequest, db: Database) throws
        -> Page<Job>
    {
        guard !scope.isEmpty else { return Page(items: [], nextCursor: nil) }
        let (sql, arguments) = recentJobsStatement(filter, scope: scope, after: page.after, limit: page.limit + 1)
        let rows = try Row.fetchAll(db, sql: sql, arguments: arguments)
        return Page(rows: rows, limit: page.limit, cursor: { $0["seq"] }, item: Job.init(row:))
    }

    /// Statuses few jobs are in at any time: a page of them is found through `jobs_status` or
    /// `jobs_integration_status` and sorted. Others (`succeeded`, `pending` during a full sync) are walked newest first
    /// per integration.
    static let fewJobsStatuses: Set<Job.Status> = [.running, .failed, .needsMapping, .dead, .held, .awaitingPlatform]

    /// The page's statement. Within integrations (a platform, a school, one integration) and statuses that many
    /// jobs are in, each integration's jobs are walked newest first along `jobs_integration`, each walk stopping at
    /// the page's length, and the walks are merged: never a sort of every job of those integrations.
    static func recentJobsStatement(_ filter: ActivityFilter, scope: Scope, after: Int64?, limit: Int) -> (
        String, StatementArguments
    ) {
        var sql = SQLFilter()
        sql.add("seq < ?", after)
        sql.add("record_type = ?", filter.recordType?.rawValue)
        // The tenant's own column too: the planner can walk `jobs_tenant` newest first.
        sql.add("tenant_id = ?", filter.tenantID)
        if !filter.statuses.isEmpty {
            sql.add("status IN (\(filter.statuses.map { "'\($0.rawValue)'" }.sorted().joined(separator: ", ")))")
        }
        if let ids = scope.integrationIDs, !ids.isEmpty,
            filter.statuses.isEmpty || !filter.statuses.isSubset(of: fewJobsStatuses)
        {
            var branch = sql
            branch.add("integration_id = ?")
            let walk = "SELECT * FROM jobs INDEXED BY jobs_integration \(branch.whereClause) ORDER BY seq DESC LIMIT ?"
            var arguments = StatementArguments()
            for id in ids { arguments += sql.arguments + [id, limit] }
            let walks = Array(repeating: "SELECT * FROM (\(walk))", count: ids.count).joined(separator: " UNION ALL ")
            return ("SELECT * FROM (\(walks)) ORDER BY seq DESC LIMIT ?", arguments + [limit])
        }
        scope.restrict(&sql)
        return ("SELECT * FROM jobs \(sql.whereClause) ORDER BY seq DESC LIMIT ?", sql.arguments + [limit])
    }

    /// Jobs by status within the scope, read from `jobs_integration_status` alone, in its order.
    private static func jobCounts(_ filter: ActivityFilter, scope: Scope, db: Database) throws -> [Job.Status: Int] {
        guard !scope.isEmpty else { return [:] }
        let (sql, arguments) = jobCountsStatement(filter, scope: scope)
        var counts: [Job.Status: Int] = [:]
        for row in try Row.fetchAll(db, sql: sql, arguments: arguments) {
            if let status = Job.Status(rawValue: row["status"]) { counts[status, default: 0] += row["n"] as Int }
        }
        return counts
    }

    static func jobCountsStatement(_ filter: ActivityFilter, scope: Scope) -> (String, StatementArguments) {
        var sql = SQLFilter()
        sql.add("record_type = ?", filter.recordType?.rawValue)
        scope.restrict(&sql)
        return (
            // By integration too: the index's own order, so its entries are counted as they come, never sorted.
            """
            SELECT status, COUNT(*) AS n FROM jobs INDEXED BY jobs_integration_status \(sql.whereClause)
            GROUP BY integration_id, status
            """,
            sql.arguments
        )
    }
}
