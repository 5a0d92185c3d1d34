import Accounting
import GRDB
import Testing

@testable import Persistence

@Suite struct MigrationTests {
    /// A database written before "0003 lean ingestion writes" keeps every record and version.
    @Test func leanWritesMigrationKeepsEveryVersion() async throws {
        let queue = try DatabaseQueue()
        try AppDatabase.migrator(auditKey: .random()).migrate(queue, upTo: "0002 ingestion")
        try await queue.write { db in
            try db.execute(
                sql: """
                    INSERT INTO records (id, tenant_id, record_type, local_id, version, action, source_updated_at, data,
                        created_at, updated_at)
                    VALUES ('rec_1', 'school', 'customer', 'c1', 2, 'upsert', 200, '{"name":"Asha R."}',
                        '2026-11-01T00:00:00Z', '2026-11-02T00:00:00Z');
                    INSERT INTO record_versions (record_id, version, action, source_updated_at, data, delivery_id, created_at)
                    VALUES ('rec_1', 1, 'upsert', 100, '{"name":"Asha"}', 'dlv_1', '2026-11-01T00:00:00Z'),
                        ('rec_1', 2, 'upsert', 200, '{"name":"Asha R."}', 'dlv_2', '2026-11-02T00:00:00Z');
                    """
            )
        }
        let database = try AppDatabase(queue)
        #expect(try await database.appliedMigrations().contains("0003 lean ingestion writes"))
        let versions = try await database.recordVersions(recordID: "rec_1", page: PageRequest())
        #expect(versions.items.map(\.version) == [1, 2])
        #expect(versions.items.map { $0.data["name"] } == ["Asha", "Asha R."])
        #expect(versions.items.map(\.deliveryID) == ["dlv_1", "dlv_2"])
        // The record no longer keeps a copy of its data: it is read from its current version.
        let record = try #require(try await database.record(id: "rec_1"))
        #expect(record.version == 2 && record.data["name"] == "Asha R.")
        let tables = try await queue.read { db in try String.fetchAll(db, sql: "SELECT name FROM sqlite_schema") }
        #expect(!tables.contains("commands"))
    }

    /// A database written before "0011 job deferrals" keeps its jobs' attempt history, and their attempts can then
    /// be recorded as deferred.
    @Test func jobDeferralsMigrationKeepsTheAttemptHistory() async throws {
        let queue = try DatabaseQueue()
        try AppDatabase.migrator(auditKey: .random()).migrate(queue, upTo: "0010 ledger notifications")
        try await queue.write { db in
            try db.execute(
                sql: """
                    INSERT INTO integration_configs (id, tenant_id, platform, name, created_at, updated_at)
                    VALUES ('int_1', 'school', 'quickbooks_online', 'Books', '2026-11-01T00:00:00Z',
                        '2026-11-01T00:00:00Z');
                    INSERT INTO records (id, tenant_id, record_type, local_id, version, action, source_updated_at,
                        created_at, updated_at)
                    VALUES ('rec_1', 'school', 'invoice', 'inv_1', 1, 'upsert', 100, '2026-11-01T00:00:00Z',
                        '2026-11-01T00:00:00Z');
                    INSERT INTO jobs (id, integration_id, tenant_id, kind, record_id, record_type, local_id, version,
                        status, attempts, max_attempts, next_attempt_at, created_at, updated_at)
                    VALUES ('job_1', 'int_1', 'school', 'push', 'rec_1', 'invoice', 'inv_1', 1, 'succeeded', 2, 3, 0,
                        '2026-11-01T00:00:00Z', '2026-11-01T00:01:00Z');
                    INSERT INTO job_attempts (job_id, attempt, worker, started_at, finished_at, outcome, error_code,
                        error_message)
                    VALUES ('job_1', 1, 'w1', '2026-11-01T00:00:00Z', '2026-11-01T00:00:01Z', 'retry', 'network',
                        'reset'),
                        ('job_1', 2, 'w1', '2026-11-01T00:00:30Z', '2026-11-01T00:00:31Z', 'succeeded', NULL, NULL);
                    """
            )
        }
        let database = try AppDatabase(queue)
        #expect(try await database.appliedMigrations().contains("0011 job deferrals"))
        let history = try await database.jobAttempts(jobID: "job_1")
        #expect(history.map(\.outcome) == ["retry", "succeeded"])
        #expect(history.first?.error == JobError(code: "network", message: "reset"))
        let job = try #require(try await database.job(id: "job_1"))
        #expect(job.attempts == 2 && job.deferrals == 0)
        try await queue.write { db in
            try db.execute(
                sql: """
                    INSERT INTO job_attempts (job_id, attempt, worker, started_at, finished_at, outcome)
                    VALUES ('job_1', 3, 'w1', '2026-11-01T00:01:00Z', '2026-11-01T00:01:01Z', 'deferred')
                    """)
        }
        #expect(try await database.jobAttempts(jobID: "job_1").map(\.outcome) == ["retry", "succeeded", "deferred"])
    }

