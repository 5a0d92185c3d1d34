public import Accounting
import GRDB

extension AppDatabase {
    /// An integration a tenant's new record versions are pushed to.
    struct PushTarget {
        let integrationID: String
        let maxAttempts: Int
        /// The integration's platform, as stored.
        var platform: String = ""

        /// Whether its platform's connector keeps records of `recordType` (`pushed`: the types by platform, from the
        /// connector registry); a platform not named there takes every type.
        func takes(_ recordType: RecordType, _ pushed: [Platform: Set<RecordType>]) -> Bool {
            guard let platform = Platform(rawValue: platform), let types = pushed[platform] else { return true }
            return types.contains(recordType)
        }
    }

    /// The enabled integrations of a tenant (not disabled, sync enabled). Jobs of those not connected wait until
    /// they are.
    static func pushTargets(tenantID: String, db: Database) throws -> [PushTarget] {
        try Row.fetchAll(
            db.cachedStatement(
                sql: """
                    SELECT id, COALESCE(json_extract(sync, '$.max_attempts'), 3), platform FROM integration_configs
                    WHERE tenant_id = ? AND status <> 'disabled' AND COALESCE(json_extract(sync, '$.enabled'), 1)
                    """
            ),
            arguments: [tenantID]
        ).map { PushTarget(integrationID: $0[0], maxAttempts: max(1, $0[1]), platform: $0[2]) }
    }

    /// One integration as a push target (for jobs queued outside the fan-out: dependencies, full syncs).
    static func pushTarget(integrationID: String, db: Database) throws -> PushTarget {
        let maxAttempts = try Int.fetchOne(
            db,
            sql: "SELECT COALESCE(json_extract(sync, '$.max_attempts'), 3) FROM integration_configs WHERE id = ?",
            arguments: [integrationID])
        return PushTarget(integrationID: integrationID, maxAttempts: max(1, maxAttempts ?? 3))
    }

    /// Fan-out, inside the transaction that stored a record's new version: one push job per target, except where a
    /// person excluded the record from that integration's sync (`setRecordExcluded`).
    /// - Returns: how many jobs were queued.
    @discardableResult
    static func enqueuePushJobs(
        to targets: [PushTarget],
        tenantID: String,
        recordID: String,
        recordType: String,
        localID: String,
        version: Int,
        operationID: String? = nil,
        at now: AppDatabase.Moment,
        db: Database
    ) throws -> Int {
        var queued = 0
        for target in targets {
            try db.cachedStatement(
                sql: """
                    INSERT INTO jobs (id, integration_id, tenant_id, kind, record_id, record_type, local_id, version,
                        status, max_attempts, next_attempt_at, created_at, updated_at, operation_id)
                    SELECT ?, ?, ?, 'push', ?, ?, ?, ?,
                        CASE WHEN EXISTS (
                            SELECT 1 FROM conflicts WHERE integration_id = ? AND record_id = ? AND status = 'open')
                        THEN 'held' ELSE 'pending' END,
                        ?, ?, ?, ?, ?
                    WHERE NOT EXISTS (
                        SELECT 1 FROM synchronized_records
                        WHERE record_id = ? AND integration_id = ? AND status = 'excluded')
                    """
            ).execute(arguments: [
                Identifiers.make("job"), target.integrationID, tenantID, recordID, recordType, localID, version,
                target.integrationID, recordID, target.maxAttempts, now.timestamp.microsecondsSinceEpoch, now.text,
                now.text, operationID, recordID, target.integrationID,
            ])
            queued += db.changesCount
        }
        return queued
    }

