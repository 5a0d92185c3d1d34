import Accounting
import GRDB

/// Appends hash-chained entries inside a write transaction.
///
/// The last hash is read once per transaction and carried forward, so a group commit of many
/// deliveries appends a consistent chain without re-reading it for each entry.
struct AuditLog {
    private(set) var lastHash: String

    init(_ db: Database) throws {
        lastHash =
            try String.fetchOne(db, sql: "SELECT hash FROM integration_audit_log ORDER BY seq DESC LIMIT 1")
            ?? AuditEntry.genesisHash
    }

    /// Undoes the in-memory chain position after a savepoint rolled back an append.
    mutating func rewind(to hash: String) { lastHash = hash }

    mutating func append(
        _ db: Database,
        at occurredAt: Timestamp,
        tenantID: String?,
        integrationID: String? = nil,
        recordID: String?,
        actor: String,
        action: String,
        entityType: String,
        entityID: String,
        oldValue: String?,
        newValue: String?
    ) throws {
        let id = Identifiers.make("aud")
        let hash = AuditEntry.computeHash(
            previousHash: lastHash,
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
        try db.cachedStatement(
            sql: """
                INSERT INTO integration_audit_log (id, occurred_at, tenant_id, integration_id, record_id, actor,
                    action, entity_type, entity_id, old_value, new_value, prev_hash, hash)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """
        ).execute(arguments: [
            id, occurredAt.rfc3339, tenantID, integrationID, recordID, actor, action, entityType, entityID,
            oldValue, newValue, lastHash, hash,
        ])
        lastHash = hash
    }
}

/// What `audit verify` found.
public enum AuditVerification: Hashable, Sendable {
    /// Every entry's hash matches its fields and links to the one before.
    case intact(entries: Int)
    /// The first entry whose hash or link does not hold.
    case broken(seq: Int64, id: String, reason: String)
}

extension AppDatabase {
    /// Walks the whole chain in order, recomputing each hash.
    ///
    /// The first entry links to the genesis hash, or, once retention pruned the oldest entries, to the last pruned
    /// entry's hash kept as the anchor: removing entries any other way breaks the chain.
    public func verifyAuditChain() async throws -> AuditVerification {
        try await writer.read { db in
            let anchor = try Row.fetchOne(db, sql: "SELECT seq, hash FROM audit_anchor WHERE id = 1")
            var expectedPrevious: String = anchor?["hash"] ?? AuditEntry.genesisHash
            var count = 0
            let cursor = try Row.fetchCursor(db, sql: "SELECT * FROM integration_audit_log ORDER BY seq")
            while let row = try cursor.next() {
                let entry = AuditEntry(row: row)
                if entry.previousHash != expectedPrevious {
                    let reason =
                        count > 0
                        ? "prev_hash does not match the hash of the entry before it"
                        : anchor == nil
                            ? "the first entry does not start the chain (entries before it were removed)"
                            : "the first entry does not link to the last entry retention pruned"
                    return .broken(seq: entry.seq, id: entry.id, reason: reason)
                }
                if entry.expectedHash != entry.hash {
                    return .broken(seq: entry.seq, id: entry.id, reason: "hash does not match the entry's contents")
                }
                expectedPrevious = entry.hash
                count += 1
            }
            return .intact(entries: count)
        }
    }

    /// Audit entries, oldest first, optionally for one tenant, integration or record, or since an instant.
    public func auditEntries(
        tenantID: String? = nil,
        integrationID: String? = nil,
        recordID: String? = nil,
        since: Timestamp? = nil,
        page: PageRequest
    ) async throws -> Page<AuditEntry> {
        try await writer.read { db in
            var filter = SQLFilter()
            filter.add("tenant_id = ?", tenantID)
            filter.add("integration_id = ?", integrationID)
            filter.add("record_id = ?", recordID)
            filter.add("occurred_at >= ?", since?.rfc3339)
            filter.add("seq > ?", page.after)
            let rows = try Row.fetchAll(
                db,
                sql: "SELECT * FROM integration_audit_log \(filter.whereClause) ORDER BY seq LIMIT ?",
                arguments: filter.arguments + [page.limit + 1]
            )
            return Page(rows: rows, limit: page.limit, cursor: { $0["seq"] }, item: AuditEntry.init(row:))
        }
    }
}

extension AuditEntry {
    init(row: Row) {
        self.init(
            seq: row["seq"],
            id: row["id"],
            occurredAt: Timestamp(rfc3339: row["occurred_at"]) ?? Timestamp(microsecondsSinceEpoch: 0),
            tenantID: row["tenant_id"],
            integrationID: row["integration_id"],
            recordID: row["record_id"],
            actor: row["actor"],
            action: row["action"],
            entityType: row["entity_type"],
            entityID: row["entity_id"],
            oldValue: row["old_value"],
            newValue: row["new_value"],
            previousHash: row["prev_hash"],
            hash: row["hash"]
        )
    }
}
