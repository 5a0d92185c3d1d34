/// A record as the platform holds it, in canonical form: what a connector reads (`pull`, the change feed) and what
/// the sync engine stores as a change heard from the books.
///
/// References to other records in `data` (`customer_id`, `invoice_id`, `allocations[].invoice_id`) hold the
/// platform's ids; a voided document has `"voided": true`.
public struct RemoteRecord: Sendable, Hashable {
    public var recordType: RecordType
    public var remoteID: String
    /// The platform's version of the record (QuickBooks `SyncToken`, …); `nil` where it has none, and then the
    /// modification instant stands for it.
    public var remoteVersion: String?
    public var updatedAt: Timestamp
    public var deleted: Bool
    public var data: JSONValue

    public init(
        recordType: RecordType, remoteID: String, remoteVersion: String?, updatedAt: Timestamp, deleted: Bool,
        data: JSONValue
    ) {
        self.recordType = recordType
        self.remoteID = remoteID
        self.remoteVersion = remoteVersion
        self.updatedAt = updatedAt
        self.deleted = deleted
        self.data = data
    }
}
