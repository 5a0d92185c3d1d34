public import Accounting
import Foundation
import GRDB

/// A body a delivery had before a correction replaced it.
public struct ReplacedBody: Sendable, Hashable {
    public var body: [UInt8]
    /// When the correction replaced it, and who made it.
    public var replacedAt: Timestamp
    public var replacedBy: String?
}

extension AppDatabase {
    /// Every body a delivery kept is kept (issue 11, item 8): a correction appends the body it replaces to
    /// `delivery_bodies` (append-only, pruned with its delivery), so nothing a platform or billing sent is lost to a
    /// replay. The single `original_body` kept until now is copied in as the first of them.
    static let deliveryBodyHistory = """
        CREATE TABLE delivery_bodies (
            seq INTEGER PRIMARY KEY,
            delivery_id TEXT NOT NULL,
            body BLOB NOT NULL,
            replaced_at TEXT NOT NULL,
            replaced_by TEXT
        );
        CREATE INDEX delivery_bodies_delivery ON delivery_bodies(delivery_id, seq);
        INSERT INTO delivery_bodies (delivery_id, body, replaced_at, replaced_by)
            SELECT id, original_body, COALESCE(last_replayed_at, received_at), NULL FROM deliveries
            WHERE original_body IS NOT NULL ORDER BY rowid;
        CREATE TRIGGER delivery_bodies_no_update BEFORE UPDATE ON delivery_bodies
            BEGIN SELECT RAISE(ABORT, 'a delivery''s earlier bodies are kept as they were'); END;
        CREATE TRIGGER deliveries_pruned_with_their_bodies AFTER DELETE ON deliveries
            BEGIN DELETE FROM delivery_bodies WHERE delivery_id = OLD.id; END;
        """

    /// The bodies a delivery had before corrections replaced them, oldest first; empty when never corrected (or
    /// absent, or of another tenant than `tenantID`).
    public func replacedBodies(deliveryID: String, tenantID: String? = nil) async throws -> [ReplacedBody] {
        try await writer.read { db in
            var filter = SQLFilter()
            filter.add("b.delivery_id = ?", deliveryID)
            filter.add("d.tenant_id = ?", tenantID)
            return try Row.fetchAll(
                db,
                sql: """
                    SELECT b.body, b.replaced_at, b.replaced_by FROM delivery_bodies b
                    JOIN deliveries d ON d.id = b.delivery_id \(filter.whereClause) ORDER BY b.seq
                    """,
                arguments: filter.arguments
            ).map { row in
                ReplacedBody(
                    body: Array(row["body"] as Data? ?? Data()),
                    replacedAt: Timestamp(rfc3339: row["replaced_at"]) ?? Timestamp(microsecondsSinceEpoch: 0),
                    replacedBy: row["replaced_by"])
            }
        }
    }

    /// Keeps the body a correction is about to replace.
    static func keepReplacedBody(deliveryID: String, actor: String, at now: Timestamp, db: Database) throws {
        try db.execute(
            sql: """
                INSERT INTO delivery_bodies (delivery_id, body, replaced_at, replaced_by)
                SELECT id, body, ?, ? FROM deliveries WHERE id = ?
                """,
            arguments: [now.rfc3339, actor, deliveryID])
    }
}
