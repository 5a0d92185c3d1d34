public import Accounting
import GRDB

/// One record version to push to one integration, as the sync engine's queue holds it.
public struct Job: Sendable, Hashable {
    public enum Status: String, Sendable, Hashable, CaseIterable {
        case pending
        case running
        case succeeded
        /// The platform refused it (validation): not retried until a person asks.
        case failed
        /// A code it needs is not mapped: parked, and resumed when the mapping is saved.
        case needsMapping = "needs_mapping"
        /// Every attempt failed: kept, listed, retried only when a person asks.
        case dead
        /// Its record has an open conflict under the `manual` policy: it waits for a person's resolution.
        case held
        /// A conflict was decided for the books' version: this version of billing's record is not pushed.
        case superseded
        /// Its message is in the platform's mailbox (a platform that calls Ledgerwire, or a file to exchange): it
        /// holds no lease and uses no attempt until the platform's reply wakes it.
        case awaitingPlatform = "awaiting_platform"
    }

    public var id: String
    public var integrationID: String
    public var tenantID: String
    public var kind: String
    public var recordID: String
    public var recordType: String
    public var localID: String
    public var version: Int
    public var status: Status
    public var attempts: Int
    public var maxAttempts: Int
    /// Times the platform turned the job away without doing anything (throttling, maintenance); not attempts.
    public var deferrals: Int
    public var nextAttemptAt: Timestamp
    public var leaseOwner: String?
    public var leaseExpiresAt: Timestamp?
    public var lastError: JobError?
    public var remoteID: String?
    public var createdAt: Timestamp
    public var updatedAt: Timestamp
    /// The full sync that queued it, if one did (`nil`: billing's event, a replay, a person's retry).
    public var operationID: String? = nil

    /// What the platform is given as its idempotency key for this job's write: the same on every attempt and after
    /// a takeover, so a write that landed before a crash or timeout is not made twice.
    public var idempotencyKey: String { id }
}

/// Why a job's last attempt did not succeed.
public struct JobError: Sendable, Hashable {
    /// A stable machine-readable code: `http_503`, `rate_limited`, `validation`, `unmapped_account`, …
    public var code: String
    /// The platform's own message where there is one.
    public var message: String
    /// For a job parked as `needs_mapping` (an `unmapped…` code): every billing code it waits for.
    public var missing: [CodeMappings.Missing]

    public init(code: String, message: String, missing: [CodeMappings.Missing] = []) {
        self.code = code
        self.message = message
        self.missing = missing
    }

    /// `{code, message}`, and `missing[{kind, code}]` when codes are waited for.
    public var json: JSONValue {
        var members: [String: JSONValue] = ["code": .string(code), "message": .string(message)]
        if !missing.isEmpty { members["missing"] = .array(missing.map(\.json)) }
        return .object(members)
    }
}

/// A job claimed by a worker, with what it needs to run: the record's data at the job's version.
public struct ClaimedJob: Sendable {
    public var job: Job
    /// The version's action: an upsert, or a void.
    public var action: SyncCommand.Action
    public var data: JSONValue
    /// The platform's id of the record, when it was pushed before.
    public var remoteID: String?
    /// The platform's version of the record as last known (written by us, or heard from the platform).
    public var remoteVersion: String?
    /// When this attempt started (for its attempt record).
    public var startedAt: Timestamp
}

/// How an attempt ended.
public enum JobOutcome: Sendable, Hashable {
    /// The platform's id and version of the record after the write (the version recognises the write's echo).
    case succeeded(remoteID: String?, remoteVersion: String?)
    /// Try again at `at` (unless that was the last attempt: then the job is dead).
    case retry(at: Timestamp, JobError)
    /// The platform turned the job away without doing anything (throttled, in maintenance): pending again at `at`
    /// without using up an attempt; counted in the job's `deferrals`.
    case deferred(at: Timestamp, JobError)
    /// The platform could not be reached and nothing was sent: pending again at `at` without using up an attempt
    /// (counted in `deferrals`), and the integration shown as unreachable until a call succeeds.
    case unreachable(at: Timestamp, JobError)
    case failed(JobError)
    case needsMapping(JobError)
    /// A record it refers to is not in the books yet: pending again without using up an attempt, at `until` or
    /// as soon as `waitingFor` (a record id) is synced, whichever comes first.
    case waiting(until: Timestamp, waitingFor: String?, JobError)
    /// The integration's credentials were refused: pending again without using up an attempt, claimed once the
    /// integration is connected again.
    case awaitingConnection(JobError)
    /// The connector's conversation with a mailbox platform waits for the platform's reply: `message` goes into the
    /// job's journal (`nil`: the message is already there, unanswered). Not an attempt; no lease is held.
    case awaitingPlatform(PlatformMessage?)
}