    /// Claims up to `limit` runnable jobs for `worker` until `now + lease`.
    ///
    /// Runnable: pending and due, or running under an expired lease (its worker died: `takeover` says what becomes of
    /// it, applied here; those it leaves `running` are claimed), of a connected integration on one of `platforms`
    /// (those the worker has a connector for), with no earlier job of the same (integration, record) still open, and
    /// within `perIntegration` running jobs of one integration. An integration whose platform takes writes in batches
    /// (`batching`: its jobs at once per integration) may have that many running, and they are counted apart from
    /// `limit`, up to `batchedLimit` in all.
    public func claimJobs(
        worker: String,
        platforms: Set<Platform>,
        now: Timestamp,
        lease: Duration,
        limit: Int,
        perIntegration: Int,
        batching: [Platform: Int] = [:],
        batchedLimit: Int = 0,
        takeover: @escaping @Sendable (Job) -> JobTransition
    ) async throws -> [ClaimedJob] {
        let leaseMicros = lease.wholeMicroseconds
        guard !platforms.isEmpty else { return [] }
        let platformList = platforms.map { "'\($0.rawValue)'" }.sorted().joined(separator: ", ")
        // Nothing due (the usual answer to the nudge of every commit of billing's events): found on a reader, so the
        // writer's queue is not taken from the inbox's commits.
        let due = try await writer.read { db in
            try Bool.fetchOne(db.cachedStatement(sql: ClaimSQL.anyDue), arguments: ["now": now.microsecondsSinceEpoch])
                ?? true
        }
        guard due else { return [] }
        let jobs: [Job] = try await writer.write { db in
            let arguments: StatementArguments = [
                "now": now.microsecondsSinceEpoch, "scan": (limit + batchedLimit) * 2,
            ]
            let candidates =
                try Row.fetchAll(
                    db.cachedStatement(sql: ClaimSQL.leaseExpired(platforms: platformList)), arguments: arguments
                ).map(Job.init(selected:))
                + Row.fetchAll(db.cachedStatement(sql: ClaimSQL.due(platforms: platformList)), arguments: arguments)
                .map(Job.init(selected:))
            guard !candidates.isEmpty else { return [] }
            var running = try Dictionary(
                uniqueKeysWithValues: Row.fetchAll(
                    db.cachedStatement(
                        sql: """
                            SELECT integration_id, COUNT(*) FROM jobs
                            WHERE status IN ('pending', 'running') AND status = 'running' AND lease_expires_at > ?
                            GROUP BY integration_id
                            """),
                    arguments: [now.microsecondsSinceEpoch]
                ).map { ($0[0] as String, $0[1] as Int) }
            )
            var batchSizes: [String: Int] = [:]
            if !batching.isEmpty {
                for row in try Row.fetchAll(db.cachedStatement(sql: "SELECT id, platform FROM integration_configs")) {
                    if let platform = Platform(rawValue: row[1]), let size = batching[platform] {
                        batchSizes[row[0]] = size
                    }
                }
            }
            var audit: AuditLog?
            var claimed: [Job] = []
            var (singles, batched) = (0, 0)
            for var job in candidates where singles < limit || batched < batchedLimit {
                let batchSize = batchSizes[job.integrationID]
                if batchSize == nil {
                    guard singles < limit, running[job.integrationID, default: 0] < perIntegration else { continue }
                } else {
                    guard batched < batchedLimit, running[job.integrationID, default: 0] < batchSize! else { continue }
                }
                if job.status == .running {
                    // Its worker died: what becomes of the job is `takeover`'s to say; `running` is claimed again.
                    let transition = takeover(job)
                    guard transition.status == .running else {
                        try Self.apply(
                            transition, to: job, startedAt: job.updatedAt, worker: worker, at: now,
                            auditKey: auditKey, db: db, audit: &audit)
                        continue
                    }
                    if let attempt = transition.attempt {
                        try Self.recordAttempt(
                            of: job, outcome: attempt.outcome, error: attempt.error, startedAt: job.updatedAt, at: now,
                            db: db)
                    }
                }
                job.status = .running
                job.attempts += 1
                job.leaseOwner = worker
                job.leaseExpiresAt = Timestamp(microsecondsSinceEpoch: now.microsecondsSinceEpoch + leaseMicros)
                try db.cachedStatement(
                    sql: """
                        UPDATE jobs SET status = 'running', attempts = ?, lease_owner = ?, lease_expires_at = ?,
                            waiting_for = NULL, updated_at = ?
                        WHERE id = ?
                        """
                ).execute(
                    arguments: [
                        job.attempts, worker, job.leaseExpiresAt?.microsecondsSinceEpoch, now.rfc3339, job.id,
                    ]
                )
                running[job.integrationID, default: 0] += 1
                if batchSize == nil { singles += 1 } else { batched += 1 }
                claimed.append(job)
            }
            return claimed
        }
        guard !jobs.isEmpty else { return [] }
        // What each job pushes, read once the claim has committed: the writer is held for the claim alone, not for
        // reading and parsing records (a batching platform's round is hundreds of them). A version never changes; a
        // link may (a change heard from the books), and reading it a moment after the claim is as good as reading it
        // at the claim: the push comes later still.
        let pushed = try await writer.read { db in
            try jobs.map { job in
                let version = try Row.fetchOne(
                    db.cachedStatement(
                        sql: "SELECT action, data FROM record_versions WHERE record_id = ? AND version = ?"),
                    arguments: [job.recordID, job.version])
                let link = try Row.fetchOne(
                    db.cachedStatement(
                        sql: """
                            SELECT remote_id, remote_version FROM synchronized_records
                            WHERE record_id = ? AND integration_id = ?
                            """),
                    arguments: [job.recordID, job.integrationID])
                return Pushed(
                    action: version?[0], data: version?[1], remoteID: link?[0], remoteVersion: link?[1])
            }
        }
        return zip(jobs, pushed).map { job, pushed in
            ClaimedJob(
                job: job,
                action: SyncCommand.Action(rawValue: pushed.action ?? "") ?? .upsert,
                // Stored by Ledgerwire as canonical JSON; were it unreadable, the job fails saying so
                // (`unreadable_record`) instead of every claim failing on it.
                data: pushed.data.flatMap { try? JSONValue(parsing: Array($0.utf8)) } ?? .null,
                remoteID: pushed.remoteID,
                remoteVersion: pushed.remoteVersion,
                startedAt: now)
        }
    }

