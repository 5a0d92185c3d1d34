public import Accounting
import Crypto
import Foundation
import GRDB

/// A connection's OAuth tokens as stored: sealed under the master key, never logged, audited or returned.
public struct OAuthTokens: Sendable, Hashable {
    public var accessToken: String
    public var refreshToken: String?
    public var accessTokenExpiresAt: Timestamp
    public var refreshTokenExpiresAt: Timestamp?
    /// The platform's id of the connected company (QuickBooks `realmId`, Xero tenant id); not a secret.
    public var remoteTenantID: String?

    public init(
        accessToken: String, refreshToken: String?, accessTokenExpiresAt: Timestamp,
        refreshTokenExpiresAt: Timestamp? = nil, remoteTenantID: String? = nil
    ) {
        self.accessToken = accessToken
        self.refreshToken = refreshToken
        self.accessTokenExpiresAt = accessTokenExpiresAt
        self.refreshTokenExpiresAt = refreshTokenExpiresAt
        self.remoteTenantID = remoteTenantID
    }
}

/// Tokens with their generation: every save moves it on, so a refresh can save only over what it refreshed.
public struct StoredCredentials: Sendable, Hashable {
    public var tokens: OAuthTokens
    public var generation: Int
    /// The connection they are stored under, which every integration sharing them reads.
    public var connectionID: String?

    public init(tokens: OAuthTokens, generation: Int, connectionID: String? = nil) {
        self.tokens = tokens
        self.generation = generation
        self.connectionID = connectionID
    }
}

/// How credentials came to be saved, for the audit log.
public enum CredentialSource: String, Sendable {
    /// `PUT /integrations/{id}/credentials`.
    case imported
    /// The OAuth callback.
    case authorized
    case refreshed
}

/// An authorization in progress, found by its single-use `state`.
public struct OAuthAuthorization: Sendable {
    public var integrationID: String
    public var codeVerifier: String?
    /// Who started it.
    public var actor: String
}

extension AppDatabase {
    /// The tokens of the integration's connection, or `nil` when it has none.
    public func credentials(integrationID: String, box: SecretBox) async throws -> StoredCredentials? {
        try await writer.read { db in
            guard
                let row = try Row.fetchOne(
                    db,
                    sql: """
                        SELECT c.* FROM connections c JOIN integration_configs i ON i.connection_id = c.id
                        WHERE i.id = ?
                        """,
                    arguments: [integrationID])
            else { return nil }
            let connectionID: String = row["id"]
            let sealed = try box.open(row["sealed_tokens"], context: "credentials:\(connectionID)")
            let secrets = try JSONValue(parsing: Array(sealed))
            return StoredCredentials(
                tokens: OAuthTokens(
                    accessToken: secrets["access_token"]?.stringValue ?? "",
                    refreshToken: secrets["refresh_token"]?.stringValue,
                    accessTokenExpiresAt: Timestamp(microsecondsSinceEpoch: row["access_expires_at"]),
                    refreshTokenExpiresAt: (row["refresh_expires_at"] as Int64?).map(
                        Timestamp.init(microsecondsSinceEpoch:)),
                    remoteTenantID: row["remote_tenant_id"]),
                generation: row["generation"], connectionID: connectionID)
        }
    }

