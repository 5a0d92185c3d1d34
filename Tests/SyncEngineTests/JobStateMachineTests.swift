import Accounting
import SyncEngine
import Testing

@testable import Persistence

/// The job state machine's rules, each from facts alone: no database.
@Suite struct JobStateMachineTests {
    let now = Timestamp(secondsSinceEpoch: 1_795_000_000)
    let later = Timestamp(secondsSinceEpoch: 1_795_000_090)
    let busy = JobError(code: "http_503", message: "Service Unavailable")

    /// A running invoice job on its `attempts`th attempt of 3.
    func job(attempts: Int = 1, deferrals: Int = 0) -> Job {
        Job(
            id: "job_1", integrationID: "int_1", tenantID: "school", kind: "push", recordID: "rec_1",
            recordType: "invoice", localID: "inv_1", version: 1, status: .running, attempts: attempts, maxAttempts: 3,
            deferrals: deferrals, nextAttemptAt: now, leaseOwner: "w1", leaseExpiresAt: now.adding(.seconds(60)),
            lastError: nil, remoteID: nil, createdAt: now, updatedAt: now)
    }

    func transition(_ outcome: JobOutcome, attempts: Int = 1, awaited: AwaitedRecord? = nil) -> JobTransition {
        JobStateMachine.transition(
            for: FinishedAttempt(job: job(attempts: attempts), outcome: outcome, now: now, awaited: awaited))
    }

    @Test func aSuccessSettlesTheJobLinksItsRecordWakesItsWaitersAndEndsAnOutage() {
        let change = transition(.succeeded(remoteID: "130", remoteVersion: "0"))
        #expect(change.status == .succeeded && change.error == nil)
        #expect(change.attempt == .init(outcome: "succeeded"))
        #expect(!change.givesBackAttempt && !change.isDeferral)
        #expect(change.synced == RemoteRecordVersion(remoteID: "130", remoteVersion: "0"))
        #expect(change.waitingJobs == .wake && change.reachability == .reachable && change.event == nil)
    }

    @Test func aSuccessOnARecordAnotherBillingRecordHoldsIsRetriedNotLinked() {
        let change = JobStateMachine.transition(
            for: FinishedAttempt(
                job: job(attempts: 1), outcome: .succeeded(remoteID: "58", remoteVersion: "0"), now: now,
                linkedElsewhere: "inv_2"))
        let taken = JobError(
            code: "already_linked", message: "the books' record 58 is invoice inv_2's; this one is made anew")
        #expect(change.status == .pending && change.nextAttemptAt == now && change.error == taken)
        #expect(change.synced == nil && change.waitingJobs == nil)
        #expect(change.attempt == .init(outcome: "retry", error: taken))
        // On the last attempt it is dead, as any retry would be.
        let last = JobStateMachine.transition(
            for: FinishedAttempt(
                job: job(attempts: 3), outcome: .succeeded(remoteID: "58", remoteVersion: "0"), now: now,
                linkedElsewhere: "inv_2"))
        #expect(last.status == .dead && last.synced == nil)
    }

    @Test func aRetryBeforeTheLastAttemptIsPendingAtItsTimeAndUsesTheAttempt() {
        let change = transition(.retry(at: later, busy), attempts: 2)
        #expect(change.status == .pending && change.nextAttemptAt == later && change.error == busy)
        #expect(change.attempt == .init(outcome: "retry", error: busy))
        #expect(!change.givesBackAttempt && !change.isDeferral)
        #expect(change.event == nil && change.waitingJobs == nil && change.reachability == nil)
    }