    /// A database written before "0019 open mapping kinds" keeps every mapping, and then takes a kind of mapping
    /// only a newer platform uses (the old table refused it).
    @Test func openMappingKindsMigrationKeepsEveryMapping() async throws {
        let queue = try DatabaseQueue()
        try AppDatabase.migrator(auditKey: .random()).migrate(queue, upTo: "0017 jobs waiting for unsent records")
        try await queue.write { db in
            try db.execute(
                sql: """
                    INSERT INTO integration_configs (id, tenant_id, platform, name, created_at, updated_at)
                    VALUES ('int_1', 'school', 'quickbooks_online', 'Books', '2026-11-01T00:00:00Z',
                        '2026-11-01T00:00:00Z');
                    INSERT INTO field_mappings (integration_id, kind, local_code, remote_id, updated_at)
                    VALUES ('int_1', 'account', '4000-TUITION', '79', '2026-11-01T00:00:00Z'),
                        ('int_1', 'tax_code', 'GST18', '5', '2026-11-01T00:00:00Z'),
                        ('int_1', 'item', '*', '1', '2026-11-01T00:00:00Z'),
                        ('int_1', 'deposit_account', '1100-BANK', '35', '2026-11-01T00:00:00Z');
                    """
            )
        }
        let database = try AppDatabase(queue)
        #expect(try await database.appliedMigrations().contains("0019 open mapping kinds"))
        var mappings = try await database.mappings(integrationID: "int_1")
        #expect(
            mappings
                == CodeMappings(
                    accounts: ["4000-TUITION": "79"], taxCodes: ["GST18": "5"], items: ["*": "1"],
                    depositAccounts: ["1100-BANK": "35"]))
        let ledger = CodeMappings.Kind(rawValue: "ledger")
        mappings[ledger] = ["4000-TUITION": "Tuition Fees"]
        try await database.saveMappings(integrationID: "int_1", mappings, actor: "test")
        #expect(try await database.mappings(integrationID: "int_1") == mappings)
        #expect(try await database.mappings(integrationID: "int_1")[ledger] == ["4000-TUITION": "Tuition Fees"])
        // Deleting the integration still takes its mappings with it.
        let left = try await queue.write { db in
            try db.execute(sql: "DELETE FROM integration_configs WHERE id = 'int_1'")
            return try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM field_mappings") ?? -1
        }
        #expect(left == 0)
    }

    /// The codes billing uses are kept as versions are stored; the migration that starts keeping them lists those
    /// of the records already stored (current versions only), each once.
    @Test func billingCodesMigrationListsTheCodesOfRecordsAlreadyStored() async throws {
        let queue = try DatabaseQueue()
        try AppDatabase.migrator(auditKey: .random()).migrate(queue, upTo: "0025 school settings")
        try await queue.write { db in
            try db.execute(
                sql: """
                    INSERT INTO records (id, tenant_id, record_type, local_id, version, action, source_updated_at,
                        created_at, updated_at)
                    VALUES ('rec_1', 'school', 'invoice', 'inv_1', 2, 'upsert', 0, 'x', 'x'),
                        ('rec_2', 'school', 'payment', 'pay_1', 1, 'upsert', 0, 'x', 'x'),
                        ('rec_3', 'other', 'credit_note', 'cn_1', 1, 'upsert', 0, 'x', 'x');
                    INSERT INTO record_versions (record_id, version, action, source_updated_at, data, created_at)
                    VALUES ('rec_1', 1, 'upsert', 0, '{"lines":[{"revenue_account":"OLD","tax_code":"GST18"}]}', 'x'),
                        ('rec_1', 2, 'upsert', 0, '{"lines":[{"revenue_account":"4000-TUITION","tax_code":"GST18",
                            "course_id":"grade-6"},{"revenue_account":"4100-TRANSPORT","tax_code":"GST18",
                            "quantity":3}]}', 'x'),
                        ('rec_2', 1, 'upsert', 0, '{"deposit_account":"1100-BANK","amount":"10.00"}', 'x'),
                        ('rec_3', 1, 'upsert', 0, '{"lines":[{"revenue_account":"4000-TUITION","tax_code":5}]}', 'x');
                    """)
        }
        let database = try AppDatabase(queue)
        let codes = try await database.billingCodes(tenantID: "school")
        #expect(codes[.account] == ["4000-TUITION", "4100-TRANSPORT"], "the current version's, not OLD")
        #expect(codes[.taxCode] == ["GST18"] && codes[.item] == ["grade-6"] && codes[.depositAccount] == ["1100-BANK"])
        #expect(try await database.billingCodes(tenantID: "other") == [.account: ["4000-TUITION"]])
    }
}

