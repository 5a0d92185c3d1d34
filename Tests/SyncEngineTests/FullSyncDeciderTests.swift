import Accounting
import Persistence
import SyncEngine
import Testing

/// Which records a full sync pushes again and which it skips, decided from the facts alone: no database.
@Suite struct FullSyncDeciderTests {
    /// Billing's invoice at `version`, synced at `syncedVersion` as the books' `remoteID`.
    func record(
        version: Int = 2, syncedVersion: Int? = 2, remoteID: String? = "31", isVoid: Bool = false,
        queued: Bool = false, lost: String? = nil
    ) -> SyncPageRecordFacts {
        SyncPageRecordFacts(
            recordID: "rec_1", recordType: .invoice, version: version, syncedVersion: syncedVersion,
            remoteID: remoteID, isVoid: isVoid, queued: queued, lostRemoteID: lost)
    }

    let skip = SyncPageRecordDecision(dropLink: false, push: false)
    let push = SyncPageRecordDecision(dropLink: false, push: true)

    @Test func aRecordTheBooksHoldAtItsCurrentVersionIsSkipped() {
        #expect(FullSyncDecider.decide(record()) == skip)
        #expect(FullSyncDecider.decide(record(syncedVersion: 3)) == skip)
    }

    @Test func aRecordNeverSyncedOrSyncedAtAnOlderVersionIsPushed() {
        #expect(FullSyncDecider.decide(record(syncedVersion: nil, remoteID: nil)) == push)
        #expect(FullSyncDecider.decide(record(syncedVersion: 1)) == push)
    }

    @Test func aRecordWithAPushAlreadyQueuedIsSkipped() {
        #expect(FullSyncDecider.decide(record(syncedVersion: 1, queued: true)) == skip)
    }

    @Test func aVoidNeverSyncedIsSkippedButAVoidOfASyncedRecordIsPushed() {
        #expect(FullSyncDecider.decide(record(syncedVersion: nil, remoteID: nil, isVoid: true)) == skip)
        #expect(FullSyncDecider.decide(record(version: 3, isVoid: true)) == push)
    }

    @Test func aLinkTheBooksNoLongerHoldIsDroppedAndTheRecordPushedAsNew() {
        #expect(FullSyncDecider.decide(record(lost: "31")) == SyncPageRecordDecision(dropLink: true, push: true))
    }

    @Test func aLostVoidHasItsLinkDroppedAndIsNotPushed() {
        #expect(
            FullSyncDecider.decide(record(isVoid: true, lost: "31"))
                == SyncPageRecordDecision(dropLink: true, push: false))
    }

    /// The books no longer hold an id the link has since moved from (the record was pushed again meanwhile).
    @Test func aLostIdThatIsNoLongerTheLinksIsIgnored() {
        #expect(FullSyncDecider.decide(record(lost: "30")) == skip)
    }
}