    /// Saves tokens sealed under the master key, as the credentials of the integration's connection (every
    /// integration sharing it then uses them); an integration without one gets a connection of its own.
    ///
    /// - Parameters:
    ///   - expectedGeneration: save only if the stored generation is still this one (a refresh saving over the
    ///     tokens it refreshed); `nil` saves whatever is stored (a person's import or authorization).
    ///   - source: imported and authorized credentials also connect the integration (unless disabled, or
    ///     `connects` is false: a grant whose company a person must still choose).
    /// - Returns: the new generation, or `nil` when the stored generation had moved on and nothing was saved.
    public func saveCredentials(
        integrationID: String,
        _ tokens: OAuthTokens,
        expectedGeneration: Int?,
        source: CredentialSource,
        box: SecretBox,
        actor: String,
        connects: Bool = true,
        at now: Timestamp = .now()
    ) async throws -> Int? {
        var secrets: [String: JSONValue] = ["access_token": .string(tokens.accessToken)]
        if let refreshToken = tokens.refreshToken { secrets["refresh_token"] = .string(refreshToken) }
        let plain = JSONValue.object(secrets).canonicalBytes
        let newConnectionID = Identifiers.make("con")
        return try await writer.write { db in
            guard let integration = try Self.fetchIntegration(id: integrationID, tenantID: nil, db: db) else {
                return nil
            }
            let connectionID = integration.connectionID ?? newConnectionID
            let stored = try Int.fetchOne(
                db, sql: "SELECT generation FROM connections WHERE id = ?", arguments: [connectionID])
            if let expectedGeneration, stored != expectedGeneration { return nil }
            let sealed = try box.seal(plain, context: "credentials:\(connectionID)")
            // A person connecting a company claims it; a refresh keeps what the integration has.
            if source != .refreshed, let remoteTenantID = tokens.remoteTenantID {
                try Self.claimRemoteTenant(remoteTenantID, for: integration, db: db)
            }
            let generation = (stored ?? 0) + 1
            try db.execute(
                sql: """
                    INSERT INTO connections (id, tenant_id, platform, sealed_tokens, access_expires_at,
                        refresh_expires_at, remote_tenant_id, generation, created_at, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (id) DO UPDATE SET sealed_tokens = excluded.sealed_tokens,
                        access_expires_at = excluded.access_expires_at,
                        refresh_expires_at = excluded.refresh_expires_at,
                        remote_tenant_id = COALESCE(excluded.remote_tenant_id, remote_tenant_id),
                        generation = excluded.generation, updated_at = excluded.updated_at
                    """,
                arguments: [
                    connectionID, integration.tenantID, integration.platform.rawValue, sealed,
                    tokens.accessTokenExpiresAt.microsecondsSinceEpoch,
                    tokens.refreshTokenExpiresAt?.microsecondsSinceEpoch, tokens.remoteTenantID, generation,
                    now.rfc3339, now.rfc3339,
                ])
            if integration.connectionID == nil {
                try db.execute(
                    sql: "UPDATE integration_configs SET connection_id = ? WHERE id = ?",
                    arguments: [connectionID, integrationID])
            }
            var audit = try AuditLog(db, key: auditKey)
            var value: [String: JSONValue] = [
                "generation": .number(String(generation)), "connection_id": .string(connectionID),
                "access_token_expires_at": .string(tokens.accessTokenExpiresAt.rfc3339),
            ]
            if let remoteTenantID = tokens.remoteTenantID { value["remote_tenant_id"] = .string(remoteTenantID) }
            try audit.append(
                db, at: now, tenantID: integration.tenantID, integrationID: integrationID, recordID: nil,
                actor: actor, action: "credentials.\(source.rawValue)", entityType: "integration",
                entityID: integrationID, oldValue: nil, newValue: JSONValue.object(value).canonicalString)
            if source != .refreshed, connects { try self.connect(integration, actor: actor, at: now, db: db) }
            return generation
        }
    }

    /// A person's choice of the company an integration's grant opens (one of several Xero organisations): claimed for
    /// the integration (one active integration per company), which is then `connected` and works in it. Audited as
    /// `integration.company_chosen`.
    ///
    /// - Throws: `PersistenceError.notFound` for an integration the tenant does not have, `.conflict` for a company
    ///   another integration has, or an integration without credentials.
    @discardableResult
    public func chooseRemoteTenant(
        _ remoteTenantID: String, integrationID: String, tenantID: String?, actor: String, at now: Timestamp = .now()
    ) async throws -> Integration {
        try await writer.write { db in
            guard let integration = try Self.fetchIntegration(id: integrationID, tenantID: tenantID, db: db) else {
                throw PersistenceError.notFound(entity: "integration", id: integrationID)
            }
            guard integration.connectionID != nil else {
                throw PersistenceError.conflict("the integration has no credentials yet: connect it first")
            }
            try Self.claimRemoteTenant(remoteTenantID, for: integration, db: db)
            var audit = try AuditLog(db, key: auditKey)
            try audit.append(
                db, at: now, tenantID: integration.tenantID, integrationID: integration.id, recordID: nil,
                actor: actor, action: "integration.company_chosen", entityType: "integration",
                entityID: integration.id,
                oldValue: integration.remoteTenantID.map {
                    JSONValue.object(["remote_tenant_id": .string($0)]).canonicalString
                },
                newValue: JSONValue.object(["remote_tenant_id": .string(remoteTenantID)]).canonicalString)
            if integration.status != .disabled { try self.connect(integration, actor: actor, at: now, db: db) }
            guard let chosen = try Self.fetchIntegration(id: integrationID, tenantID: tenantID, db: db) else {
                throw PersistenceError.notFound(entity: "integration", id: integrationID)
            }
            return chosen
        }
    }

