public import Accounting
import Foundation
import GRDB

extension AppDatabase {
    /// Credentials belong to a *connection*, not to an integration: one OAuth consent (its tokens, their generation)
    /// can serve several integrations of one tenant and platform (the organisations a Xero consent opens), and a
    /// refresh through any of them moves the one generation every other one reads, so no refresh token is spent
    /// twice.
    ///
    /// Every integration's stored credentials move into a connection of its own, whose id is the integration's: the
    /// tokens stay sealed as they were (their seal is bound to `credentials:<connection id>`), never opened here.
    /// `integration_configs.status_reason` says, in plain words, why an integration is `disconnected`.
    static let connections = """
        CREATE TABLE connections (
            id TEXT PRIMARY KEY NOT NULL,
            tenant_id TEXT NOT NULL,
            platform TEXT NOT NULL,
            sealed_tokens BLOB NOT NULL,
            access_expires_at INTEGER NOT NULL,
            refresh_expires_at INTEGER,
            remote_tenant_id TEXT,
            generation INTEGER NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE INDEX connections_tenant ON connections(tenant_id, platform);
        INSERT INTO connections (id, tenant_id, platform, sealed_tokens, access_expires_at, refresh_expires_at,
            remote_tenant_id, generation, created_at, updated_at)
        SELECT c.integration_id, i.tenant_id, i.platform, c.sealed_tokens, c.access_expires_at, c.refresh_expires_at,
            c.remote_tenant_id, c.generation, c.updated_at, c.updated_at
        FROM integration_credentials c JOIN integration_configs i ON i.id = c.integration_id;
        ALTER TABLE integration_configs ADD COLUMN connection_id TEXT REFERENCES connections(id) ON DELETE SET NULL;
        UPDATE integration_configs SET connection_id = id WHERE id IN (SELECT id FROM connections);
        CREATE INDEX integration_configs_connection ON integration_configs(connection_id)
            WHERE connection_id IS NOT NULL;
        DROP TABLE integration_credentials;
        ALTER TABLE integration_configs ADD COLUMN status_reason TEXT;
        """

    /// Attaches the integration `id` to the connection `connectionID` (one the tenant already has for the same
    /// platform, e.g. another organisation of the same Xero consent): its calls then use that connection's
    /// credentials, and it is `connected` (unless disabled, or `connects` is false: a company is still to be chosen
    /// among those the consent opens). The connection it had before is deleted when no other integration uses it.
    /// Audited; the credentials themselves are neither read nor copied.
    ///
    /// - Throws: `PersistenceError.notFound` for an integration or connection the tenant does not have,
    ///   `.conflict` for a connection of another platform.
    @discardableResult
    public func attachIntegration(
        id: String, tenantID: String?, toConnection connectionID: String, actor: String, connects: Bool = true,
        at now: Timestamp = .now()
    ) async throws -> Integration {
        try await writer.write { db in
            guard let integration = try Self.fetchIntegration(id: id, tenantID: tenantID, db: db) else {
                throw PersistenceError.notFound(entity: "integration", id: id)
            }
            guard
                let connection = try Row.fetchOne(
                    db, sql: "SELECT tenant_id, platform FROM connections WHERE id = ?", arguments: [connectionID]),
                (connection["tenant_id"] as String) == integration.tenantID
            else { throw PersistenceError.notFound(entity: "connection", id: connectionID) }
            guard (connection["platform"] as String) == integration.platform.rawValue else {
                throw PersistenceError.conflict(
                    "connection \(connectionID) is to \(connection["platform"] as String), not to "
                        + integration.platform.rawValue)
            }
            try db.execute(
                sql: "UPDATE integration_configs SET connection_id = ?, updated_at = ? WHERE id = ?",
                arguments: [connectionID, now.rfc3339, id])
            if let previous = integration.connectionID, previous != connectionID {
                try Self.deleteConnectionIfUnused(previous, db: db)
            }
            var audit = try AuditLog(db, key: auditKey)
            try audit.append(
                db, at: now, tenantID: integration.tenantID, integrationID: id, recordID: nil, actor: actor,
                action: "integration.connection_attached", entityType: "integration", entityID: id,
                oldValue: integration.connectionID.map { JSONValue.object(["connection_id": .string($0)]) }?
                    .canonicalString,
                newValue: JSONValue.object(["connection_id": .string(connectionID)]).canonicalString)
            if connects { try self.connect(integration, actor: actor, at: now, db: db) }
            return try Self.fetchIntegration(id: id, tenantID: nil, db: db) ?? integration
        }
    }

