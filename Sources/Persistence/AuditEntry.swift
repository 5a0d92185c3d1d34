import Accounting
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

    /// The hash of the first entry's predecessor.
    public static let genesisHash = String(repeating: "0", count: 64)

    /// SHA-256 over the previous hash and every field, each length-prefixed so no two entries share an input.
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
        var hasher = SHA256()
        for field in [
            previousHash, id, occurredAt.rfc3339, tenantID, integrationID, recordID, actor, action, entityType,
            entityID, oldValue, newValue,
        ] {
            if var field {
                let count = field.utf8.count
                hasher.update(data: Array("\(count):".utf8))
                field.withUTF8 { hasher.update(bufferPointer: UnsafeRawBufferPointer($0)) }
            } else {
                hasher.update(data: [UInt8(ascii: "-")])
            }
        }
        return Array(hasher.finalize()).hexString
    }

    /// The hash this entry should have, from its own fields.
    public var expectedHash: String {
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

private let hexDigits = Array("0123456789abcdef".utf8)

extension Sequence where Element == UInt8 {
    /// Lower-case hexadecimal.
    var hexString: String {
        var output: [UInt8] = []
        for byte in self {
            output.append(hexDigits[Int(byte >> 4)])
            output.append(hexDigits[Int(byte & 0x0F)])
        }
        return String(decoding: output, as: UTF8.self)
    }
}
