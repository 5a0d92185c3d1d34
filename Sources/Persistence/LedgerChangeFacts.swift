public import Accounting

/// What Ledgerwire knows when it handles one change heard from the books: the change, and the record of billing's it
/// concerns, as read in the transaction that applies the decision. Plain data: the rules live in the engine.
public struct LedgerChangeFacts: Sendable {
    /// The record Ledgerwire linked to the books' record, and what it knows of both sides.
    public struct Link: Sendable, Hashable {
        public var recordID: String
        /// Billing's id of the record.
        public var localID: String
        /// The books' version last written or heard (`nil` on a platform without versions).
        public var remoteVersion: String?
        /// When the books' version last written or heard was made.
        public var remoteUpdatedAt: Timestamp?
        /// When Ledgerwire last wrote the record to the books.
        public var lastSyncedAt: Timestamp?
        /// Billing's version the books hold (last pushed, or settled by a change taken from the books).
        public var syncedVersion: Int
        /// Billing's current version.
        public var version: Int
        /// When billing last changed the record.
        public var updatedAt: Timestamp

        public init(
            recordID: String, localID: String, remoteVersion: String?, remoteUpdatedAt: Timestamp?,
            lastSyncedAt: Timestamp?, syncedVersion: Int, version: Int, updatedAt: Timestamp
        ) {
            self.recordID = recordID
            self.localID = localID
            self.remoteVersion = remoteVersion
            self.remoteUpdatedAt = remoteUpdatedAt
            self.lastSyncedAt = lastSyncedAt
            self.syncedVersion = syncedVersion
            self.version = version
            self.updatedAt = updatedAt
        }
    }

    /// One of billing's versions of the record, with billing's ids and codes in the integration's terms.
    public struct BillingVersion: Sendable {
        public var version: Int
        public var data: JSONValue
        public var translation: RecordMatch.Translation

        public init(version: Int, data: JSONValue, translation: RecordMatch.Translation) {
            self.version = version
            self.data = data
            self.translation = translation
        }
    }

    /// A record billing has no link to: which of billing's records it refers to.
    public struct Unlinked: Sendable, Hashable {
        /// Billing's ids of the invoices a payment is allocated to, of those linked to the books, in the books' order.
        public var invoiceIDs: [String]
        /// Billing's id of the invoice a credit note is for, when it is linked to the books.
        public var invoiceID: String?
        /// Billing's id of the customer the record is for, when it is linked to the books.
        public var customerID: String?
        /// An earlier change of the same record was taken.
        public var heardBefore: Bool

        public init(invoiceIDs: [String] = [], invoiceID: String? = nil, customerID: String? = nil, heardBefore: Bool) {
            self.invoiceIDs = invoiceIDs
            self.invoiceID = invoiceID
            self.customerID = customerID
            self.heardBefore = heardBefore
        }
    }

    /// The record type as the books' record was heard (`invoice`, `payment`, …).
    public var recordType: String
    /// The books' version heard: the platform's version, or `at:<microseconds>` on a platform without versions.
    public var remoteVersion: String
    public var remoteUpdatedAt: Timestamp
    public var deleted: Bool
    /// The books' record, in canonical form.
    public var data: JSONValue
    /// `nil`: billing has no record linked to it.
    public var link: Link?
    /// For a record billing has no link to: what of billing's it refers to (`nil` when it is linked).
    public var unlinked: Unlinked?
    /// A push of the linked record to this integration is running now.
    public var pushInFlight: Bool
    public var conflictPolicy: Integration.ConflictPolicy
    /// Billing's versions the books' version is compared with, oldest first (a version that cannot be read is
    /// left out): `nil` until the decision asks for them (``LedgerChangeDecision/compare(versions:)``).
    public var billingVersions: [BillingVersion]?

    public init(
        recordType: String, remoteVersion: String, remoteUpdatedAt: Timestamp, deleted: Bool, data: JSONValue,
        link: Link?, unlinked: Unlinked? = nil, pushInFlight: Bool, conflictPolicy: Integration.ConflictPolicy,
        billingVersions: [BillingVersion]? = nil
    ) {
        self.recordType = recordType
        self.remoteVersion = remoteVersion
        self.remoteUpdatedAt = remoteUpdatedAt
        self.deleted = deleted
        self.data = data
        self.link = link
        self.unlinked = unlinked
        self.pushInFlight = pushInFlight
        self.conflictPolicy = conflictPolicy
        self.billingVersions = billingVersions
    }
}

/// What a change heard from the books is, and so what Persistence does with it.
public enum LedgerChangeDecision: Sendable, Hashable {
    /// A push of the record is in flight: the change waits for its outcome, and the record's later changes with it.
    case wait
    /// Ledgerwire's own write heard back: ignored.
    case echo
    /// Older than the books' version already known: ignored.
    case stale
    /// Ask again with billing's `versions` read into ``LedgerChangeFacts/billingVersions``.
    case compare(versions: [Int])
    /// The books' version says nothing billing's `version` does not: the link remembers it, and nobody is told.
    case agrees(version: Int)
    /// The books' version is the record's newest state: the link remembers it, and billing is told.
    case take
    /// Billing changed the record since its last sync too: a conflict, stored with both versions, and what the
    /// integration's policy does about it.
    case conflict(ConflictPlan)
    /// A record billing has no link to that concerns billing's records: taken, and billing told with `event` when
    /// there is one (`change`: `created`, `updated` or `deleted`).
    case report(EventType?, change: String)
    /// A record billing has no link to that refers to nothing billing knows.
    case unmatched
}

/// What deciding a conflict does: the resolution (`nil`: held for a person), and its steps, applied in order in the
/// transaction that records the decision.
public struct ConflictPlan: Sendable, Hashable {
    public var resolution: Conflict.Resolution?
    public var steps: [ConflictStep]

    public init(resolution: Conflict.Resolution?, steps: [ConflictStep]) {
        self.resolution = resolution
        self.steps = steps
    }
}

/// One thing deciding a conflict does to the record in the integration.
public enum ConflictStep: Sendable, Hashable {
    /// The record's pending pushes to the integration are held until a person resolves the conflict.
    case holdPendingPushes
    /// The link remembers the books' version of the conflict, so the next push names it (QuickBooks' `SyncToken`).
    case rememberBooksVersion
    /// The held pushes go now.
    case releaseHeldPushes
    /// A push of billing's `version` (its current one) is queued when none is open (pending, running or waiting for
    /// a mapping).
    case pushIfNoneOpen(version: Int)
    /// Billing's versions up to `upToVersion` are not pushed to the integration: the books' version won.
    case supersedePushes(upToVersion: Int)
    /// The books' version is taken as the record's newest state, settling billing's `settlingVersion`, and billing
    /// is told.
    case takeBooksVersion(settlingVersion: Int)
    /// The person's values become billing's version `version`, pushed to every integration of the tenant.
    case writeVersion(Int)
}

/// A person's resolution of a conflict, with what it is decided against.
public struct ConflictResolutionFacts: Sendable, Hashable {
    public var conflict: Conflict
    public var decision: ConflictDecision
    /// Billing's current version of the record.
    public var version: Int

    public init(conflict: Conflict, decision: ConflictDecision, version: Int) {
        self.conflict = conflict
        self.decision = decision
        self.version = version
    }
}

/// What a person's resolution of a conflict does.
public enum ConflictResolutionOutcome: Sendable, Hashable {
    /// The resolution is refused, and why (shown to the person).
    case refused(String)
    /// The conflict is resolved with `plan.resolution`, and the plan's steps are applied.
    case resolved(ConflictPlan)
}
