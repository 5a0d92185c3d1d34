import Accounting
import GRDB
import Testing

@testable import Persistence

/// A hand-made data set: two schools, three integrations, jobs in every status at known instants.
private struct Dashboard {
    /// Half past noon: the current hour's bucket holds what happened since noon.
    static let now = Timestamp(rfc3339: "2026-06-15T12:30:00.000000Z")!

    let database: AppDatabase
    /// School A's QuickBooks Online integration, connected.
    let books: Integration
    /// School A's Xero integration, disconnected.
    let xero: Integration
    /// School B's QuickBooks Online integration, connected.
    let other: Integration
    private var records = 0

    init() async throws {
        database = try AppDatabase.inMemory()
        let created = Self.now.adding(.seconds(-30 * 86_400))
        books = try await database.createIntegration(
            tenantID: "school_a", platform: .quickBooksOnline, name: "A's books", actor: "test", at: created)
        xero = try await database.createIntegration(
            tenantID: "school_a", platform: .xero, name: "A's Xero", actor: "test", at: created)
        other = try await database.createIntegration(
            tenantID: "school_b", platform: .quickBooksOnline, name: "B's books", actor: "test", at: created)
        for integration in [books, xero, other] {
            try await database.setIntegrationStatus(id: integration.id, to: .connected, actor: "test", at: created)
        }
        try await database.setIntegrationStatus(
            id: xero.id, to: .disconnected, actor: "test", reason: "Xero refused the credentials", at: created)
    }

