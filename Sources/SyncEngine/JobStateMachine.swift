import Accounting
public import Persistence

/// The rules of a job's life: what each way an attempt ends does to the job, what becomes of a job whose worker's
/// lease ran out, and when a record a job refers to is ready in the books. Plain decisions over facts;
/// `AppDatabase` reads the facts and applies the `JobTransition` in one transaction.
public enum JobStateMachine {
    /// What an attempt's `outcome` does to its job.
    ///
    /// Only an attempt at the platform uses up one of the job's attempts: waiting for a dependency, being turned
    /// away (busy, out of reach), awaiting a connection and parking for a mapping give the claim's attempt back. A
    /// retry after the last attempt makes the job dead. A success whose record in the books is already another
    /// billing record's (two creates adopted it at once) is retried: a record of the books is never linked twice. A job that will not sync without a person (failed, dead)
    /// says so in `sync.failed`, and the jobs waiting for its record name it; a success wakes them.
    public static func transition(for ended: FinishedAttempt) -> JobTransition {
        let job = ended.job
        switch ended.outcome {
        case .succeeded(let remoteID?, _) where ended.linkedElsewhere != nil:
            // Two creates adopted one record of the books at once (concurrent chunks): it stays the first one's, and
            // this one tries again, when its look-up sees the record taken and makes one of its own.
            let taken = JobError(
                code: "already_linked",
                message: "the books' record \(remoteID) is \(job.recordType) \(ended.linkedElsewhere ?? "?")'s;"
                    + " this one is made anew")
            return transition(
                for: FinishedAttempt(
                    job: job, outcome: .retry(at: ended.now, taken), now: ended.now, awaited: ended.awaited))
        case .succeeded(let remoteID, let remoteVersion):
            // The platform answered: it is reachable again, and the jobs waiting for this record go now.
            return JobTransition(
                status: .succeeded, attempt: .init(outcome: "succeeded"),
                synced: RemoteRecordVersion(remoteID: remoteID, remoteVersion: remoteVersion), waitingJobs: .wake,
                reachability: .reachable)
        case .retry(_, let error) where job.attempts >= job.maxAttempts:
            return JobTransition(
                status: .dead, attempt: .init(outcome: "dead", error: error), error: error, event: .syncFailed,
                waitingJobs: .tell(didNotSync(job)))
        case .retry(let at, let error):
            return JobTransition(
                status: .pending, attempt: .init(outcome: "retry", error: error), nextAttemptAt: at, error: error)
        case .failed(let error):
            return JobTransition(
                status: .failed, attempt: .init(outcome: "failed", error: error), error: error, event: .syncFailed,
                waitingJobs: .tell(didNotSync(job)))
        case .waiting(var until, let waitingFor, var error):
            // The record waited for may have settled while this attempt looked: synced, or sent by billing (go now),
            // or failed (say which job to retry).
            switch ended.awaited {
            case .latestJob(_, .succeeded, _, _), .sentByBilling:
                until = ended.now
            case .latestJob(let id, .failed, let recordType, let localID),
                .latestJob(let id, .dead, let recordType, let localID):
                error = JobError(
                    code: error.code, message: "\(recordType) \(localID) did not sync (job \(id)); retry that job")
            case .latestJob, nil:
                break
            }
            // Not an attempt at the platform: nothing was sent, and no attempt is recorded or used up.
            return JobTransition(
                status: .pending, attempt: nil, givesBackAttempt: true, nextAttemptAt: until, waitingFor: waitingFor,
                error: error)
        case .deferred(let at, let error):
            return JobTransition(
                status: .pending, attempt: .init(outcome: "deferred", error: error), givesBackAttempt: true,
                isDeferral: true, nextAttemptAt: at, error: error)
        case .unreachable(let at, let error):
            // Its integration's jobs are not claimed before the next check.
            return JobTransition(
                status: .pending, attempt: .init(outcome: "deferred", error: error), givesBackAttempt: true,
                isDeferral: true, nextAttemptAt: at, error: error,
                reachability: .unreachable(nextCheckAt: at, error))
        case .awaitingConnection(let error):
            // Not claimed while the integration is disconnected; the minute is a floor should it not be.
            return JobTransition(
                status: .pending, attempt: .init(outcome: "retry", error: error), givesBackAttempt: true,
                nextAttemptAt: ended.now.adding(.seconds(60)), error: error)
        case .awaitingPlatform(let message):
            // The platform answers when it next calls (or its file comes back): no lease is held meanwhile, and
            // nothing counts as an attempt until the reply is in.
            return JobTransition(
                status: .awaitingPlatform, attempt: nil, givesBackAttempt: true, error: nil, message: message)
        case .needsMapping(let error):
            // Parking is not a failed attempt: it does not use up the job's attempts.
            return JobTransition(
                status: .needsMapping, attempt: .init(outcome: "needs_mapping", error: error), givesBackAttempt: true,
                error: error, event: .syncNeedsMapping)
        }
    }

    /// What becomes of a running job whose lease expired (its worker died): the lost attempt is recorded as
    /// `abandoned` and counts; the job is claimed again (`running`), or, when that was its last attempt, is dead,
    /// reported in `sync.failed` and named to the jobs waiting for its record, as any dead job.
    public static func takeover(of job: Job) -> JobTransition {
        let abandoned = JobTransition.AttemptRecord(
            outcome: "abandoned",
            error: JobError(code: "lease_expired", message: "worker \(job.leaseOwner ?? "?") stopped"))
        guard job.attempts < job.maxAttempts else {
            return JobTransition(
                status: .dead, attempt: abandoned,
                error: JobError(code: "lease_expired", message: "its worker stopped on the last attempt"),
                event: .syncFailed, waitingJobs: .tell(didNotSync(job)))
        }
        return JobTransition(status: .running, attempt: abandoned)
    }

    /// Whether a record a job's record refers to is in the integration's books: linked (ready), or not yet and why,
    /// or sent by billing but with nothing queued (or only done) to put it there.
    public static func readiness(of dependency: DependencyFacts) -> DependencyReadiness {
        let reference = dependency.reference
        guard let recordID = dependency.recordID else {
            return .waiting(reason: "billing has not sent \(reference) yet")
        }
        if let remoteID = dependency.remoteID { return .ready(remoteID: remoteID) }
        guard let latest = dependency.latestJob else { return .unqueued(recordID: recordID) }
        switch latest.status {
        case .succeeded, .superseded:
            return .unqueued(recordID: recordID)
        case .held:
            return .waiting(reason: "\(reference) is held until a conflict is resolved")
        case .pending, .running:
            return .waiting(reason: "\(reference) is pushed first")
        case .awaitingPlatform:
            return .waiting(reason: "\(reference) is waiting for the platform's reply")
        case .needsMapping:
            return .waiting(reason: "\(reference) is waiting for a mapping")
        case .failed, .dead:
            return .waiting(reason: "\(reference) did not sync (job \(latest.id)); retry that job")
        }
    }

    /// What the jobs waiting for `job`'s record are told when it will not sync without a person.
    static func didNotSync(_ job: Job) -> JobError {
        JobError(
            code: "waiting_for_dependency",
            message: "\(job.recordType) \(job.localID) did not sync (job \(job.id)); retry that job")
    }
}