    /// What a claimed job pushes: its version's action and data, and its record's link.
    private struct Pushed: Sendable {
        var action: String?
        var data: String?
        var remoteID: String?
        var remoteVersion: String?
    }

    /// Records how `worker`'s attempt of a claimed job ended, as `decide` (the engine's job state machine) says from
    /// the job as it is now, the outcome and, for a job waiting for a record, where that record stands. Returns
    /// `false`, changing nothing, when the worker no longer holds the job's lease (another worker took it over).
    ///
    /// Attempts ending together share one transaction (`jobFinisher`, a group commit): one commit and one fsync for
    /// a batch of a platform's answers, not one per job.
    @discardableResult
    public func finishJob(
        _ claimed: ClaimedJob,
        worker: String,
        outcome: JobOutcome,
        at now: Timestamp,
        decide: @escaping @Sendable (FinishedAttempt) -> JobTransition
    ) async throws -> Bool {
        try await jobFinisher.submit(
            FinishingJob(claimed: claimed, worker: worker, outcome: outcome, now: now, decide: decide))
    }

    /// A group committer finishing jobs on the writer: one transaction for the attempts that ended meanwhile.
    static func makeJobFinisher(writer: any DatabaseWriter, auditKey: AuditKey)
        -> GroupCommitter<Database, FinishingJob, Bool>
    {
        GroupCommitter(
            maximumBatchSize: 256,
            schedule: { body in writer.asyncWriteWithoutTransaction { db in body(db) } },
            commit: { db, batch in finish(batch, auditKey: auditKey, db: db) })
    }

    /// The batch in one transaction; should that fail, each job in a transaction of its own, so one job's failure
    /// is its own.
    static func finish(_ batch: [FinishingJob], auditKey: AuditKey, db: Database) -> [Result<Bool, any Error>] {
        var results: [Result<Bool, any Error>] = []
        results.reserveCapacity(batch.count)
        do {
            try db.inTransaction(.immediate) {
                // One checkpoint for the batch's entries, signed before the commit.
                var audit: AuditLog? = try AuditLog(db, key: auditKey, checkpointAtEnd: true)
                for finishing in batch {
                    results.append(.success(try finish(finishing, auditKey: auditKey, db: db, audit: &audit)))
                }
                try audit?.writeCheckpoint(db)
                return .commit
            }
            return results
        } catch {
            return batch.map { finishing in
                Result {
                    var held = false
                    try db.inTransaction(.immediate) {
                        var audit: AuditLog?
                        held = try finish(finishing, auditKey: auditKey, db: db, audit: &audit)
                        return .commit
                    }
                    return held
                }
            }
        }
    }

    private static func finish(_ finishing: FinishingJob, auditKey: AuditKey, db: Database, audit: inout AuditLog?)
        throws -> Bool
    {
        let claimed = finishing.claimed
        guard
            let row = try Row.fetchOne(
                db.cachedStatement(
                    sql: "SELECT \(Job.columns) FROM jobs WHERE id = ? AND status = 'running' AND lease_owner = ?"),
                arguments: [claimed.job.id, finishing.worker])
        else { return false }
        let job = Job(selected: row)
        var awaited: AwaitedRecord?
        var linkedElsewhere: String?
        switch finishing.outcome {
        case .waiting(_, let waitingFor?, _):
            awaited = try Self.awaitedRecord(waitingFor, of: job, db: db)
        case .succeeded(let remoteID?, _):
            linkedElsewhere = try String.fetchOne(
                db.cachedStatement(
                    sql: """
                        SELECT r.local_id FROM synchronized_records l JOIN records r ON r.id = l.record_id
                        WHERE l.integration_id = ? AND l.remote_id = ? AND l.record_id != ? AND r.record_type = ?
                        LIMIT 1
                        """),
                arguments: [job.integrationID, remoteID, job.recordID, job.recordType])
        default:
            break
        }
        try Self.apply(
            finishing.decide(
                FinishedAttempt(
                    job: job, outcome: finishing.outcome, now: finishing.now, awaited: awaited,
                    linkedElsewhere: linkedElsewhere)),
            to: job,
            startedAt: claimed.startedAt, worker: finishing.worker, at: finishing.now, auditKey: auditKey, db: db,
            audit: &audit)
        return true
    }

