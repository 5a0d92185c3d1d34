public import Accounting

/// The job queue as the sync engine uses it: what a store (SQLite's `AppDatabase` today, PostgreSQL later)
/// implements. The rules (what an outcome, an expired lease or a dependency's latest job mean) are passed in by the
/// engine; the store reads the facts they need and applies what they return atomically.
public protocol JobStore: Sendable {
    /// Claims up to `limit` runnable jobs for `worker` until `now + lease`; see `AppDatabase.claimJobs`.
    func claimJobs(
        worker: String,
        platforms: Set<Platform>,
        now: Timestamp,
        lease: Duration,
        limit: Int,
        perIntegration: Int,
        batching: [Platform: Int],
        batchedLimit: Int,
        takeover: @escaping @Sendable (Job) -> JobTransition
    ) async throws -> [ClaimedJob]

    /// Records how `worker`'s attempt ended, as `decide` says; `false` when the worker no longer holds the lease.
    @discardableResult
    func finishJob(
        _ claimed: ClaimedJob,
        worker: String,
        outcome: JobOutcome,
        at now: Timestamp,
        decide: @escaping @Sendable (FinishedAttempt) -> JobTransition
    ) async throws -> Bool

    /// Extends a running job's lease while `worker` holds it; whether it still does.
    func renewJobLease(_ jobID: String, worker: String, until: Timestamp) async throws -> Bool

    /// Whether the records `references` names are in the integration's books, each as `readiness` says.
    func resolveDependencies(
        of claimed: ClaimedJob,
        references: [RecordReference],
        at now: Timestamp,
        readiness: @escaping @Sendable (DependencyFacts) -> DependencyReadiness
    ) async throws -> AppDatabase.DependencyResolution

    /// Links the claimed job's record to the books' copy of it instead of writing it, when the books hold it.
    func linkToBooksCopy(of claimed: ClaimedJob, at now: Timestamp) async throws -> BooksCopy?

    /// When a claim of jobs of `platforms` will next find one, if nothing else happens.
    func nextJobDue(platforms: Set<Platform>) async throws -> Timestamp?

    /// Records that the integration's platform answered: an outage, if there was one, is over.
    func markReachable(integrationID: String) async throws
}

extension AppDatabase: JobStore {}