@Suite struct QueryPlanTests {
    /// Every new record billing sends wakes the jobs waiting for it: that look-up is one index search on
    /// `waiting_for`, whatever the tenant's number of jobs, never a scan of them.
    @Test func wakingJobsWaitingForANewRecordSearchesAnIndex() async throws {
        let queue = try DatabaseQueue()
        try AppDatabase.migrator(auditKey: .random()).migrate(queue)
        let plan = try await queue.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    EXPLAIN QUERY PLAN UPDATE jobs SET next_attempt_at = 1, waiting_for = NULL
                    WHERE waiting_for = 'unsent:invoice:inv_1' AND tenant_id = 'school' AND status = 'pending'
                    """
            ).map { $0["detail"] as String }
        }
        #expect(plan == ["SEARCH jobs USING INDEX jobs_waiting_for (waiting_for=?)"])
    }

    /// A worker's claim searches an index for what is due (`jobs_open`) and for expired leases, whatever the backlog:
    /// never a scan of the jobs, never a sort of them.
    @Test func theClaimSearchesTheOpenJobsIndex() async throws {
        let queue = try DatabaseQueue()
        try AppDatabase.migrator(auditKey: .random()).migrate(queue)
        func plan(_ sql: String) throws -> [String] {
            try queue.read { db in
                try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + sql, arguments: ["now": 1, "scan": 10])
                    .map { $0["detail"] as String }
            }
        }
        let anyDue = try plan(ClaimSQL.anyDue)
        #expect(anyDue.filter { $0.hasPrefix("SEARCH jobs USING") }.count == 2, "\(anyDue)")
        #expect(anyDue.allSatisfy { !$0.hasPrefix("SCAN jobs") && !$0.contains("TEMP B-TREE") }, "\(anyDue)")
        let due = try plan(ClaimSQL.due(platforms: "'quickbooks_online'"))
        #expect(
            due.first?.hasPrefix("SEARCH j USING INDEX jobs_open (status=? AND next_attempt_at<?)") == true, "\(due)")
        // Jobs whose lease expired are among the running ones only, in `seq` order from `jobs_status`.
        let expired = try plan(ClaimSQL.leaseExpired(platforms: "'quickbooks_online'"))
        #expect(expired.first?.hasPrefix("SEARCH j USING INDEX") == true, "\(expired)")
        for steps in [due, expired] {
            #expect(steps.allSatisfy { !$0.hasPrefix("SCAN j") && !$0.contains("TEMP B-TREE") }, "\(steps)")
        }
    }
}
