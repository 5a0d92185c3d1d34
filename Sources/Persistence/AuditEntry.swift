public import Accounting
import Crypto

/// One line of the append-only audit log: who or what changed which entity, from what to what.
public struct AuditEntry: Hashable, Sendable {
    public var seq: Int64
    public var id: String
    public var occurredAt: Timestamp
    public var tenantID: String?
    public var integrationID: String?
    public var recordID: String?
    /// Who or what caused it: `billing:dlv_…`, `api-key:key_…`, `admin-token`, `worker`.
    public var actor: String
    /// What happened: `record.created`, `record.updated`, `record.voided`, `delivery.replayed`, …
    public var action: String
    public var entityType: String
    public var entityID: String
    public var oldValue: String?
    public var newValue: String?
    public var previousHash: String
    public var hash: String
    /// How `hash` is computed: entries written before migration 0012 are bare SHA-256, later ones keyed.
    public var algorithm: Algorithm

    /// How an entry's hash is made.
    public enum Algorithm: String, Hashable, Sendable {
        /// SHA-256 of the fields: entries written before the chain was keyed (migration 0012).
        case sha256
        /// HMAC-SHA256 of the same input under the ``AuditKey``: every entry since.
        case hmacSHA256 = "hmac-sha256"
    }

    /// The hash of the first entry's predecessor.
    public static let genesisHash = String(repeating: "0", count: 64)

    /// SHA-256 over the previous hash and every field, each length-prefixed so no two entries share an input.
    ///
    /// The form of entries written before the chain was keyed; `signature(key:…)` signs the same input.
    public static func computeHash(
        previousHash: String,
        id: String,
        occurredAt: Timestamp,
        tenantID: String?,
        integrationID: String?,
        recordID: String?,
        actor: String,
        action: String,
        entityType: String,
        entityID: String,
        oldValue: String?,
        newValue: String?
    ) -> String {
        Array(
            SHA256.hash(
                data: hashInput(
                    previousHash: previousHash, id: id, occurredAt: occurredAt, tenantID: tenantID,
                    integrationID: integrationID, recordID: recordID, actor: actor, action: action,
                    entityType: entityType, entityID: entityID, oldValue: oldValue, newValue: newValue))
        ).hexString
    }

    /// HMAC-SHA256 under `key` of the input `computeHash(…)` hashes: the form of every entry since migration 0012.
    static func signature(
        key: AuditKey,
        previousHash: String,
        id: String,
        occurredAt: Timestamp,
        tenantID: String?,
        integrationID: String?,
        recordID: String?,
        actor: String,
        action: String,
        entityType: String,
        entityID: String,
        oldValue: String?,
        newValue: String?
    ) -> String {
        key.sign(
            hashInput(
                previousHash: previousHash, id: id, occurredAt: occurredAt, tenantID: tenantID,
                integrationID: integrationID, recordID: recordID, actor: actor, action: action, entityType: entityType,
                entityID: entityID, oldValue: oldValue, newValue: newValue))
    }

    /// The previous hash and every field, each length-prefixed (`-` for a null) so no two entries share an input.
    private static func hashInput(
        previousHash: String,
        id: String,
        occurredAt: Timestamp,
        tenantID: String?,
        integrationID: String?,
        recordID: String?,
        actor: String,
        action: String,
        entityType: String,
        entityID: String,
        oldValue: String?,
        newValue: String?
    ) -> [UInt8] {
        var input: [UInt8] = []
        for field in [
            previousHash, id, occurredAt.rfc3339, tenantID, integrationID, recordID, actor, action, entityType,
            entityID, oldValue, newValue,
        ] {
            if let field {
                input.append(contentsOf: "\(field.utf8.count):".utf8)
                input.append(contentsOf: field.utf8)
            } else {
                input.append(UInt8(ascii: "-"))
            }
        }
        return input
    }

    /// Whether this entry's hash matches its own fields: recomputed for an unkeyed entry, checked as an HMAC under
    /// `key` (in constant time) for a keyed one.
    func hasValidHash(key: AuditKey) -> Bool {
        switch algorithm {
        case .sha256:
            return unkeyedHash == hash
        case .hmacSHA256:
            return key.isValid(
                hash,
                for: Self.hashInput(
                    previousHash: previousHash, id: id, occurredAt: occurredAt, tenantID: tenantID,
                    integrationID: integrationID, recordID: recordID, actor: actor, action: action,
                    entityType: entityType, entityID: entityID, oldValue: oldValue, newValue: newValue))
        }
    }

    /// The bare SHA-256 this entry would have as an unkeyed entry.
    private var unkeyedHash: String {
        Self.computeHash(
            previousHash: previousHash,
            id: id,
            occurredAt: occurredAt,
            tenantID: tenantID,
            integrationID: integrationID,
            recordID: recordID,
            actor: actor,
            action: action,
            entityType: entityType,
            entityID: entityID,
            oldValue: oldValue,
            newValue: newValue
        )
    }
}