/// One attempt of a job, as recorded.
public struct JobAttempt: Sendable, Hashable {
    public var attempt: Int
    public var worker: String
    public var startedAt: Timestamp
    public var finishedAt: Timestamp
    public var outcome: String
    public var error: JobError?
}

extension Job {
    init(row: Row) {
        let code: String? = row["last_error_code"]
        self.init(
            id: row["id"],
            integrationID: row["integration_id"],
            tenantID: row["tenant_id"],
            kind: row["kind"],
            recordID: row["record_id"],
            recordType: row["record_type"],
            localID: row["local_id"],
            version: row["version"],
            status: Status(rawValue: row["status"]) ?? .pending,
            attempts: row["attempts"],
            maxAttempts: row["max_attempts"],
            deferrals: row["deferrals"],
            nextAttemptAt: Timestamp(microsecondsSinceEpoch: row["next_attempt_at"]),
            leaseOwner: row["lease_owner"],
            leaseExpiresAt: (row["lease_expires_at"] as Int64?).map(Timestamp.init(microsecondsSinceEpoch:)),
            lastError: code.map {
                JobError(
                    code: $0, message: row["last_error_message"] ?? "",
                    missing: $0.hasPrefix("unmapped") ? Self.missing(row["last_error_missing"]) : [])
            },
            remoteID: row["remote_id"],
            createdAt: Timestamp(rfc3339: row["created_at"]) ?? Timestamp(microsecondsSinceEpoch: 0),
            updatedAt: Timestamp(rfc3339: row["updated_at"]) ?? Timestamp(microsecondsSinceEpoch: 0),
            operationID: row.hasColumn("operation_id") ? row["operation_id"] : nil
        )
    }
}

extension Job {
    /// The columns `init(selected:)` reads, in its order: a hot query selects these and the row is read by position,
    /// not by name.
    static let columns = """
        id, integration_id, tenant_id, kind, record_id, record_type, local_id, version, status, attempts, \
        max_attempts, deferrals, next_attempt_at, lease_owner, lease_expires_at, last_error_code, last_error_message, \
        last_error_missing, remote_id, created_at, updated_at, operation_id
        """

    /// A job from a row of `columns`.
    init(selected row: Row) {
        let code: String? = row[15]
        self.init(
            id: row[0], integrationID: row[1], tenantID: row[2], kind: row[3], recordID: row[4], recordType: row[5],
            localID: row[6], version: row[7], status: Status(rawValue: row[8]) ?? .pending, attempts: row[9],
            maxAttempts: row[10], deferrals: row[11], nextAttemptAt: Timestamp(microsecondsSinceEpoch: row[12]),
            leaseOwner: row[13], leaseExpiresAt: (row[14] as Int64?).map(Timestamp.init(microsecondsSinceEpoch:)),
            lastError: code.map {
                JobError(
                    code: $0, message: row[16] ?? "", missing: $0.hasPrefix("unmapped") ? Self.missing(row[17]) : [])
            },
            remoteID: row[18],
            createdAt: Timestamp(rfc3339: row[19]) ?? Timestamp(microsecondsSinceEpoch: 0),
            updatedAt: Timestamp(rfc3339: row[20]) ?? Timestamp(microsecondsSinceEpoch: 0),
            operationID: row[21])
    }
}

extension Job {
    /// The codes a parked job waits for, as `last_error_missing` keeps them (a JSON array of `{kind, code}`). The
    /// column is written with the `unmapped…` error it belongs to and read only beside one.
    static func missing(_ text: String?) -> [CodeMappings.Missing] {
        guard let text, case .array(let entries) = try? JSONValue(parsing: Array(text.utf8)) else { return [] }
        return entries.compactMap(CodeMappings.Missing.init(json:))
    }
}
