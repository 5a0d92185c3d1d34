public import Accounting

/// What a full sync knows of one of billing's records on the page it examines. Plain data: the rule lives in the
/// engine.
public struct SyncPageRecordFacts: Sendable, Hashable {
    public var recordID: String
    public var recordType: RecordType
    /// Billing's current version.
    public var version: Int
    /// Billing's version the books hold (`nil`: never synced to this integration).
    public var syncedVersion: Int?
    /// The platform's id of the record (`nil`: not linked).
    public var remoteID: String?
    /// Billing's current version voids the record.
    public var isVoid: Bool
    /// A push of the current version is already queued (pending, running or waiting for a mapping).
    public var queued: Bool
    /// The platform's id the books were found not to hold for this record, when the full sync looked it up.
    public var lostRemoteID: String?

    public init(
        recordID: String, recordType: RecordType, version: Int, syncedVersion: Int?, remoteID: String?, isVoid: Bool,
        queued: Bool, lostRemoteID: String?
    ) {
        self.recordID = recordID
        self.recordType = recordType
        self.version = version
        self.syncedVersion = syncedVersion
        self.remoteID = remoteID
        self.isVoid = isVoid
        self.queued = queued
        self.lostRemoteID = lostRemoteID
    }
}

/// What a full sync does with one record: drop its link to the books (they no longer hold it) and push it (skipped
/// otherwise). A record whose link is dropped and that is pushed is pushed again as new.
public struct SyncPageRecordDecision: Sendable, Hashable {
    public var dropLink: Bool
    public var push: Bool

    public init(dropLink: Bool, push: Bool) {
        self.dropLink = dropLink
        self.push = push
    }
}