    /// The integration whose connected company is `remoteTenantID` on `platform` (a QuickBooks realm, a Xero
    /// organisation), for routing the platform's webhooks; `nil` when none is.
    ///
    /// A company is connected to at most one integration that is not disabled (a unique index), so this is that one
    /// or none: a webhook for it is never routed to another, older or not.
    public func integration(platform: Platform, remoteTenantID: String) async throws -> Integration? {
        try await writer.read { db in
            try Row.fetchOne(
                db,
                sql: """
                    SELECT * FROM integration_configs
                    WHERE platform = ? AND remote_tenant_id = ? AND status <> 'disabled'
                    """,
                arguments: [platform.rawValue, remoteTenantID]
            ).map(Integration.init(row:))
        }
    }

    /// The integration's opened secret settings (`client_secret`), for its OAuth client only.
    public func integrationSecrets(id: String, box: SecretBox) async throws -> [String: String] {
        try await writer.read { db in
            let sealed = try Data.fetchOne(
                db, sql: "SELECT sealed_secrets FROM integration_configs WHERE id = ?", arguments: [id])
            return try Self.openSecrets(sealed, integrationID: id, box: box)
        }
    }

    /// Remembers an authorization in progress under its `state` (stored hashed) for `lifetime`.
    public func beginAuthorization(
        state: String, integrationID: String, codeVerifier: String?, actor: String, lifetime: Duration,
        box: SecretBox, at now: Timestamp = .now()
    ) async throws {
        let sealed = try codeVerifier.map {
            try box.seal(Data($0.utf8), context: "oauth_state:\(Self.stateHash(state))")
        }
        try await writer.write { db in
            try db.execute(
                sql: "DELETE FROM oauth_states WHERE expires_at <= ?", arguments: [now.microsecondsSinceEpoch])
            try db.execute(
                sql: """
                    INSERT INTO oauth_states (state_hash, integration_id, sealed_verifier, actor, expires_at)
                    VALUES (?, ?, ?, ?, ?)
                    """,
                arguments: [
                    Self.stateHash(state), integrationID, sealed, actor,
                    now.microsecondsSinceEpoch + lifetime.wholeMicroseconds,
                ])
        }
    }

    /// Takes the authorization of `state` — once: a second call with the same state, or one after it expired,
    /// finds nothing.
    public func takeAuthorization(state: String, box: SecretBox, at now: Timestamp = .now()) async throws
        -> OAuthAuthorization?
    {
        let hash = Self.stateHash(state)
        return try await writer.write { db in
            guard
                let row = try Row.fetchOne(
                    db, sql: "DELETE FROM oauth_states WHERE state_hash = ? RETURNING *", arguments: [hash])
            else { return nil }
            guard (row["expires_at"] as Int64) > now.microsecondsSinceEpoch else { return nil }
            let verifier = try (row["sealed_verifier"] as Data?).map {
                String(decoding: try box.open($0, context: "oauth_state:\(hash)"), as: UTF8.self)
            }
            return OAuthAuthorization(integrationID: row["integration_id"], codeVerifier: verifier, actor: row["actor"])
        }
    }

    static func stateHash(_ state: String) -> String {
        SHA256.hash(data: Data(state.utf8)).hexString
    }
}