    /// A job of `integration` in `status`, last changed `ago` before `now`.
    @discardableResult
    mutating func job(
        _ integration: Integration, _ status: Job.Status, ago: Duration = .seconds(60),
        recordType: RecordType = .invoice, attempts: Int = 0, error: JobError? = nil, operation: String? = nil
    ) async throws -> String {
        records += 1
        let recordID = "rec_\(records)"
        let jobID = "job_\(records)"
        let changed = Dashboard.now.adding(.zero - ago)
        try await database.writer.write { [records] db in
            try db.execute(
                sql: """
                    INSERT INTO records (id, tenant_id, record_type, local_id, version, action, source_updated_at,
                        created_at, updated_at)
                    VALUES (?, ?, ?, ?, 1, 'upsert', 0, ?, ?)
                    """,
                arguments: [
                    recordID, integration.tenantID, recordType.rawValue, "DOC-\(records)", changed.rfc3339,
                    changed.rfc3339,
                ])
            try db.execute(
                sql: """
                    INSERT INTO jobs (id, integration_id, tenant_id, kind, record_id, record_type, local_id, version,
                        status, attempts, max_attempts, next_attempt_at, last_error_code, last_error_message,
                        created_at, updated_at, operation_id)
                    VALUES (?, ?, ?, 'push', ?, ?, ?, 1, ?, ?, 3, 0, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    jobID, integration.id, integration.tenantID, recordID, recordType.rawValue, "DOC-\(records)",
                    status.rawValue, attempts, error?.code, error?.message, changed.rfc3339, changed.rfc3339,
                    operation,
                ])
        }
        return jobID
    }

    func execute(_ sql: String, _ arguments: StatementArguments = []) async throws {
        try await database.writer.write { db in try db.execute(sql: sql, arguments: arguments) }
    }

    func conflict(_ integration: Integration, recordID: String, status: String) async throws {
        try await execute(
            """
            INSERT INTO conflicts (id, tenant_id, integration_id, record_id, record_type, local_id, remote_id, policy,
                status, local_version, local_updated_at, local_data, remote_version, remote_updated_at, remote_data,
                detected_at)
            VALUES (?, ?, ?, ?, 'invoice', 'DOC', '9', 'manual', ?, 1, 0, '{}', '1', 0, '{}', ?)
            """,
            [Identifiers.make("cfl"), integration.tenantID, integration.id, recordID, status, Dashboard.now.rfc3339])
    }

    func syncOperation(_ integration: Integration, id: String, mode: String, status: String, ago: Duration)
        async throws
    {
        try await execute(
            """
            INSERT INTO sync_operations (id, integration_id, tenant_id, mode, status, records_total, created_at)
            VALUES (?, ?, ?, ?, ?, 10, ?)
            """,
            [id, integration.id, integration.tenantID, mode, status, Dashboard.now.adding(.zero - ago).rfc3339])
    }
}

@Suite struct IntegrationOverviewTests {
    @Test func countsEachFigureOfAnIntegrationExactly() async throws {
        var data = try await Dashboard()
        let books = data.books
        for _ in 0..<2 { try await data.job(books, .pending) }
        try await data.job(books, .pending, attempts: 1, error: JobError(code: "rate_limited", message: "429"))
        try await data.job(books, .running)
        try await data.job(books, .awaitingPlatform)
        for _ in 0..<2 { try await data.job(books, .needsMapping) }
        let held = try await data.job(books, .held)
        try await data.job(books, .superseded)
        for _ in 0..<4 { try await data.job(books, .succeeded, ago: .seconds(600)) }
        for _ in 0..<2 { try await data.job(books, .succeeded, ago: .seconds(5 * 3600)) }
        try await data.job(books, .failed, ago: .seconds(3600), error: JobError(code: "validation", message: "No"))
        for _ in 0..<2 { try await data.job(books, .dead, ago: .seconds(2 * 3600)) }
        // School B's jobs are not A's.
        try await data.job(data.other, .failed, ago: .seconds(60))
        try await data.job(data.other, .pending)
        for status in ["open", "open", "resolved"] {
            try await data.conflict(books, recordID: "rec_\(held.dropFirst(4))", status: status)
        }
        try await data.syncOperation(
            books, id: "syn_inc", mode: "incremental", status: "completed", ago: .seconds(1200))
        try await data.syncOperation(books, id: "syn_full", mode: "full", status: "running", ago: .seconds(300))
        try await data.execute(
            "UPDATE integration_configs SET last_sync_at = ? WHERE id = ?",
            [Dashboard.now.adding(.seconds(-3 * 3600)).rfc3339, books.id])

        let overview = try await data.database.integrationOverview(scope: nil, now: Dashboard.now)
        let figures = try #require(overview.first { $0.integrationID == books.id })
        #expect(figures.status == .connected)
        #expect(figures.backlog == 5)
        #expect(figures.needsMapping == 2)
        #expect(figures.held == 1)
        #expect(figures.failures24h == 1)
        #expect(figures.deadLetters24h == 2)
        #expect(figures.openConflicts == 2)
        // The newest succeeded job (10 minutes ago) is later than the last completed sync (3 hours ago).
        #expect(figures.lastSuccessfulSync == Dashboard.now.adding(.seconds(-600)))
        // Hourly, after the incremental sync requested 20 minutes ago.
        #expect(figures.nextScheduledSync == Dashboard.now.adding(.seconds(40 * 60)))
        #expect(figures.openSync?.id == "syn_full")
        #expect(figures.openSync?.recordsTotal == 10)
        let other = try #require(overview.first { $0.integrationID == data.other.id })
        #expect(other.backlog == 1 && other.failures24h == 1 && other.openConflicts == 0)
    }

    @Test func theChartHas24HourlyBucketsThatSumToWhatHappened() async throws {
        var data = try await Dashboard()
        let books = data.books
        for _ in 0..<4 { try await data.job(books, .succeeded, ago: .seconds(600)) }
        for _ in 0..<2 { try await data.job(books, .succeeded, ago: .seconds(5 * 3600)) }
        try await data.job(books, .failed, ago: .seconds(3600))
        for _ in 0..<2 { try await data.job(books, .dead, ago: .seconds(2 * 3600)) }
        try await data.job(books, .succeeded, ago: .seconds(23 * 3600 + 15 * 60))

        let figures = try #require(
            try await data.database.integrationOverview(scope: nil, now: Dashboard.now).first {
                $0.integrationID == books.id
            })
        #expect(figures.hours.count == 24)
        #expect(figures.hours.first?.start == Timestamp(rfc3339: "2026-06-14T13:00:00.000000Z"))
        #expect(figures.hours.last?.start == Timestamp(rfc3339: "2026-06-15T12:00:00.000000Z"))
        #expect(figures.hours.map(\.synced) == [1] + Array(repeating: 0, count: 17) + [2, 0, 0, 0, 0, 4])
        #expect(figures.hours.map(\.errors) == Array(repeating: 0, count: 21) + [2, 1, 0])
        #expect(figures.hours.reduce(0) { $0 + $1.errors } == figures.failures24h + figures.deadLetters24h)
    }

    @Test func aFailure25HoursAgoIsNotCounted() async throws {
        var data = try await Dashboard()
        try await data.job(data.books, .failed, ago: .seconds(25 * 3600))
        try await data.job(data.books, .dead, ago: .seconds(25 * 3600))
        try await data.job(data.books, .succeeded, ago: .seconds(25 * 3600))
        try await data.job(data.books, .failed, ago: .seconds(22 * 3600))

        let figures = try #require(
            try await data.database.integrationOverview(scope: nil, now: Dashboard.now).first {
                $0.integrationID == data.books.id
            })
        #expect(figures.failures24h == 1)
        #expect(figures.deadLetters24h == 0)
        #expect(figures.hours.reduce(0) { $0 + $1.synced } == 0)
        #expect(figures.hours.reduce(0) { $0 + $1.errors } == 1)
        // Still the last success, though outside the chart.
        #expect(figures.lastSuccessfulSync == Dashboard.now.adding(.seconds(-25 * 3600)))
    }

    @Test func aSchoolSeesOnlyItsOwnIntegrationsByPlatform() async throws {
        var data = try await Dashboard()
        try await data.job(data.other, .dead, ago: .seconds(60))

        let seen = try await data.database.integrationOverview(scope: "school_a", now: Dashboard.now)
        #expect(seen.map(\.integrationID) == [data.books.id, data.xero.id])
        #expect(seen.allSatisfy { $0.deadLetters24h == 0 })
        let every = try await data.database.integrationOverview(scope: nil, now: Dashboard.now)
        #expect(every.map(\.integrationID) == [data.books.id, data.xero.id, data.other.id])
    }

    @Test func onlyAConnectedIntegrationWithAChangeFeedHasANextSync() async throws {
        let data = try await Dashboard()
        try await data.execute(
            "UPDATE integration_configs SET sync = '{\"enabled\":false}' WHERE id = ?", [data.other.id])

        let overview = try await data.database.integrationOverview(
            scope: nil, now: Dashboard.now, changeFeedPlatforms: [.quickBooksOnline, .xero])
        let next = Dictionary(uniqueKeysWithValues: overview.map { ($0.integrationID, $0.nextScheduledSync) })
        // Never synced: due now.
        #expect(next[data.books.id] == .some(Dashboard.now))
        #expect(next[data.xero.id] == .some(nil), "disconnected")
        #expect(next[data.other.id] == .some(nil), "sync switched off")
        let withoutFeed = try await data.database.integrationOverview(
            scope: "school_a", now: Dashboard.now, changeFeedPlatforms: [.xero])
        #expect(withoutFeed.first?.nextScheduledSync == nil)
        #expect(overview.first { $0.integrationID == data.xero.id }?.statusReason == "Xero refused the credentials")
    }
}

@Suite struct ActivityTests {
    @Test func filtersJobsByStatusPlatformRecordTypeAndIntegration() async throws {
        var data = try await Dashboard()
        let failed = try await data.job(
            data.books, .failed, recordType: .payment,
            error: JobError(code: "validation", message: "The customer is inactive"))
        let dead = try await data.job(data.books, .dead, recordType: .invoice)
        let parked = try await data.job(data.xero, .needsMapping, recordType: .invoice)
        let succeeded = try await data.job(data.books, .succeeded, recordType: .invoice)
        let elsewhere = try await data.job(data.other, .dead, recordType: .invoice)

        func ids(_ filter: ActivityFilter) async throws -> [String] {
            try await data.database.activity(filter, jobs: PageRequest()).jobs.items.map(\.id)
        }
        #expect(try await ids(ActivityFilter()) == [elsewhere, succeeded, parked, dead, failed])
        #expect(try await ids(ActivityFilter(statuses: [.failed, .dead])) == [elsewhere, dead, failed])
        #expect(try await ids(ActivityFilter(platform: .xero)) == [parked])
        #expect(try await ids(ActivityFilter(recordType: .payment)) == [failed])
        #expect(try await ids(ActivityFilter(integrationID: data.books.id, statuses: [.dead])) == [dead])
        #expect(try await ids(ActivityFilter(tenantID: "school_b", integrationID: data.books.id)) == [])

        let activity = try await data.database.activity(ActivityFilter(recordType: .payment), jobs: PageRequest())
        #expect(activity.jobs.items.first?.lastError?.message == "The customer is inactive")
    }

    @Test func countsByStatusIgnoreTheStatusFilterAndKeepTheScope() async throws {
        var data = try await Dashboard()
        for _ in 0..<3 { try await data.job(data.books, .succeeded) }
        try await data.job(data.books, .dead, recordType: .payment)
        try await data.job(data.xero, .pending)
        try await data.job(data.other, .dead)

        let school = try await data.database.activity(
            ActivityFilter(tenantID: "school_a", statuses: [.dead]), jobs: PageRequest())
        #expect(school.counts == [.succeeded: 3, .dead: 1, .pending: 1])
        let payments = try await data.database.activity(ActivityFilter(recordType: .payment), jobs: PageRequest())
        #expect(payments.counts == [.dead: 1])
        let xero = try await data.database.activity(ActivityFilter(platform: .xero), jobs: PageRequest())
        #expect(xero.counts == [.pending: 1])
    }

    @Test func pagesWalkEveryJobNewestFirstOnce() async throws {
        var data = try await Dashboard()
        var created: [String] = []
        for index in 0..<7 {
            created.append(try await data.job(index % 2 == 0 ? data.books : data.xero, .succeeded))
        }
        var seen: [String] = []
        var cursor: String?
        repeat {
            let page = try await data.database.recentJobs(
                ActivityFilter(tenantID: "school_a"), page: PageRequest(limit: 3, cursor: cursor))
            seen += page.items.map(\.id)
            cursor = page.nextCursor
        } while cursor != nil
        #expect(seen == created.reversed())
    }

    @Test func listsSyncOperationsNewestFirstWithTheirProgress() async throws {
        var data = try await Dashboard()
        try await data.syncOperation(data.books, id: "syn_1", mode: "full", status: "completed", ago: .seconds(7200))
        try await data.syncOperation(data.other, id: "syn_2", mode: "full", status: "running", ago: .seconds(600))
        try await data.syncOperation(data.books, id: "syn_3", mode: "full", status: "running", ago: .seconds(60))
        try await data.job(data.books, .succeeded, operation: "syn_3")
        try await data.job(data.books, .failed, operation: "syn_3")
        try await data.job(data.books, .pending, operation: "syn_3")

        let activity = try await data.database.activity(ActivityFilter(), jobs: PageRequest())
        #expect(activity.operations.map(\.id) == ["syn_3", "syn_2", "syn_1"])
        let running = try #require(activity.operations.first)
        #expect(running.recordsTotal == 10)
        #expect(running.recordsProcessed == 2)
        #expect(running.recordsFailed == 1)
        #expect(running.recordsInFlight == 1)
        let school = try await data.database.recentSyncOperations(
            ActivityFilter(tenantID: "school_a"), page: PageRequest(limit: 1))
        #expect(school.items.map(\.id) == ["syn_3"])
        let next = try await data.database.recentSyncOperations(
            ActivityFilter(tenantID: "school_a"), page: PageRequest(limit: 1, cursor: school.nextCursor))
        #expect(next.items.map(\.id) == ["syn_1"])
        #expect(next.nextCursor == nil)
    }
}

extension QueryPlanTests {
    private func plan(_ sql: String, _ arguments: StatementArguments = []) throws -> [String] {
        let queue = try DatabaseQueue()
        try AppDatabase.migrator(auditKey: .random()).migrate(queue)
        return try queue.read { db in
            try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + sql, arguments: arguments).map { $0["detail"] as String }
        }
    }

    /// The overview reads each integration's jobs, syncs and conflicts through index searches, whatever the tables
    /// hold: no scan of the jobs, sync operations or conflicts.
    @Test func theOverviewSearchesIndexesPerIntegration() async throws {
        var scoped = SQLFilter()
        scoped.add("i.tenant_id = ?", "school")
        for filter in [SQLFilter(), scoped] {
            let overview = try plan(AppDatabase.overviewSQL(filter), filter.arguments)
            #expect(
                overview.contains {
                    $0.contains("SEARCH j USING COVERING INDEX jobs_integration_status (integration_id=? AND status=?)")
                }, "\(overview)")
            #expect(
                overview.contains {
                    $0.contains("SEARCH o USING COVERING INDEX sync_operations_mode (integration_id=? AND mode=?)")
                }, "\(overview)")
            #expect(overview.contains { $0.contains("SEARCH c USING INDEX conflicts_open") }, "\(overview)")
            let open = try plan(AppDatabase.openJobCountsSQL(filter), filter.arguments)
            #expect(
                open.contains {
                    $0.hasPrefix(
                        "SEARCH j USING COVERING INDEX jobs_integration_status (integration_id=? AND status=?)")
                }, "\(open)")
            let finished = try plan(AppDatabase.finishedJobCountsSQL(filter), filter.arguments + ["2026"])
            #expect(
                finished.contains {
                    $0.hasPrefix(
                        "SEARCH j USING COVERING INDEX jobs_integration_status "
                            + "(integration_id=? AND status=? AND updated_at>?)")
                }, "\(finished)")
            for steps in [overview, open, finished] {
                #expect(!steps.contains { $0.hasPrefix("SCAN j") || $0.hasPrefix("SCAN o") || $0.hasPrefix("SCAN c") })
            }
        }
    }

    /// A page of jobs newest first follows an index in `seq` order (or the table's own, for no filter) and stops at
    /// the page's end: never a sort of every matching job. Within some integrations (a platform's, a school's), each
    /// one's jobs are walked along `jobs_integration` and the walks merged (only a page's rows from each are sorted).
    @Test func theActivityPageWalksJobsNewestFirstWithoutSorting() async throws {
        let some = AppDatabase.Scope(integrationIDs: ["int_1", "int_2"])
        let every = AppDatabase.Scope(integrationIDs: nil)
        let cases: [(ActivityFilter, AppDatabase.Scope, String)] = [
            (ActivityFilter(), every, "SEARCH jobs USING INTEGER PRIMARY KEY (rowid<?)"),
            (ActivityFilter(recordType: .invoice), every, "SEARCH jobs USING INTEGER PRIMARY KEY (rowid<?)"),
            (ActivityFilter(statuses: [.dead]), every, "SEARCH jobs USING INDEX jobs_status"),
            (ActivityFilter(statuses: [.needsMapping]), some, "SEARCH jobs USING INDEX jobs_status"),
            (ActivityFilter(tenantID: "school"), some, "SEARCH jobs USING INDEX jobs_integration (integration_id=?"),
            (ActivityFilter(platform: .xero, recordType: .refund), some, "SEARCH jobs USING INDEX jobs_integration ("),
            (
                ActivityFilter(integrationID: "int_1", statuses: [.succeeded]), some,
                "SEARCH jobs USING INDEX jobs_integration (integration_id=?"
            ),
        ]
        for (filter, scope, expected) in cases {
            let (sql, arguments) = AppDatabase.recentJobsStatement(filter, scope: scope, after: 10, limit: 51)
            let steps = try plan(sql, arguments)
            let reads = steps.filter { $0.hasPrefix("SEARCH jobs") || $0.hasPrefix("SCAN jobs") }
            #expect(!reads.isEmpty && reads.allSatisfy { $0.hasPrefix(expected) }, "\(filter): \(steps)")
            // A sort only of a walk's page, for the merge.
            for (index, step) in steps.enumerated() where step.contains("TEMP B-TREE") {
                #expect(index > 0 && steps[index - 1].hasPrefix("SCAN (subquery"), "\(filter): \(steps)")
            }
        }
    }

    /// The counts by status read `jobs_integration_status` alone (record type included), in its order: never the
    /// jobs' rows, never a sort.
    @Test func theActivityCountsReadOneIndexAlone() async throws {
        for scope in [AppDatabase.Scope(integrationIDs: ["int_1"]), AppDatabase.Scope(integrationIDs: nil)] {
            let (sql, arguments) = AppDatabase.jobCountsStatement(ActivityFilter(recordType: .refund), scope: scope)
            let steps = try plan(sql, arguments)
            #expect(steps.first?.contains("USING COVERING INDEX jobs_integration_status") == true, "\(steps)")
            #expect(!steps.contains { $0.contains("TEMP B-TREE") }, "\(steps)")
        }
    }
}