    /// Where the record a job waits for (`waitingFor`: its id, or `waitKey(unsent:)`) stands now: its latest job
    /// for the job's integration, or, one billing had not sent, whether billing has sent it since.
    private static func awaitedRecord(_ waitingFor: String, of job: Job, db: Database) throws -> AwaitedRecord? {
        if let latest = try Row.fetchOne(
            db,
            sql: """
                SELECT id, status, record_type, local_id FROM jobs
                WHERE integration_id = ? AND record_id = ? ORDER BY seq DESC LIMIT 1
                """,
            arguments: [job.integrationID, waitingFor])
        {
            return Job.Status(rawValue: latest["status"]).map {
                .latestJob(id: latest["id"], status: $0, recordType: latest["record_type"], localID: latest["local_id"])
            }
        }
        guard case let parts = waitingFor.split(separator: ":", maxSplits: 2), parts.count == 3, parts[0] == "unsent",
            try Bool.fetchOne(
                db, sql: "SELECT 1 FROM records WHERE tenant_id = ? AND record_type = ? AND local_id = ?",
                arguments: [job.tenantID, String(parts[1]), String(parts[2])]) == true
        else { return nil }
        return .sentByBilling
    }

    /// Applies `transition` to `job` (as read in this transaction): its attempt record, its row, its audit entry,
    /// its record's link, its integration's reachability, its event, and the jobs waiting for its record.
    private static func apply(
        _ transition: JobTransition,
        to job: Job,
        startedAt: Timestamp,
        worker: String,
        at now: Timestamp,
        auditKey: AuditKey,
        db: Database,
        audit: inout AuditLog?
    ) throws {
        if let attempt = transition.attempt {
            try recordAttempt(
                of: job, outcome: attempt.outcome, error: attempt.error, startedAt: startedAt, at: now, db: db)
        }
        if transition.givesBackAttempt || transition.isDeferral {
            try db.execute(
                sql: "UPDATE jobs SET attempts = attempts - ?, deferrals = deferrals + ? WHERE id = ?",
                arguments: [transition.givesBackAttempt ? 1 : 0, transition.isDeferral ? 1 : 0, job.id])
        }
        try settle(
            job, status: transition.status, nextAttemptAt: transition.nextAttemptAt,
            waitingFor: transition.waitingFor, error: transition.error, remoteID: transition.synced?.remoteID,
            worker: worker, at: now, auditKey: auditKey, db: db, audit: &audit)
        if transition.status == .awaitingPlatform {
            if let message = transition.message { try journal(message, of: job, at: now, db: db) }
        } else {
            // The job moved on: its conversation with a mailbox platform, if it had one, is over.
            try closeConversation(ofJob: job.id, db: db)
        }
        if transition.status == .needsMapping {
            try db.execute(
                sql: "UPDATE jobs SET last_error_missing = ? WHERE id = ?",
                arguments: [JSONValue.array((transition.error?.missing ?? []).map(\.json)).canonicalString, job.id])
        }
        if let synced = transition.synced {
            try linkSynced(job, remoteID: synced.remoteID, remoteVersion: synced.remoteVersion, at: now, db: db)
        }
        switch transition.reachability {
        case .reachable:
            try markReachable(integrationID: job.integrationID, db: db)
        case .unreachable(let nextCheckAt, let error):
            // Its jobs are not claimed before the next check: the first of the waits any of them was given.
            try db.execute(
                sql: """
                    UPDATE integration_configs SET unreachable_since = COALESCE(unreachable_since, :now),
                        unreachable_error_code = :code, unreachable_error_message = :message,
                        next_check_at = CASE WHEN next_check_at > :now THEN MIN(next_check_at, :at) ELSE :at END
                    WHERE id = :id
                    """,
                arguments: [
                    "now": now.microsecondsSinceEpoch, "code": error.code, "message": error.message,
                    "at": nextCheckAt.microsecondsSinceEpoch, "id": job.integrationID,
                ])
        case nil:
            break
        }
        if let event = transition.event {
            try emitJobEvent(event, job: job, status: transition.status, error: transition.error, at: now, db: db)
        }
        switch transition.waitingJobs {
        case .wake:
            try db.cachedStatement(
                sql: """
                    UPDATE jobs SET next_attempt_at = ?, waiting_for = NULL
                    WHERE integration_id = ? AND waiting_for = ? AND status = 'pending'
                    """
            ).execute(
                arguments: [now.microsecondsSinceEpoch, job.integrationID, job.recordID])
        case .tell(let error):
            try db.execute(
                sql: """
                    UPDATE jobs SET last_error_code = ?, last_error_message = ?, updated_at = ?
                    WHERE integration_id = ? AND waiting_for = ? AND status = 'pending'
                    """,
                arguments: [error.code, error.message, now.rfc3339, job.integrationID, job.recordID])
        case nil:
            break
        }
    }