    @Test func aRetryOnTheLastAttemptIsDeadReportedAndNamedToItsWaiters() {
        let change = transition(.retry(at: later, busy), attempts: 3)
        #expect(change.status == .dead && change.error == busy && change.nextAttemptAt == nil)
        #expect(change.attempt == .init(outcome: "dead", error: busy))
        #expect(change.event == .syncFailed)
        #expect(
            change.waitingJobs
                == .tell(
                    JobError(
                        code: "waiting_for_dependency",
                        message: "invoice inv_1 did not sync (job job_1); retry that job")))
    }

    @Test func aRefusalFailsAtOnceReportedAndNamedToItsWaiters() {
        let refused = JobError(code: "validation", message: "Amount is required")
        let change = transition(.failed(refused))
        #expect(change.status == .failed && change.error == refused)
        #expect(change.attempt == .init(outcome: "failed", error: refused))
        #expect(!change.givesBackAttempt && change.event == .syncFailed)
        #expect(
            change.waitingJobs
                == .tell(
                    JobError(
                        code: "waiting_for_dependency",
                        message: "invoice inv_1 did not sync (job job_1); retry that job")))
    }

    let pushedFirst = JobError(code: "waiting_for_dependency", message: "customer cus_1 is pushed first")

    @Test func waitingForADependencyIsNoAttemptAndWaitsForItsRecord() {
        let change = transition(.waiting(until: later, waitingFor: "rec_cus", pushedFirst))
        #expect(change.status == .pending && change.nextAttemptAt == later && change.waitingFor == "rec_cus")
        #expect(change.attempt == nil, "no attempt is recorded")
        #expect(change.givesBackAttempt && !change.isDeferral)
        #expect(change.error == pushedFirst && change.event == nil && change.waitingJobs == nil)
    }

    @Test func waitingForARecordStillBeingPushedKeepsTheWait() {
        let awaited = AwaitedRecord.latestJob(id: "job_c", status: .running, recordType: "customer", localID: "cus_1")
        let change = transition(.waiting(until: later, waitingFor: "rec_cus", pushedFirst), awaited: awaited)
        #expect(change.nextAttemptAt == later && change.error == pushedFirst)
    }

    @Test func waitingForARecordSyncedMeanwhileGoesNow() {
        let awaited = AwaitedRecord.latestJob(id: "job_c", status: .succeeded, recordType: "customer", localID: "cus_1")
        let change = transition(.waiting(until: later, waitingFor: "rec_cus", pushedFirst), awaited: awaited)
        #expect(change.status == .pending && change.nextAttemptAt == now && change.waitingFor == "rec_cus")
        #expect(change.givesBackAttempt && change.attempt == nil)
    }

    @Test(arguments: [Job.Status.failed, .dead])
    func waitingForARecordWhoseJobFailedNamesThatJob(status: Job.Status) {
        let awaited = AwaitedRecord.latestJob(id: "job_c", status: status, recordType: "customer", localID: "cus_1")
        let change = transition(.waiting(until: later, waitingFor: "rec_cus", pushedFirst), awaited: awaited)
        #expect(change.nextAttemptAt == later && change.status == .pending)
        #expect(
            change.error
                == JobError(
                    code: "waiting_for_dependency", message: "customer cus_1 did not sync (job job_c); retry that job"))
    }

    @Test func waitingForARecordBillingHasNotSentWaitsForIt() {
        let unsent = AppDatabase.waitKey(unsent: RecordReference(.customer, "cus_1"))
        let notSent = JobError(code: "waiting_for_dependency", message: "billing has not sent customer cus_1 yet")
        let change = transition(.waiting(until: later, waitingFor: unsent, notSent))
        #expect(change.nextAttemptAt == later && change.waitingFor == unsent && change.error == notSent)
    }

    @Test func waitingForARecordBillingSentMeanwhileGoesNow() {
        let unsent = AppDatabase.waitKey(unsent: RecordReference(.customer, "cus_1"))
        let notSent = JobError(code: "waiting_for_dependency", message: "billing has not sent customer cus_1 yet")
        let change = transition(.waiting(until: later, waitingFor: unsent, notSent), awaited: .sentByBilling)
        #expect(change.nextAttemptAt == now && change.waitingFor == unsent && change.givesBackAttempt)
    }

    @Test func aBusyPlatformDefersTheJobWithoutUsingAnAttempt() {
        let change = transition(.deferred(at: later, busy), attempts: 3)
        #expect(change.status == .pending && change.nextAttemptAt == later && change.error == busy)
        #expect(change.attempt == .init(outcome: "deferred", error: busy))
        #expect(change.givesBackAttempt && change.isDeferral)
        #expect(change.reachability == nil && change.event == nil)
    }

    @Test func anUnreachablePlatformDefersTheJobAndHoldsItsIntegrationUntilTheNextCheck() {
        let refused = JobError(code: "unreachable", message: "connection refused")
        let change = transition(.unreachable(at: later, refused), attempts: 3)
        #expect(change.status == .pending && change.nextAttemptAt == later)
        #expect(change.attempt == .init(outcome: "deferred", error: refused))
        #expect(change.givesBackAttempt && change.isDeferral)
        #expect(change.reachability == .unreachable(nextCheckAt: later, refused))
    }

    @Test func refusedCredentialsAwaitTheConnectionWithoutUsingAnAttempt() {
        let refused = JobError(code: "credentials_refused", message: "invalid_grant")
        let change = transition(.awaitingConnection(refused), attempts: 3)
        #expect(change.status == .pending && change.nextAttemptAt == now.adding(.seconds(60)))
        #expect(change.attempt == .init(outcome: "retry", error: refused))
        #expect(change.givesBackAttempt && !change.isDeferral && change.event == nil)
    }

    @Test func aMissingMappingParksTheJobReportedWithoutUsingAnAttempt() {
        let unmapped = JobError(
            code: "unmapped_account", message: "account 4000 is not mapped", missing: [.init(.account, "4000")])
        let change = transition(.needsMapping(unmapped), attempts: 3)
        #expect(change.status == .needsMapping && change.error == unmapped && change.nextAttemptAt == nil)
        #expect(change.attempt == .init(outcome: "needs_mapping", error: unmapped))
        #expect(change.givesBackAttempt && change.event == .syncNeedsMapping && change.waitingJobs == nil)
    }

    @Test func aMessageToAMailboxPlatformAwaitsItsReplyWithoutAnAttemptOrALease() {
        let message = PlatformMessage(contentType: "application/json", body: #"{"op":"add_customer"}"#)
        let change = transition(.awaitingPlatform(message), attempts: 3)
        #expect(change.status == .awaitingPlatform && change.message == message)
        // Not an attempt (none recorded, the claim's given back), and not dead on the last one.
        #expect(change.attempt == nil && change.givesBackAttempt && !change.isDeferral)
        #expect(change.error == nil && change.event == nil && change.waitingJobs == nil && change.synced == nil)
        // Waiting again on a message already in the mailbox journals nothing new.
        #expect(transition(.awaitingPlatform(nil)).message == nil)
        #expect(transition(.awaitingPlatform(nil)).status == .awaitingPlatform)
    }

    @Test func anExpiredLeaseRecordsTheLostAttemptAndClaimsTheJobAgain() {
        let change = JobStateMachine.takeover(of: job(attempts: 2))
        #expect(change.status == .running)
        #expect(
            change.attempt
                == .init(outcome: "abandoned", error: JobError(code: "lease_expired", message: "worker w1 stopped")))
        #expect(!change.givesBackAttempt && change.event == nil)
    }

    @Test func anExpiredLeaseOnTheLastAttemptMakesTheJobDeadReportedAndNamedToItsWaiters() {
        let change = JobStateMachine.takeover(of: job(attempts: 3))
        #expect(change.status == .dead)
        #expect(
            change.attempt
                == .init(outcome: "abandoned", error: JobError(code: "lease_expired", message: "worker w1 stopped")))
        #expect(change.error == JobError(code: "lease_expired", message: "its worker stopped on the last attempt"))
        // Dead like any other: reported, and named to the jobs waiting for its record.
        #expect(change.event == .syncFailed)
        #expect(
            change.waitingJobs
                == .tell(
                    JobError(
                        code: "waiting_for_dependency",
                        message: "invoice inv_1 did not sync (job job_1); retry that job")))
    }

    static let readiness: [(Job.Status, DependencyReadiness)] = [
        (.pending, .waiting(reason: "customer cus_1 is pushed first")),
        (.running, .waiting(reason: "customer cus_1 is pushed first")),
        (.succeeded, .unqueued(recordID: "rec_cus")),
        (.failed, .waiting(reason: "customer cus_1 did not sync (job job_c); retry that job")),
        (.needsMapping, .waiting(reason: "customer cus_1 is waiting for a mapping")),
        (.dead, .waiting(reason: "customer cus_1 did not sync (job job_c); retry that job")),
        (.held, .waiting(reason: "customer cus_1 is held until a conflict is resolved")),
        (.superseded, .unqueued(recordID: "rec_cus")),
        (.awaitingPlatform, .waiting(reason: "customer cus_1 is waiting for the platform's reply")),
    ]

    @Test func readinessCoversEveryJobStatus() {
        #expect(Set(Self.readiness.map(\.0)) == Set(Job.Status.allCases))
    }

    @Test(arguments: readiness)
    func aDependencyNotInTheBooksIsReadyByItsLatestJob(status: Job.Status, expected: DependencyReadiness) {
        let facts = DependencyFacts(
            reference: RecordReference(.customer, "cus_1"), recordID: "rec_cus",
            latestJob: .init(id: "job_c", status: status))
        #expect(JobStateMachine.readiness(of: facts) == expected)
    }

    @Test func aDependencyInTheBooksIsReadyWithItsPlatformIDWhateverItsJobs() {
        let facts = DependencyFacts(
            reference: RecordReference(.customer, "cus_1"), recordID: "rec_cus", remoteID: "58",
            latestJob: .init(id: "job_c", status: .failed))
        #expect(JobStateMachine.readiness(of: facts) == .ready(remoteID: "58"))
    }

    @Test func aDependencyNeverQueuedForTheIntegrationIsQueued() {
        let facts = DependencyFacts(reference: RecordReference(.customer, "cus_1"), recordID: "rec_cus")
        #expect(JobStateMachine.readiness(of: facts) == .unqueued(recordID: "rec_cus"))
    }

    @Test func aDependencyBillingHasNotSentIsWaitedFor() {
        let facts = DependencyFacts(reference: RecordReference(.customer, "cus_1"), recordID: nil)
        #expect(JobStateMachine.readiness(of: facts) == .waiting(reason: "billing has not sent customer cus_1 yet"))
    }
}
