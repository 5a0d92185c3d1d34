import Accounting
import SyncEngine
import Testing

@testable import Persistence

/// What each conflict policy does with a conflict it detects, and what each of a person's resolutions does.
@Suite struct ConflictPolicyTests {
    let earlier = Timestamp(secondsSinceEpoch: 1_000)
    let later = Timestamp(secondsSinceEpoch: 2_000)
    let billingWon = ConflictPlan(resolution: .useLocal, steps: [.rememberBooksVersion])
    let booksWon = ConflictPlan(
        resolution: .useRemote, steps: [.supersedePushes(upToVersion: 4), .takeBooksVersion(settlingVersion: 4)])

    @Test func manualHoldsTheRecordsPushesForAPerson() {
        let plan = Integration.ConflictPolicy.manual.plan(
            booksUpdatedAt: later, billingUpdatedAt: earlier, billingVersion: 4)
        #expect(plan == ConflictPlan(resolution: nil, steps: [.holdPendingPushes]))
    }

    @Test func billingWinsPushesBillingsVersionOverTheBooks() {
        let plan = Integration.ConflictPolicy.billingWins.plan(
            booksUpdatedAt: later, billingUpdatedAt: earlier, billingVersion: 4)
        #expect(plan == billingWon)
    }

    @Test func ledgerWinsTakesTheBooksVersionAndSupersedesBillingsPushes() {
        let plan = Integration.ConflictPolicy.ledgerWins.plan(
            booksUpdatedAt: earlier, billingUpdatedAt: later, billingVersion: 4)
        #expect(plan == booksWon)
    }

    @Test func lastModifiedWinsTakesTheNewerSideAndBillingOnATie() {
        let policy = Integration.ConflictPolicy.lastModifiedWins
        #expect(policy.plan(booksUpdatedAt: later, billingUpdatedAt: earlier, billingVersion: 4) == booksWon)
        #expect(policy.plan(booksUpdatedAt: earlier, billingUpdatedAt: later, billingVersion: 4) == billingWon)
        #expect(policy.plan(booksUpdatedAt: later, billingUpdatedAt: later, billingVersion: 4) == billingWon)
    }

    func held(status: Conflict.Status = .open) -> Conflict {
        let side = Conflict.Side(version: "4", updatedAt: earlier, data: [:])
        var conflict = Conflict(
            id: "cfl_1", tenantID: "school", integrationID: "int_1", recordID: "rec_1", recordType: "invoice",
            localID: "inv_1", remoteID: "31", policy: .manual, status: status, local: side, remote: side,
            resolution: nil, resolvedValues: nil, resolvedBy: nil, resolvedAt: nil, detectedAt: earlier)
        if status == .resolved { conflict.resolution = .useLocal }
        return conflict
    }

    @Test func useLocalReleasesTheHeldPushesOrQueuesOne() {
        let outcome = ConflictDecision.outcome(.init(conflict: held(), decision: .useLocal, version: 4))
        #expect(
            outcome
                == .resolved(
                    ConflictPlan(
                        resolution: .useLocal,
                        steps: [.rememberBooksVersion, .releaseHeldPushes, .pushIfNoneOpen(version: 4)])))
    }

    @Test func useRemoteSupersedesTheHeldPushesAndTakesTheBooksVersion() {
        let outcome = ConflictDecision.outcome(.init(conflict: held(), decision: .useRemote, version: 4))
        #expect(
            outcome
                == .resolved(
                    ConflictPlan(
                        resolution: .useRemote,
                        steps: [
                            .rememberBooksVersion, .supersedePushes(upToVersion: 4),
                            .takeBooksVersion(settlingVersion: 4),
                        ])))
    }

    @Test func customValuesBecomeBillingsNextVersion() {
        let decision = ConflictDecision.custom(values: ["total": "10"], data: ["total": "10"], baseVersion: 4)
        let outcome = ConflictDecision.outcome(.init(conflict: held(), decision: decision, version: 4))
        #expect(
            outcome
                == .resolved(
                    ConflictPlan(
                        resolution: .custom,
                        steps: [.rememberBooksVersion, .supersedePushes(upToVersion: 4), .writeVersion(5)])))
    }

    @Test func customValuesBasedOnAnOlderVersionAreRefused() {
        let decision = ConflictDecision.custom(values: ["total": "10"], data: ["total": "10"], baseVersion: 4)
        let outcome = ConflictDecision.outcome(.init(conflict: held(), decision: decision, version: 5))
        #expect(
            outcome
                == .refused(
                    "billing changed invoice inv_1 meanwhile (version 5); base the values on it and resolve again"))
    }

    @Test func aResolvedConflictIsNotResolvedAgain() {
        let outcome = ConflictDecision.outcome(
            .init(conflict: held(status: .resolved), decision: .useRemote, version: 4))
        #expect(outcome == .refused("conflict cfl_1 is already resolved (use_local)"))
    }
}