    /// What a job waiting for a record billing has not sent yet waits for (`jobs.waiting_for`, which otherwise holds
    /// the awaited record's id): ingesting that record wakes it.
    public static func waitKey(unsent reference: RecordReference) -> String {
        "\(unsentWaitPrefix)\(reference.recordType.rawValue):\(reference.localID)"
    }

    /// What every `waitKey(unsent:)` begins with.
    static let unsentWaitPrefix = "unsent:"

    /// Billing sent a record that jobs of its tenant were waiting for: they go now.
    static func wakeJobs(waitingForUnsent reference: RecordReference, tenantID: String, at now: Moment, db: Database)
        throws
    {
        try db.cachedStatement(
            sql: """
                UPDATE jobs SET next_attempt_at = ?, waiting_for = NULL
                WHERE waiting_for = ? AND tenant_id = ? AND status = 'pending'
                """
        ).execute(arguments: [now.timestamp.microsecondsSinceEpoch, waitKey(unsent: reference), tenantID])
    }

    /// Whether the records a job's record refers to are in the integration's books.
    public enum DependencyResolution: Sendable, Hashable {
        /// All are: their platform ids.
        case ready([RecordReference: String])
        /// `reference` is not yet; `recordID` is billing's record of it when billing has sent it.
        case waiting(for: RecordReference, recordID: String?, reason: String)
    }

    /// Checks that every record in `references` is in the integration's books before the claimed job's record is
    /// pushed, as `readiness` (the engine's rule) says of each from where it stands. A referenced record billing has
    /// sent but that was never queued for this integration (the integration came later) is queued now. Only that
    /// case writes; the usual answers are a read.
    public func resolveDependencies(
        of claimed: ClaimedJob,
        references: [RecordReference],
        at now: Timestamp,
        readiness: @escaping @Sendable (DependencyFacts) -> DependencyReadiness
    ) async throws -> DependencyResolution {
        guard !references.isEmpty else { return .ready([:]) }
        let job = claimed.job
        switch try await writer.read({ db in
            try Self.dependencyState(of: job, references: references, readiness: readiness, db: db)
        }) {
        case .resolved(let resolution):
            return resolution
        case .unqueued(let reference, let recordID):
            return try await writer.write { db in
                // Read again under the writer: another worker may have queued it meanwhile.
                guard
                    case .unqueued(let reference, let recordID) = try Self.dependencyState(
                        of: job, references: references, readiness: readiness, db: db)
                else {
                    return .waiting(for: reference, recordID: recordID, reason: "\(reference) is pushed first")
                }
                let version =
                    try Int.fetchOne(
                        db, sql: "SELECT version FROM records WHERE id = ?", arguments: [recordID]) ?? 1
                try Self.enqueuePushJobs(
                    to: [Self.pushTarget(integrationID: job.integrationID, db: db)], tenantID: job.tenantID,
                    recordID: recordID, recordType: reference.recordType.rawValue, localID: reference.localID,
                    version: version, at: Moment(now), db: db)
                return .waiting(for: reference, recordID: recordID, reason: "\(reference) is pushed first")
            }
        }
    }

    private enum DependencyState {
        case resolved(DependencyResolution)
        /// Billing has the record but nothing is queued to put it in this integration's books.
        case unqueued(RecordReference, recordID: String)
    }

    /// Where the first of `references` not in the integration's books stands, by `readiness`; or all their platform
    /// ids.
    private static func dependencyState(
        of job: Job,
        references: [RecordReference],
        readiness: (DependencyFacts) -> DependencyReadiness,
        db: Database
    ) throws -> DependencyState {
        var resolved: [RecordReference: String] = [:]
        for reference in references {
            let facts = try dependencyFacts(of: reference, for: job, db: db)
            switch readiness(facts) {
            case .ready(let remoteID):
                resolved[reference] = remoteID
            case .waiting(let reason):
                return .resolved(.waiting(for: reference, recordID: facts.recordID, reason: reason))
            case .unqueued(let recordID):
                return .unqueued(reference, recordID: recordID)
            }
        }
        return .resolved(.ready(resolved))
    }

    /// Billing's record of `reference`, its link in the job's integration and the latest job putting it there, in
    /// one read.
    private static func dependencyFacts(of reference: RecordReference, for job: Job, db: Database) throws
        -> DependencyFacts
    {
        guard
            let row = try Row.fetchOne(
                db.cachedStatement(
                    sql: """
                        SELECT r.id, l.remote_id, j.id AS job_id, j.status AS job_status FROM records r
                        LEFT JOIN synchronized_records l ON l.record_id = r.id AND l.integration_id = :integration
                        LEFT JOIN jobs j ON j.seq = (
                            SELECT MAX(seq) FROM jobs WHERE integration_id = :integration AND record_id = r.id)
                        WHERE r.tenant_id = :tenant AND r.record_type = :type AND r.local_id = :local
                        """),
                arguments: [
                    "integration": job.integrationID, "tenant": job.tenantID,
                    "type": reference.recordType.rawValue, "local": reference.localID,
                ])
        else { return DependencyFacts(reference: reference, recordID: nil) }
        let latestJob = (row["job_id"] as String?).flatMap { id in
            (row["job_status"] as String?).flatMap(Job.Status.init(rawValue:)).map {
                DependencyFacts.LatestJob(id: id, status: $0)
            }
        }
        return DependencyFacts(
            reference: reference, recordID: row["id"], remoteID: row["remote_id"], latestJob: latestJob)
    }

