/// One change to one record, as billing (or a platform) asked for it: the unit the pipeline dedups,
/// versions, stores and later applies to each integration.
public struct SyncCommand: Hashable, Sendable {
    /// What the change does to the record.
    public enum Action: String, Sendable, Hashable {
        /// Create the record or replace it with `data`.
        case upsert
        /// Void it: it stays, marked void, with `data` holding the reason.
        case void

        /// Between two changes with the same `updated_at`, a void wins over an upsert.
        public var precedence: Int {
            switch self {
            case .upsert: 0
            case .void: 1
            }
        }
    }

    public var tenantID: Tenant.ID
    public var recordType: RecordType
    /// Billing's id of the record.
    public var localID: String
    public var action: Action
    /// The source's own modification time: newer wins, older is superseded.
    public var updatedAt: Timestamp
    /// The record's canonical JSON (for a void, the void's fields).
    public var data: JSONValue

    public init(
        tenantID: Tenant.ID,
        recordType: RecordType,
        localID: String,
        action: Action,
        updatedAt: Timestamp,
        data: JSONValue
    ) {
        self.tenantID = tenantID
        self.recordType = recordType
        self.localID = localID
        self.action = action
        self.updatedAt = updatedAt
        self.data = data
    }

    /// The same change of the same record always has the same key, whichever delivery carried it:
    /// a redelivery under a new `webhook-id`, or `customer.created` and `customer.updated` for one state.
    public var idempotencyKey: String {
        "\(tenantID)/\(recordType.rawValue)/\(localID)/\(action.rawValue)/\(updatedAt.microsecondsSinceEpoch)"
    }
}
