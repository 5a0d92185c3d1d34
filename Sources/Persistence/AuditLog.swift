public import Accounting
import GRDB

/// Appends signed, chained entries inside a write transaction, and keeps the signed checkpoint of the chain's ends.
///
/// Each entry's `hash` is an HMAC-SHA256 (under the ``AuditKey``) of its fields and the previous entry's hash; the
/// checkpoint row signs the retention anchor (where the chain starts) and the newest entry (where it ends), and moves
/// with every append in the same transaction. Someone with only the database file can neither rewrite an entry nor
/// remove the newest ones without `audit verify` noticing. The chain's position is read once per transaction and
/// carried forward, so a group commit of many deliveries appends a consistent chain without re-reading it.
struct AuditLog {
    /// One end of the chain: an entry's `seq` and hash (`seq` 0 and the genesis hash before the first).
    struct Position: Hashable {
        var seq: Int64
        var hash: String

        static let genesis = Position(seq: 0, hash: AuditEntry.genesisHash)
    }

    /// The newest entry, which the next one links to.
    private(set) var position: Position
    /// Where the chain starts: the last entry retention pruned, or genesis.
    private(set) var anchor: Position
    /// Whether the stored checkpoint matched the chain when this transaction began. A checkpoint that does not is
    /// left as it is, the evidence `audit verify` reports, rather than re-signed over a chain someone cut short.
    private let checkpointHolds: Bool
    private let key: AuditKey
    /// Whether appends leave the checkpoint to `writeCheckpoint(_:)` at the transaction's end, for a transaction of
    /// many entries (a group commit's finished jobs): one signed checkpoint instead of one per entry.
    private let checkpointAtEnd: Bool
    /// Whether an append moved the chain's end since the checkpoint was last written.
    private var checkpointBehind = false

    /// - Parameter checkpointAtEnd: appends leave the checkpoint behind; the caller writes it with
    ///   `writeCheckpoint(_:)` before the transaction commits.
    init(_ db: Database, key: AuditKey, checkpointAtEnd: Bool = false) throws {
        self.key = key
        self.checkpointAtEnd = checkpointAtEnd
        let anchor = try Self.anchor(db)
        let head = try Self.head(db) ?? anchor
        self.anchor = anchor
        position = head
        checkpointHolds = try Self.checkpoint(db).map { $0.holds(anchor: anchor, head: head, key: key) } ?? false
    }