    /// Extends a running job's lease to `until` while its worker still holds it.
    /// - Returns: whether the worker still holds the job.
    public func renewJobLease(_ jobID: String, worker: String, until: Timestamp) async throws -> Bool {
        try await writer.write { db in
            try db.execute(
                sql: "UPDATE jobs SET lease_expires_at = ? WHERE id = ? AND status = 'running' AND lease_owner = ?",
                arguments: [until.microsecondsSinceEpoch, jobID, worker])
            return db.changesCount > 0
        }
    }

    /// Gives a worker's jobs back to the queue without counting the attempt (graceful shutdown).
    public func releaseJobs(_ jobIDs: [String], worker: String, at now: Timestamp) async throws {
        try await writer.write { db in
            for id in jobIDs {
                try db.execute(
                    sql: """
                        UPDATE jobs SET status = 'pending', attempts = attempts - 1, lease_owner = NULL,
                            lease_expires_at = NULL, next_attempt_at = ?, updated_at = ?
                        WHERE id = ? AND status = 'running' AND lease_owner = ?
                        """,
                    arguments: [now.microsecondsSinceEpoch, now.rfc3339, id, worker]
                )
            }
        }
    }

    /// A person's retry of a dead or failed job: pending now, with a fresh set of attempts.
    /// - Returns: the job, or `nil` when there is no such job (of `tenantID`, when given).
    /// - Throws: `PersistenceError.conflict` when the job is not dead or failed.
    public func retryJob(id: String, tenantID: String?, actor: String, at now: Timestamp) async throws -> Job? {
        try await writer.write { db in
            var filter = SQLFilter()
            filter.add("id = ?", id)
            filter.add("tenant_id = ?", tenantID)
            guard
                let job = try Row.fetchOne(
                    db, sql: "SELECT * FROM jobs \(filter.whereClause)", arguments: filter.arguments
                )
                .map(Job.init(row:))
            else { return nil }
            guard job.status == .dead || job.status == .failed else {
                throw PersistenceError.conflict(
                    "job \(id) is \(job.status.rawValue); only dead or failed jobs are retried")
            }
            var audit = try AuditLog(db, key: auditKey)
            try retry(job, actor: actor, at: now, audit: &audit, db: db)
            return try Row.fetchOne(db, sql: "SELECT * FROM jobs WHERE id = ?", arguments: [id]).map(Job.init(row:))
        }
    }

    /// A person's retry of every dead (or failed) job of a kind, at most `limit` of them, oldest first: each pending
    /// now with a fresh set of attempts, and audited as a single retry is.
    /// - Returns: how many were retried.
    public func retryJobs(
        status: Job.Status, integrationID: String?, recordType: String?, tenantID: String?, limit: Int = 1_000,
        actor: String, at now: Timestamp
    ) async throws -> Int {
        guard status == .dead || status == .failed else {
            throw PersistenceError.conflict("only dead or failed jobs are retried, not \(status.rawValue) ones")
        }
        return try await writer.write { db in
            var filter = SQLFilter()
            filter.add("status = ?", status.rawValue)
            filter.add("integration_id = ?", integrationID)
            filter.add("record_type = ?", recordType)
            filter.add("tenant_id = ?", tenantID)
            let jobs = try Row.fetchAll(
                db, sql: "SELECT * FROM jobs \(filter.whereClause) ORDER BY seq LIMIT ?",
                arguments: filter.arguments + [max(1, min(limit, 10_000))]
            ).map(Job.init(row:))
            var audit = try AuditLog(db, key: auditKey)
            for job in jobs { try retry(job, actor: actor, at: now, audit: &audit, db: db) }
            return jobs.count
        }
    }

    /// Makes `job` pending now with a fresh set of attempts, audited as `job.retried` by `actor`.
    private func retry(_ job: Job, actor: String, at now: Timestamp, audit: inout AuditLog, db: Database) throws {
        try db.execute(
            sql: """
                UPDATE jobs SET status = 'pending', attempts = 0, next_attempt_at = ?, lease_owner = NULL,
                    lease_expires_at = NULL, updated_at = ?
                WHERE id = ?
                """,
            arguments: [now.microsecondsSinceEpoch, now.rfc3339, job.id]
        )
        try audit.append(
            db, at: now, tenantID: job.tenantID, integrationID: job.integrationID, recordID: job.recordID,
            actor: actor, action: "job.retried", entityType: "job", entityID: job.id,
            oldValue: JSONValue.object(["status": .string(job.status.rawValue)]).canonicalString,
            newValue: JSONValue.object(["status": "pending"]).canonicalString)
    }