    /// Makes the integration `connected` by a connect step other than saving tokens: its platform answered
    /// `POST …/connect-check`, or called Ledgerwire itself (QuickBooks Desktop's first `authenticate`). A disabled
    /// integration stays disabled. Its waiting jobs resume at once.
    ///
    /// - Returns: the integration as it is now; `nil` when there is none.
    @discardableResult
    public func markConnected(id: String, actor: String, at now: Timestamp = .now()) async throws -> Integration? {
        try await writer.write { db in
            guard let integration = try Self.fetchIntegration(id: id, tenantID: nil, db: db) else { return nil }
            try self.connect(integration, actor: actor, at: now, db: db)
            return try Self.fetchIntegration(id: id, tenantID: nil, db: db)
        }
    }

    /// Applies what `POST …/connect-check` found: audited as `integration.connection_checked` (with the reason when
    /// the platform did not answer for it), then `connected` (`markConnected`), or `disconnected` with `reason`
    /// (sent as `integration.disconnected` when it was not already). A disabled integration stays disabled.
    ///
    /// - Parameter reason: why the platform does not answer for the integration; `nil` when it does.
    /// - Returns: the integration as it is now; `nil` when there is none.
    public func applyConnectionCheck(
        id: String, disconnectedBecause reason: String?, actor: String, at now: Timestamp = .now()
    ) async throws -> Integration? {
        let checked = try await writer.write { db -> Integration? in
            guard let integration = try Self.fetchIntegration(id: id, tenantID: nil, db: db) else { return nil }
            var found: [String: JSONValue] = ["status": .string(reason == nil ? "connected" : "disconnected")]
            if let reason { found["reason"] = .string(reason) }
            var audit = try AuditLog(db, key: auditKey)
            try audit.append(
                db, at: now, tenantID: integration.tenantID, integrationID: id, recordID: nil, actor: actor,
                action: "integration.connection_checked", entityType: "integration", entityID: id, oldValue: nil,
                newValue: JSONValue.object(found).canonicalString)
            if reason == nil { try self.connect(integration, actor: actor, at: now, db: db) }
            return integration
        }
        guard let checked else { return nil }
        if let reason, checked.status != .disabled {
            try await setIntegrationStatus(id: id, to: .disconnected, actor: actor, reason: reason, at: now)
        }
        return try await integration(id: id)
    }

    /// The integrations whose calls use the connection `connectionID`.
    public func integrationIDs(connectionID: String) async throws -> [String] {
        try await writer.read { db in
            try String.fetchAll(
                db, sql: "SELECT id FROM integration_configs WHERE connection_id = ? ORDER BY id",
                arguments: [connectionID])
        }
    }

    /// `pending` or `disconnected` → `connected`, audited, and the jobs that waited for the connection made due now.
    func connect(_ integration: Integration, actor: String, at now: Timestamp, db: Database) throws {
        guard integration.status == .pending || integration.status == .disconnected else { return }
        try db.execute(
            sql: """
                UPDATE integration_configs SET status = 'connected', status_reason = NULL, updated_at = ?
                WHERE id = ?
                """,
            arguments: [now.rfc3339, integration.id])
        // The work that waited for the connection resumes now.
        try db.execute(
            sql: """
                UPDATE jobs SET next_attempt_at = ?
                WHERE status IN ('pending', 'running') AND status = 'pending' AND integration_id = ?
                    AND next_attempt_at > ?
                """,
            arguments: [now.microsecondsSinceEpoch, integration.id, now.microsecondsSinceEpoch])
        var audit = try AuditLog(db, key: auditKey)
        try audit.append(
            db, at: now, tenantID: integration.tenantID, integrationID: integration.id, recordID: nil,
            actor: actor, action: "integration.status_changed", entityType: "integration",
            entityID: integration.id,
            oldValue: JSONValue.object(["status": .string(integration.status.rawValue)]).canonicalString,
            newValue: JSONValue.object(["status": "connected"]).canonicalString)
    }

    /// Deletes the connection when no integration uses it any more: a connection another integration still uses
    /// stays, with its credentials.
    static func deleteConnectionIfUnused(_ connectionID: String, db: Database) throws {
        try db.execute(
            sql: """
                DELETE FROM connections WHERE id = ?
                    AND NOT EXISTS (SELECT 1 FROM integration_configs WHERE connection_id = ?)
                """,
            arguments: [connectionID, connectionID])
    }
}
