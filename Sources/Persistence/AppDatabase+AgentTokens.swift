public import Accounting
import Crypto
import Foundation
import GRDB

extension AppDatabase {
    /// The token of an integration's agent (`ledgerwire tally-agent`): only its SHA-256, hex, so a copy of the
    /// database opens no agent route. Unique, so a token names one integration; gone with the integration's row.
    static let agentTokens = """
        ALTER TABLE integration_configs ADD COLUMN agent_token_sha256 TEXT;
        CREATE UNIQUE INDEX integration_configs_agent_token ON integration_configs(agent_token_sha256)
            WHERE agent_token_sha256 IS NOT NULL;
        """

    /// Whose agent presents a token: the integration and its tenant.
    public struct AgentTokenOwner: Sendable, Hashable {
        public var integrationID: String
        public var tenantID: String
        /// Whether the integration is switched off: its agent is refused then.
        public var disabled: Bool
    }

    /// A new agent token, `lwa_` and 43 characters of base64url (32 random bytes).
    public static func generateAgentToken() -> String {
        let bytes = SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }
        return "lwa_"
            + bytes.base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    /// Stores `tokenHash` (`APIKey.hash(token:)`) as the integration's agent token, replacing any earlier one, and
    /// audits it as `integration.agent_token_issued` (without the token or its hash).
    /// - Returns: `false` when the tenant has no integration `id`.
    public func setAgentToken(
        integrationID id: String, tenantID: String?, tokenHash: String, actor: String, at now: Timestamp = .now()
    ) async throws -> Bool {
        try await writer.write { db in
            guard let integration = try Self.fetchIntegration(id: id, tenantID: tenantID, db: db) else { return false }
            let replaced =
                try Bool.fetchOne(
                    db, sql: "SELECT agent_token_sha256 IS NOT NULL FROM integration_configs WHERE id = ?",
                    arguments: [id]) ?? false
            try db.execute(
                sql: "UPDATE integration_configs SET agent_token_sha256 = ?, updated_at = ? WHERE id = ?",
                arguments: [tokenHash, now.rfc3339, id])
            var audit = try AuditLog(db, key: auditKey)
            try audit.append(
                db, at: now, tenantID: integration.tenantID, integrationID: id, recordID: nil, actor: actor,
                action: "integration.agent_token_issued", entityType: "integration", entityID: id,
                oldValue: JSONValue.object(["agent_token": .string(replaced ? "set" : "none")]).canonicalString,
                newValue: JSONValue.object(["agent_token": .string("set")]).canonicalString)
            return true
        }
    }

    /// The integration whose agent token hashes to `tokenHash`, or `nil`. The stored hash is compared again in
    /// constant time, so the answer does not depend on how much of it matched.
    public func agentTokenOwner(tokenHash: String) async throws -> AgentTokenOwner? {
        try await writer.read { db in
            guard
                let row = try Row.fetchOne(
                    db,
                    sql: """
                        SELECT id, tenant_id, status, agent_token_sha256 FROM integration_configs
                        WHERE agent_token_sha256 = ?
                        """,
                    arguments: [tokenHash]),
                ConstantTime.equal(Array((row["agent_token_sha256"] as String).utf8), Array(tokenHash.utf8))
            else { return nil }
            return AgentTokenOwner(
                integrationID: row["id"], tenantID: row["tenant_id"], disabled: (row["status"] as String) == "disabled")
        }
    }
}
