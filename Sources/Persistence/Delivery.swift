import Accounting

/// What became of a delivery.
public enum DeliveryStatus: String, Sendable, Hashable, CaseIterable {
    /// At least one of its commands changed a record.
    case accepted
    /// Everything in it was known already (the same webhook id, or the same changes under another id).
    case duplicate
    /// Its changes are older than what is stored: kept, never applied.
    case superseded
    /// Signed but invalid: kept with its errors, replayable once fixed.
    case rejected
    /// Signed but for no known tenant or integration: kept, never applied to another.
    case unroutable
}

/// A verified delivery on its way into the inbox, already normalized.
public struct IncomingDelivery: Sendable {
    /// What the delivery asks for.
    public enum Content: Sendable {
        case commands([SyncCommand])
        case rejected([FieldError])
        case unroutable(String)
    }

    public var source: String
    public var webhookID: String
    public var receivedAt: Timestamp
    public var tenantID: Tenant.ID?
    public var eventType: String?
    /// The headers that verified it (never a secret).
    public var headers: [String: String]
    public var body: [UInt8]
    public var content: Content

    public init(
        source: String,
        webhookID: String,
        receivedAt: Timestamp,
        tenantID: Tenant.ID?,
        eventType: String?,
        headers: [String: String],
        body: [UInt8],
        content: Content
    ) {
        self.source = source
        self.webhookID = webhookID
        self.receivedAt = receivedAt
        self.tenantID = tenantID
        self.eventType = eventType
        self.headers = headers
        self.body = body
        self.content = content
    }
}

/// What the inbox did with a delivery.
public struct DeliveryOutcome: Sendable, Hashable {
    public var deliveryID: String
    public var status: DeliveryStatus
    public var errors: [FieldError]
    /// The webhook id had been received before: nothing was written this time.
    public var isRedelivery: Bool
    /// The records this delivery created or changed.
    public var changes: [RecordChange]

    public init(
        deliveryID: String,
        status: DeliveryStatus,
        errors: [FieldError] = [],
        isRedelivery: Bool = false,
        changes: [RecordChange] = []
    ) {
        self.deliveryID = deliveryID
        self.status = status
        self.errors = errors
        self.isRedelivery = isRedelivery
        self.changes = changes
    }
}

/// A record that a command created or changed, at its new version.
public struct RecordChange: Sendable, Hashable {
    public var recordID: String
    public var recordType: RecordType
    public var localID: String
    public var version: Int
}

/// A delivery as the inbox keeps it.
public struct StoredDelivery: Sendable, Hashable {
    public var id: String
    public var source: String
    public var webhookID: String
    public var status: DeliveryStatus
    public var tenantID: String?
    public var eventType: String?
    public var receivedAt: Timestamp
    public var headers: [String: String]
    public var body: [UInt8]
    public var errors: [FieldError]
    public var replays: Int
    public var lastReplayedAt: Timestamp?
}
