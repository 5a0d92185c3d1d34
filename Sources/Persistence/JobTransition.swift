public import Accounting

/// What is known when a job's attempt ends: the job as it is in the queue (still running, under its worker's lease),
/// how the attempt ended, and, when it ended waiting for a record, where that record stands now. Read by
/// `AppDatabase.finishJob` inside the transaction that applies the `JobTransition` decided from it.
public struct FinishedAttempt: Sendable, Hashable {
    /// The job, with the attempt this claim counted in `attempts`.
    public var job: Job
    public var outcome: JobOutcome
    public var now: Timestamp
    /// For a `waiting` outcome: where the record waited for stands now (`nil` when nothing is known of it).
    public var awaited: AwaitedRecord?
    /// For a success: billing's id of another record of the job's type already linked to the same record in the
    /// integration's books (two creates adopted one record at once), or `nil`.
    public var linkedElsewhere: String?

    public init(
        job: Job, outcome: JobOutcome, now: Timestamp, awaited: AwaitedRecord? = nil, linkedElsewhere: String? = nil
    ) {
        self.job = job
        self.outcome = outcome
        self.now = now
        self.awaited = awaited
        self.linkedElsewhere = linkedElsewhere
    }
}

/// Where a record a job waits for stands, as read when the job's attempt ends.
public enum AwaitedRecord: Sendable, Hashable {
    /// The latest job putting it in this integration's books.
    case latestJob(id: String, status: Job.Status, recordType: String, localID: String)
    /// Billing had not sent it when the attempt looked, and has sent it since.
    case sentByBilling
}

/// What happens to a job whose attempt ended (or whose worker's lease ran out), as the engine's job state machine
/// decides it; `AppDatabase` applies it in the transaction that read the facts.
public struct JobTransition: Sendable, Hashable {
    /// An attempt as its record keeps it.
    public struct AttemptRecord: Sendable, Hashable {
        /// `succeeded`, `retry`, `failed`, `dead`, `deferred`, `needs_mapping`, `abandoned`.
        public var outcome: String
        public var error: JobError?

        public init(outcome: String, error: JobError? = nil) {
            self.outcome = outcome
            self.error = error
        }
    }

    /// What becomes of the jobs of the same integration waiting for this job's record.
    public enum WaitingJobs: Sendable, Hashable {
        /// The record is in the books: they go now.
        case wake
        /// The record will not be in the books without a person: they say so (their error becomes this one).
        case tell(JobError)
    }

    /// What is learnt of the integration's platform.
    public enum Reachability: Sendable, Hashable {
        /// It answered: an outage, if there was one, is over.
        case reachable
        /// It could not be reached: its jobs are not claimed before `nextCheckAt` (the earliest any of them was
        /// given), and the integration shows `error` from now.
        case unreachable(nextCheckAt: Timestamp, JobError)
    }

    /// The job's new status. `running` (only when a lease ran out) means it is claimed again by the new worker.
    public var status: Job.Status
    /// The attempt record this leaves; `nil` leaves none (looking for a dependency is not an attempt).
    public var attempt: AttemptRecord?
    /// Whether the attempt the claim counted is given back: nothing was tried at the platform.
    public var givesBackAttempt: Bool
    /// Whether the platform turned the job away without doing anything (counted in `deferrals`).
    public var isDeferral: Bool
    /// When a pending job is due again; `nil` keeps the time it had.
    public var nextAttemptAt: Timestamp?
    /// The record (or `AppDatabase.waitKey(unsent:)`) whose sync wakes the pending job.
    public var waitingFor: String?
    /// The job's last error (`nil` clears it).
    public var error: JobError?
    /// On success: the record is linked to the platform's id and version (a `nil` keeps the one the link had).
    public var synced: RemoteRecordVersion?
    /// `sync.failed` or `sync.needs_mapping`, with the job's new status.
    public var event: EventType?
    public var waitingJobs: WaitingJobs?
    public var reachability: Reachability?
    /// For a job awaiting its platform: the message journalled for the platform to fetch (`nil`: none new). Any other
    /// status ends the job's conversation: its journalled messages are closed.
    public var message: PlatformMessage?

    public init(
        status: Job.Status,
        attempt: AttemptRecord?,
        givesBackAttempt: Bool = false,
        isDeferral: Bool = false,
        nextAttemptAt: Timestamp? = nil,
        waitingFor: String? = nil,
        error: JobError? = nil,
        synced: RemoteRecordVersion? = nil,
        event: EventType? = nil,
        waitingJobs: WaitingJobs? = nil,
        reachability: Reachability? = nil,
        message: PlatformMessage? = nil
    ) {
        self.status = status
        self.attempt = attempt
        self.givesBackAttempt = givesBackAttempt
        self.isDeferral = isDeferral
        self.nextAttemptAt = nextAttemptAt
        self.waitingFor = waitingFor
        self.error = error
        self.synced = synced
        self.event = event
        self.waitingJobs = waitingJobs
        self.reachability = reachability
        self.message = message
    }
}

/// The platform's id and version of a record after a write (either may be unknown).
public struct RemoteRecordVersion: Sendable, Hashable {
    public var remoteID: String?
    public var remoteVersion: String?

    public init(remoteID: String?, remoteVersion: String?) {
        self.remoteID = remoteID
        self.remoteVersion = remoteVersion
    }
}

/// What is known of a record a job's record refers to, for the readiness rule: whether billing has sent it, whether
/// it is linked in the integration's books, and the status of the latest job putting it there.
public struct DependencyFacts: Sendable, Hashable {
    /// A job of the referenced record.
    public struct LatestJob: Sendable, Hashable {
        public var id: String
        public var status: Job.Status

        public init(id: String, status: Job.Status) {
            self.id = id
            self.status = status
        }
    }

    public var reference: RecordReference
    /// Billing's record of it; `nil` when billing has not sent it.
    public var recordID: String?
    /// The platform's id of it in the integration's books, when it is linked.
    public var remoteID: String?
    /// The latest job of it for the integration.
    public var latestJob: LatestJob?

    public init(reference: RecordReference, recordID: String?, remoteID: String? = nil, latestJob: LatestJob? = nil) {
        self.reference = reference
        self.recordID = recordID
        self.remoteID = remoteID
        self.latestJob = latestJob
    }
}

/// Whether one referenced record is in the integration's books, as the readiness rule decides it.
public enum DependencyReadiness: Sendable, Hashable {
    /// It is: its platform id.
    case ready(remoteID: String)
    /// It is not yet, for `reason`.
    case waiting(reason: String)
    /// Billing has the record (`recordID`) but nothing is queued to put it in this integration's books: it is
    /// queued now.
    case unqueued(recordID: String)
}

/// An attempt's end as submitted to the store's group commit of finished jobs (`AppDatabase.finishJob`).
struct FinishingJob: Sendable {
    let claimed: ClaimedJob
    let worker: String
    let outcome: JobOutcome
    let now: Timestamp
    let decide: @Sendable (FinishedAttempt) -> JobTransition
}
