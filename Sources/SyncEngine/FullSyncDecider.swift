public import Persistence

/// Which records a full sync pushes. A record the books hold at its current version, or that a push is already
/// queued for, is skipped. A linked record the books no longer hold (the company was reset, or it was deleted there)
/// has its link dropped and is pushed again as new, except a void: there is nothing left to void, as there is
/// nothing to void for a record never synced.
public enum FullSyncDecider {
    @Sendable public static func decide(_ record: SyncPageRecordFacts) -> SyncPageRecordDecision {
        let dropLink = record.remoteID != nil && record.lostRemoteID == record.remoteID
        let synced = !dropLink && (record.syncedVersion.map { $0 >= record.version } ?? false)
        let neverSyncedVoid = record.isVoid && (record.remoteID == nil || dropLink)
        return SyncPageRecordDecision(dropLink: dropLink, push: !(synced || neverSyncedVoid || record.queued))
    }
}