    /// Jobs, oldest first, filtered by status, integration and tenant.
    public func jobs(
        status: Job.Status? = nil,
        integrationID: String? = nil,
        tenantID: String? = nil,
        page: PageRequest
    ) async throws -> Page<Job> {
        try await writer.read { db in
            var filter = SQLFilter()
            filter.add("status = ?", status?.rawValue)
            filter.add("integration_id = ?", integrationID)
            filter.add("tenant_id = ?", tenantID)
            // `seq` is the rowid, so the page is in creation order.
            return try Self.rowPage(of: "jobs", filter, page, db: db, item: Job.init(row:))
        }
    }

    /// One job; `nil` when absent or of another tenant than `tenantID`.
    public func job(id: String, tenantID: String? = nil) async throws -> Job? {
        try await writer.read { db in
            var filter = SQLFilter()
            filter.add("id = ?", id)
            filter.add("tenant_id = ?", tenantID)
            return try Row.fetchOne(db, sql: "SELECT * FROM jobs \(filter.whereClause)", arguments: filter.arguments)
                .map(Job.init(row:))
        }
    }

    /// Every attempt of a job, in order.
    public func jobAttempts(jobID: String) async throws -> [JobAttempt] {
        try await writer.read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM job_attempts WHERE job_id = ? ORDER BY attempt", arguments: [jobID]
            ).map { row in
                let code: String? = row["error_code"]
                return JobAttempt(
                    attempt: row["attempt"],
                    worker: row["worker"],
                    startedAt: Timestamp(rfc3339: row["started_at"]) ?? Timestamp(microsecondsSinceEpoch: 0),
                    finishedAt: Timestamp(rfc3339: row["finished_at"]) ?? Timestamp(microsecondsSinceEpoch: 0),
                    outcome: row["outcome"],
                    error: code.map { JobError(code: $0, message: row["error_message"] ?? "") }
                )
            }
        }
    }

    /// `sync.failed` / `sync.needs_mapping`: which record, where, and the platform's (or the mapping's) reason.
    private static func emitJobEvent(
        _ type: EventType, job: Job, status: Job.Status, error: JobError?, at now: Timestamp, db: Database
    ) throws {
        try emit(
            type, tenantID: job.tenantID, integrationID: job.integrationID,
            data: [
                "job_id": .string(job.id), "integration_id": .string(job.integrationID),
                "record_type": .string(job.recordType), "local_id": .string(job.localID),
                "version": .number(String(job.version)), "status": .string(status.rawValue),
                "attempts": .number(String(job.attempts)),
                "error": error?.json ?? .null,
            ],
            at: now, db: db)
    }

    private static func recordAttempt(
        of job: Job,
        outcome: String,
        error: JobError?,
        startedAt: Timestamp,
        at now: Timestamp,
        db: Database
    ) throws {
        try db.cachedStatement(
            sql: """
                INSERT INTO job_attempts (job_id, attempt, worker, started_at, finished_at, outcome, error_code,
                    error_message)
                VALUES (?, (SELECT COALESCE(MAX(attempt), 0) + 1 FROM job_attempts WHERE job_id = ?), ?, ?, ?, ?, ?, ?)
                """
        ).execute(
            arguments: [
                job.id, job.id, job.leaseOwner ?? "", startedAt.rfc3339, now.rfc3339, outcome, error?.code,
                error?.message,
            ]
        )
    }

    private static func settle(
        _ job: Job,
        status: Job.Status,
        nextAttemptAt: Timestamp?,
        waitingFor: String?,
        error: JobError?,
        remoteID: String?,
        worker: String,
        at now: Timestamp,
        auditKey: AuditKey,
        db: Database,
        audit: inout AuditLog?
    ) throws {
        try db.cachedStatement(
            sql: """
                UPDATE jobs SET status = ?, next_attempt_at = COALESCE(?, next_attempt_at), waiting_for = ?,
                    lease_owner = NULL, lease_expires_at = NULL, last_error_code = ?, last_error_message = ?,
                    remote_id = COALESCE(?, remote_id), updated_at = ?
                WHERE id = ?
                """
        ).execute(
            arguments: [
                status.rawValue, nextAttemptAt?.microsecondsSinceEpoch, waitingFor, error?.code, error?.message,
                remoteID, now.rfc3339, job.id,
            ]
        )
        guard status != .pending else { return }
        var value: [String: JSONValue] = [
            "status": .string(status.rawValue), "attempts": .number(String(job.attempts)),
        ]
        if let error { value["error"] = .object(["code": .string(error.code), "message": .string(error.message)]) }
        if let remoteID { value["remote_id"] = .string(remoteID) }
        if audit == nil { audit = try AuditLog(db, key: auditKey) }
        try audit?.append(
            db, at: now, tenantID: job.tenantID, integrationID: job.integrationID, recordID: job.recordID,
            actor: "worker:\(worker)", action: "job.\(status.rawValue)", entityType: job.recordType,
            entityID: job.localID, oldValue: nil, newValue: JSONValue.object(value).canonicalString)
    }
}

