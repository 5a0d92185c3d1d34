public import Accounting
public import Persistence

extension JobStore {
    /// Claims runnable jobs as `claimJobs(…, takeover:)` does, a job whose worker died going by
    /// `JobStateMachine.takeover(of:)`.
    public func claimJobs(
        worker: String,
        platforms: Set<Platform>,
        now: Timestamp,
        lease: Duration,
        limit: Int,
        perIntegration: Int,
        batching: [Platform: Int] = [:],
        batchedLimit: Int = 0
    ) async throws -> [ClaimedJob] {
        try await claimJobs(
            worker: worker, platforms: platforms, now: now, lease: lease, limit: limit, perIntegration: perIntegration,
            batching: batching, batchedLimit: batchedLimit, takeover: JobStateMachine.takeover(of:))
    }

    /// Records how `worker`'s attempt of a claimed job ended, as `JobStateMachine.transition(for:)` says. Returns
    /// `false`, changing nothing, when the worker no longer holds the job's lease.
    @discardableResult
    public func finishJob(
        _ claimed: ClaimedJob,
        worker: String,
        outcome: JobOutcome,
        at now: Timestamp
    ) async throws -> Bool {
        try await finishJob(
            claimed, worker: worker, outcome: outcome, at: now, decide: JobStateMachine.transition(for:))
    }

    /// Checks that the records the claimed job's record refers to are in the integration's books, each as
    /// `JobStateMachine.readiness(of:)` says.
    public func resolveDependencies(
        of claimed: ClaimedJob, references: [RecordReference], at now: Timestamp
    ) async throws -> AppDatabase.DependencyResolution {
        try await resolveDependencies(
            of: claimed, references: references, at: now, readiness: JobStateMachine.readiness(of:))
    }
}
