public import Accounting
import Foundation
import GRDB

/// A signing secret that inbound webhooks of one source are verified with. Several may be active at
/// once, so a secret can be rotated without dropping deliveries.
public struct WebhookSource: Sendable, Hashable {
    public var id: String
    /// `billing`, `quickbooks` or `xero`.
    public var source: String
    public var createdAt: Timestamp
}

/// A webhook source with its opened secret, for verifiers only; never listed, logged or returned.
public struct WebhookSecret: Sendable {
    public var sourceID: String
    public var secret: String
}

extension AppDatabase {
    /// Stores a secret sealed under the master key; the database never holds it in the clear. Audited as
    /// `webhook_source.created` by `actor`, without the secret.
    public func createWebhookSource(
        source: String, secret: String, box: SecretBox, actor: String
    ) async throws -> WebhookSource {
        let created = WebhookSource(id: Identifiers.make("src"), source: source, createdAt: .now())
        let sealed = try box.seal(Data(secret.utf8), context: "webhook_source:\(created.id)")
        try await writer.write { db in
            try db.execute(
                sql: "INSERT INTO webhook_sources (id, source, sealed_secret, created_at) VALUES (?, ?, ?, ?)",
                arguments: [created.id, created.source, sealed, created.createdAt.rfc3339]
            )
            var audit = try AuditLog(db, key: auditKey)
            try audit.append(
                db, at: created.createdAt, tenantID: nil, recordID: nil, actor: actor,
                action: "webhook_source.created", entityType: "webhook_source", entityID: created.id, oldValue: nil,
                newValue: JSONValue.object(["source": .string(source)]).canonicalString)
        }
        return created
    }

    public func webhookSources(page: PageRequest) async throws -> Page<WebhookSource> {
        try await writer.read { db in
            let rows = try Row.fetchAll(
                db,
                sql: "SELECT rowid, id, source, created_at FROM webhook_sources WHERE rowid > ? ORDER BY rowid LIMIT ?",
                arguments: [page.after ?? 0, page.limit + 1]
            )
            return Page(rows: rows, limit: page.limit, cursor: { $0["rowid"] }) { row in
                WebhookSource(
                    id: row["id"],
                    source: row["source"],
                    createdAt: Timestamp(rfc3339: row["created_at"]) ?? Timestamp(microsecondsSinceEpoch: 0)
                )
            }
        }
    }

    /// Deletes a source's secret, audited as `webhook_source.deleted` by `actor`; `false` when there was none.
    public func deleteWebhookSource(id: String, actor: String) async throws -> Bool {
        try await writer.write { db in
            guard
                let source = try String.fetchOne(
                    db, sql: "SELECT source FROM webhook_sources WHERE id = ?", arguments: [id])
            else { return false }
            try db.execute(sql: "DELETE FROM webhook_sources WHERE id = ?", arguments: [id])
            var audit = try AuditLog(db, key: auditKey)
            try audit.append(
                db, at: .now(), tenantID: nil, recordID: nil, actor: actor, action: "webhook_source.deleted",
                entityType: "webhook_source", entityID: id,
                oldValue: JSONValue.object(["source": .string(source)]).canonicalString, newValue: nil)
            return true
        }
    }

    /// The opened secrets of one source, for signature verification.
    public func webhookSecrets(source: String, box: SecretBox) async throws -> [WebhookSecret] {
        try await writer.read { db in
            let rows = try Row.fetchAll(
                db,
                sql: "SELECT id, sealed_secret FROM webhook_sources WHERE source = ? ORDER BY rowid",
                arguments: [source]
            )
            return try rows.map { row in
                let id: String = row["id"]
                let secret = try box.open(row["sealed_secret"], context: "webhook_source:\(id)")
                return WebhookSecret(sourceID: id, secret: String(decoding: secret, as: UTF8.self))
            }
        }
    }
}