    /// Undoes the in-memory chain position after a savepoint rolled back an append (and its checkpoint).
    mutating func rewind(to position: Position) { self.position = position }

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
        let hash = AuditEntry.signature(
            key: key,
            previousHash: position.hash,
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
                    action, entity_type, entity_id, old_value, new_value, prev_hash, hash, algorithm)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'hmac-sha256')
                """
        ).execute(arguments: [
            id, occurredAt.rfc3339, tenantID, integrationID, recordID, actor, action, entityType, entityID,
            oldValue, newValue, position.hash, hash,
        ])
        position = Position(seq: db.lastInsertedRowID, hash: hash)
        if checkpointAtEnd {
            checkpointBehind = true
        } else if checkpointHolds {
            try Self.writeCheckpoint(db, anchor: anchor, head: position, key: key)
        }
    }

    /// Signs the checkpoint over the chain's end as the transaction's appends left it (a log opened with
    /// `checkpointAtEnd`); nothing when nothing was appended since.
    mutating func writeCheckpoint(_ db: Database) throws {
        guard checkpointBehind else { return }
        if checkpointHolds { try Self.writeCheckpoint(db, anchor: anchor, head: position, key: key) }
        checkpointBehind = false
    }

    /// Moves the start of the chain to `newAnchor` (the last entry retention is about to prune), so the
    /// delete trigger lets the entries up to it go, and re-signs the checkpoint over it.
    mutating func moveAnchor(_ db: Database, to newAnchor: Position, at now: Timestamp) throws {
        try db.execute(
            sql: """
                INSERT INTO audit_anchor (id, seq, hash, pruned_at) VALUES (1, ?, ?, ?)
                ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, pruned_at = excluded.pruned_at
                """,
            arguments: [newAnchor.seq, newAnchor.hash, now.rfc3339])
        anchor = newAnchor
        if checkpointHolds { try Self.writeCheckpoint(db, anchor: anchor, head: position, key: key) }
    }

    /// Signs the chain as it is when keying starts: called only by migration "0012 keyed audit chain", in its
    /// transaction. Never on open: a server must not sign a chain someone rewrote and stripped of its checkpoint.
    static func startCheckpoint(_ db: Database, key: AuditKey) throws {
        let anchor = try Self.anchor(db)
        try writeCheckpoint(db, anchor: anchor, head: try head(db) ?? anchor, key: key)
    }

    private static func anchor(_ db: Database) throws -> Position {
        try Row.fetchOne(db, sql: "SELECT seq, hash FROM audit_anchor WHERE id = 1")
            .map { Position(seq: $0["seq"], hash: $0["hash"]) } ?? .genesis
    }

    private static func head(_ db: Database) throws -> Position? {
        try Row.fetchOne(db, sql: "SELECT seq, hash FROM integration_audit_log ORDER BY seq DESC LIMIT 1")
            .map { Position(seq: $0["seq"], hash: $0["hash"]) }
    }

    /// The signed record of the chain's two ends.
    struct Checkpoint {
        var anchor: Position
        var head: Position
        var mac: String

        static func message(anchor: Position, head: Position) -> [UInt8] {
            Array("ledgerwire-audit-checkpoint\n\(anchor.seq)\n\(anchor.hash)\n\(head.seq)\n\(head.hash)".utf8)
        }

        func isSigned(by key: AuditKey) -> Bool {
            key.isValid(mac, for: Self.message(anchor: anchor, head: head))
        }

        func holds(anchor: Position, head: Position, key: AuditKey) -> Bool {
            self.anchor == anchor && self.head == head && isSigned(by: key)
        }
    }

    static func checkpoint(_ db: Database) throws -> Checkpoint? {
        try Row.fetchOne(
            db.cachedStatement(
                sql: "SELECT anchor_seq, anchor_hash, head_seq, head_hash, mac FROM audit_checkpoint WHERE id = 1")
        ).map {
            Checkpoint(
                anchor: Position(seq: $0["anchor_seq"], hash: $0["anchor_hash"]),
                head: Position(seq: $0["head_seq"], hash: $0["head_hash"]), mac: $0["mac"])
        }
    }

    private static func writeCheckpoint(_ db: Database, anchor: Position, head: Position, key: AuditKey) throws {
        try db.cachedStatement(
            sql: """
                INSERT INTO audit_checkpoint (id, anchor_seq, anchor_hash, head_seq, head_hash, mac)
                VALUES (1, ?, ?, ?, ?, ?)
                ON CONFLICT (id) DO UPDATE SET anchor_seq = excluded.anchor_seq, anchor_hash = excluded.anchor_hash,
                    head_seq = excluded.head_seq, head_hash = excluded.head_hash, mac = excluded.mac
                """
        ).execute(arguments: [
            anchor.seq, anchor.hash, head.seq, head.hash, key.sign(Checkpoint.message(anchor: anchor, head: head)),
        ])
    }
}

/// What `audit verify` found.
public enum AuditVerification: Hashable, Sendable {
    /// Every entry's hash matches its fields and links to the one before, and the signed checkpoint matches both
    /// ends of the chain.
    case intact(entries: Int)
    /// The first entry whose hash or link does not hold, or (`id` "checkpoint") the chain's ends do not match the
    /// signed checkpoint.
    case broken(seq: Int64, id: String, reason: String)
}

extension AppDatabase {
    /// Walks the whole chain in order, checking each entry's hash (HMAC under the audit key; bare SHA-256 for the
    /// entries written before the chain was keyed, which may only precede keyed ones), then the signed checkpoint.
    ///
    /// The first entry links to the genesis hash, or, once retention pruned the oldest entries, to the last pruned
    /// entry's hash kept as the anchor; the checkpoint, signed with every append, names the anchor and the newest
    /// entry. Removing, rewriting or truncating entries any other way breaks the chain or the checkpoint.
    public func verifyAuditChain() async throws -> AuditVerification {
        try await writer.read { db in try AuditLog.verify(db, key: auditKey) }
    }

    /// Audit entries, oldest first (or newest first, for the dashboard), optionally for one tenant, integration,
    /// record, actor or action, and from an instant (`since`, inclusive) to another (`until`, exclusive).
    public func auditEntries(
        tenantID: String? = nil,
        integrationID: String? = nil,
        recordID: String? = nil,
        actor: String? = nil,
        action: String? = nil,
        since: Timestamp? = nil,
        until: Timestamp? = nil,
        newestFirst: Bool = false,
        page: PageRequest
    ) async throws -> Page<AuditEntry> {
        try await writer.read { db in
            // The instants bound the range of `seq` too, so only that stretch of the log is read.
            let low = try since.map { try AuditLog.firstSeq(db, atOrAfter: $0.adding(.seconds(-AuditLog.disorder))) }
            let high = try until.map { try AuditLog.firstSeq(db, atOrAfter: $0.adding(.seconds(AuditLog.disorder))) }
            let (sql, arguments) = Self.auditEntriesStatement(
                AuditFilter(
                    tenantID: tenantID, integrationID: integrationID, recordID: recordID, actor: actor, action: action,
                    since: since, until: until, seqs: (low, high)),
                newestFirst: newestFirst, after: page.after, limit: page.limit)
            let rows = try Row.fetchAll(db, sql: sql, arguments: arguments)
            return Page(rows: rows, limit: page.limit, cursor: { $0["seq"] }, item: AuditEntry.init(row:))
        }
    }

    /// What a page of the audit log is filtered by; `seqs` bounds the `seq` range read (`low` inclusive, `high` not).
    struct AuditFilter {
        var tenantID: String?
        var integrationID: String?
        var recordID: String?
        var actor: String?
        var action: String?
        var since: Timestamp?
        var until: Timestamp?
        var seqs: (low: Int64?, high: Int64?) = (nil, nil)
    }

    /// A page of the audit log: `limit + 1` entries after `after` in `seq` order (descending when `newestFirst`).
    static func auditEntriesStatement(_ given: AuditFilter, newestFirst: Bool, after: Int64?, limit: Int) -> (
        String, StatementArguments
    ) {
        var filter = SQLFilter()
        // Narrowed by an integration, an actor or an action, the log is read through that one's index, the tenant
        // checked on each entry (`+` keeps the planner off the tenant's index, which holds every entry of the school).
        let narrowed = given.integrationID != nil || given.actor != nil || given.action != nil
        filter.add(narrowed ? "+tenant_id = ?" : "tenant_id = ?", given.tenantID)
        filter.add("integration_id = ?", given.integrationID)
        filter.add("record_id = ?", given.recordID)
        filter.add("actor = ?", given.actor)
        filter.add("action = ?", given.action)
        filter.add("occurred_at >= ?", given.since?.rfc3339)
        filter.add("occurred_at < ?", given.until?.rfc3339)
        filter.add("seq >= ?", given.seqs.low)
        filter.add("seq < ?", given.seqs.high)
        filter.add(newestFirst ? "seq < ?" : "seq > ?", after)
        return (
            "SELECT * FROM integration_audit_log \(filter.whereClause) ORDER BY seq \(newestFirst ? "DESC" : "") LIMIT ?",
            filter.arguments + [limit + 1]
        )
    }
}

extension AuditLog {
    /// How far out of order two entries' `occurred_at` may be: an entry's instant is taken before its transaction
    /// waits for the writer, so a later `seq` may carry an earlier instant, by the wait. The `seq` range a time range
    /// is searched in is widened by this many seconds on both sides; `occurred_at` itself is then compared exactly.
    static let disorder: Int64 = 3600

    /// The smallest `seq` from which on every entry occurred at or after `instant` (one past the newest entry when
    /// none did): a binary search of the log by `seq`, some twenty lookups of its primary key.
    static func firstSeq(_ db: Database, atOrAfter instant: Timestamp) throws -> Int64 {
        let bounds = try Row.fetchOne(db, sql: "SELECT min(seq), max(seq) FROM integration_audit_log")
        guard let low: Int64 = bounds?[0], let high: Int64 = bounds?[1] else { return 0 }
        let threshold = instant.rfc3339
        var (lower, upper) = (low, high + 1)
        while lower < upper {
            let middle = lower + (upper - lower) / 2
            // The first entry at or after `middle` (`seq` may have gaps where retention pruned).
            guard
                let row = try Row.fetchOne(
                    db.cachedStatement(
                        sql: "SELECT seq, occurred_at FROM integration_audit_log WHERE seq >= ? ORDER BY seq LIMIT 1"),
                    arguments: [middle])
            else {
                upper = middle
                continue
            }
            let (seq, occurredAt): (Int64, String) = (row[0], row[1])
            if occurredAt >= threshold { upper = middle } else { lower = seq + 1 }
        }
        return lower
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
            hash: row["hash"],
            // The column's CHECK admits only these two; `verify` reads the raw text strictly.
            algorithm: Algorithm(rawValue: row["algorithm"] ?? "") ?? .sha256
        )
    }
}

extension AuditLog {
    static func verify(_ db: Database, key: AuditKey) throws -> AuditVerification {
        guard try db.tableExists("audit_checkpoint") else {
            return .broken(
                seq: 0, id: "checkpoint",
                reason: "the database predates the keyed audit chain: run `ledgerwire migrate` with its master key")
        }
        let anchor = try Self.anchor(db)
        var head = anchor
        var count = 0
        var keyed = false
        let cursor = try Row.fetchCursor(db, sql: "SELECT * FROM integration_audit_log ORDER BY seq")
        while let row = try cursor.next() {
            let entry = AuditEntry(row: row)
            func broken(_ reason: String) -> AuditVerification { .broken(seq: entry.seq, id: entry.id, reason: reason) }
            if entry.previousHash != head.hash {
                return broken(
                    count > 0
                        ? "prev_hash does not match the hash of the entry before it"
                        : anchor == .genesis
                            ? "the first entry does not start the chain (entries before it were removed)"
                            : "the first entry does not link to the last entry retention pruned")
            }
            guard let algorithm = AuditEntry.Algorithm(rawValue: row["algorithm"] ?? "") else {
                return broken("unknown hash algorithm")
            }
            if algorithm == .sha256, keyed {
                return broken("an unkeyed entry follows keyed ones (entries were rewritten without the key)")
            }
            if !entry.hasValidHash(key: key) {
                return broken(
                    algorithm == .sha256
                        ? "hash does not match the entry's contents"
                        : "hash does not match the entry's contents (or the entry was signed under another master key)")
            }
            keyed = keyed || algorithm == .hmacSHA256
            head = Position(seq: entry.seq, hash: entry.hash)
            count += 1
        }
        guard let checkpoint = try Self.checkpoint(db) else {
            return .broken(seq: head.seq, id: "checkpoint", reason: "the signed checkpoint of the chain is missing")
        }
        guard checkpoint.isSigned(by: key) else {
            return .broken(
                seq: head.seq, id: "checkpoint",
                reason: "the checkpoint's signature does not hold (tampered with, or another master key)")
        }
        if checkpoint.anchor != anchor {
            return .broken(
                seq: anchor.seq, id: "checkpoint",
                reason: "the retention anchor is not the one the checkpoint signed (entries removed from the start)")
        }
        if checkpoint.head != head {
            return .broken(
                seq: head.seq, id: "checkpoint",
                reason: checkpoint.head.seq > head.seq
                    ? "entries after \(head.seq) were removed: the signed checkpoint ends at \(checkpoint.head.seq)"
                    : "the newest entry is not the one the signed checkpoint names")
        }
        return .intact(entries: count)
    }
}