extension AppDatabase {
    /// Records that the integration's platform answered (whatever it said): the outage, if there was one, is over
    /// and its jobs are claimed again at once.
    public func markReachable(integrationID: String) async throws {
        try await writer.write { db in try Self.markReachable(integrationID: integrationID, db: db) }
    }

    static func markReachable(integrationID: String, db: Database) throws {
        try db.cachedStatement(
            sql: """
                UPDATE integration_configs SET unreachable_since = NULL, unreachable_error_code = NULL,
                    unreachable_error_message = NULL, next_check_at = NULL
                WHERE id = ? AND (unreachable_since IS NOT NULL OR next_check_at IS NOT NULL)
                """
        ).execute(arguments: [integrationID])
    }
}

extension AppDatabase {
    /// Links the job's record to the platform's `remoteID` as synced at the job's version: after a push, or when the
    /// books already held it. A `nil` id or version keeps the one the link had.
    static func linkSynced(_ job: Job, remoteID: String?, remoteVersion: String?, at now: Timestamp, db: Database)
        throws
    {
        try db.cachedStatement(
            sql: """
                INSERT INTO synchronized_records (id, record_id, integration_id, remote_id, remote_version, status,
                    last_synced_at, local_version)
                VALUES (?, ?, ?, ?, ?, 'synced', ?, ?)
                ON CONFLICT (record_id, integration_id) DO UPDATE SET
                    remote_id = COALESCE(excluded.remote_id, remote_id),
                    remote_version = COALESCE(excluded.remote_version, remote_version),
                    status = CASE WHEN status = 'excluded' THEN 'excluded' ELSE 'synced' END,
                    last_synced_at = excluded.last_synced_at,
                    local_version = MAX(COALESCE(local_version, 0), excluded.local_version)
                """
        ).execute(
            arguments: [
                Identifiers.make("lnk"), job.recordID, job.integrationID, remoteID, remoteVersion, now.rfc3339,
                job.version,
            ])
    }
}

/// The claim's look-ups, each an index search with no sort of the backlog (guarded by `QueryPlanTests`): jobs due on
/// `jobs_open` (the repeated `status IN (…)` term lets SQLite use that partial index), expired leases among the
/// running jobs in `seq` order.
enum ClaimSQL {
    /// Whether anything is due or has a lease expired, asked on a reader before the writer is taken.
    static let anyDue = """
        SELECT EXISTS (
            SELECT 1 FROM jobs WHERE status IN ('pending', 'running') AND status = 'pending' AND next_attempt_at <= :now)
        OR EXISTS (
            SELECT 1 FROM jobs WHERE status IN ('pending', 'running') AND status = 'running'
                AND lease_expires_at <= :now)
        """

    /// Jobs whose worker died (their lease expired), oldest first.
    static func leaseExpired(platforms: String) -> String {
        """
        SELECT \(Job.columns) FROM jobs j
        WHERE j.status IN ('pending', 'running') AND j.status = 'running'
            AND j.lease_expires_at <= :now AND \(eligible(platforms: platforms))
        ORDER BY j.seq LIMIT :scan
        """
    }

    /// Jobs due, the longest due first.
    static func due(platforms: String) -> String {
        """
        SELECT \(Job.columns) FROM jobs j
        WHERE j.status IN ('pending', 'running') AND j.status = 'pending'
            AND j.next_attempt_at <= :now AND \(eligible(platforms: platforms))
        ORDER BY j.next_attempt_at, j.seq LIMIT :scan
        """
    }

    /// Of a connected integration of one of `platforms` (a quoted list) due a check, with no earlier job of the same
    /// (integration, record) still open.
    private static func eligible(platforms: String) -> String {
        """
        j.integration_id IN (
            SELECT id FROM integration_configs WHERE status = 'connected' AND platform IN (\(platforms))
                AND (next_check_at IS NULL OR next_check_at <= :now))
        AND NOT EXISTS (
            SELECT 1 FROM jobs e
            WHERE e.integration_id = j.integration_id AND e.record_id = j.record_id AND e.seq < j.seq
                AND e.status IN ('pending', 'running', 'needs_mapping', 'held', 'awaiting_platform'))
        """
    }
}
