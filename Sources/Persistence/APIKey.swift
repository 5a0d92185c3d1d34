public import Accounting
import Crypto
import Foundation
import GRDB

/// A key for the admin API. Only the SHA-256 of its token is stored; the token is shown once.
public struct APIKey: Sendable, Hashable {
    /// What a key may do; each role may do everything the ones below it may.
    public enum Role: String, Sendable, Hashable, Comparable, CaseIterable {
        /// Reads everything it can see.
        case viewer
        /// Also replays deliveries, retries jobs, runs syncs, resolves conflicts.
        case `operator`
        /// Also makes, connects, changes and removes integrations: a person's role in the dashboard (`users`), not
        /// an API key's.
        case financeManager = "finance_manager"
        /// Also manages keys, users, webhook sources and subscriptions.
        case admin

        /// The roles an API key may have.
        public static let keyRoles: [Role] = [.admin, .operator, .viewer]

        private var rank: Int {
            switch self {
            case .viewer: 0
            case .operator: 1
            case .financeManager: 2
            case .admin: 3
            }
        }

        public static func < (lhs: Role, rhs: Role) -> Bool { lhs.rank < rhs.rank }
    }

    public var id: String
    public var name: String
    public var role: Role
    /// When set, the key sees and changes only this tenant's data.
    public var tenantID: String?
    public var createdAt: Timestamp

    /// The stored form of a token: hex SHA-256. Tokens carry 256 random bits, so a plain hash suffices.
    public static func hash(token: String) -> String {
        Array(SHA256.hash(data: Data(token.utf8))).hexString
    }

    /// A new token: `lw_` and 43 characters of base64url (32 random bytes).
    public static func generateToken() -> String {
        let bytes = SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }
        return "lw_"
            + bytes.base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }
}

extension AppDatabase {
    /// Creates a key and returns it with its token, which is not stored and cannot be shown again. Audited as
    /// `api_key.created` by `actor`, without the token or its hash.
    public func createAPIKey(
        name: String, role: APIKey.Role, tenantID: String?, actor: String
    ) async throws -> (APIKey, String) {
        let token = APIKey.generateToken()
        let key = APIKey(id: Identifiers.make("key"), name: name, role: role, tenantID: tenantID, createdAt: .now())
        try await writer.write { db in try insert(key, token: token, actor: actor, db: db) }
        return (key, token)
    }

    /// Stores `key` with the hash of `token` and audits it as `api_key.created` by `actor`.
    func insert(_ key: APIKey, token: String, actor: String, db: Database) throws {
        try db.execute(
            sql: "INSERT INTO api_keys (id, name, role, tenant_id, token_hash, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            arguments: [
                key.id, key.name, key.role.rawValue, key.tenantID, APIKey.hash(token: token), key.createdAt.rfc3339,
            ]
        )
        var audit = try AuditLog(db, key: auditKey)
        try audit.append(
            db, at: key.createdAt, tenantID: key.tenantID, recordID: nil, actor: actor, action: "api_key.created",
            entityType: "api_key", entityID: key.id, oldValue: nil, newValue: key.auditJSON.canonicalString)
    }

    /// The key whose token hashes to `tokenHash`.
    public func apiKey(tokenHash: String) async throws -> APIKey? {
        try await writer.read { db in
            try Row.fetchOne(
                db.cachedStatement(sql: "SELECT * FROM api_keys WHERE token_hash = ?"),
                arguments: [tokenHash]
            ).map(APIKey.init(row:))
        }
    }

    public func apiKeys(tenantID: String? = nil, page: PageRequest) async throws -> Page<APIKey> {
        try await writer.read { db in
            var filter = SQLFilter()
            filter.add("tenant_id = ?", tenantID)
            return try Self.rowPage(of: "api_keys", filter, page, db: db, item: APIKey.init(row:))
        }
    }

    /// Deletes a key, audited as `api_key.deleted` by `actor`; `false` when there was none (or it belongs to another
    /// tenant than `tenantID`).
    public func deleteAPIKey(id: String, tenantID: String? = nil, actor: String) async throws -> Bool {
        try await writer.write { db in
            var filter = SQLFilter()
            filter.add("id = ?", id)
            filter.add("tenant_id = ?", tenantID)
            guard
                let key = try Row.fetchOne(
                    db, sql: "SELECT * FROM api_keys \(filter.whereClause)", arguments: filter.arguments
                ).map(APIKey.init(row:))
            else { return false }
            try db.execute(sql: "DELETE FROM api_keys WHERE id = ?", arguments: [id])
            var audit = try AuditLog(db, key: auditKey)
            try audit.append(
                db, at: .now(), tenantID: key.tenantID, recordID: nil, actor: actor, action: "api_key.deleted",
                entityType: "api_key", entityID: key.id, oldValue: key.auditJSON.canonicalString, newValue: nil)
            return true
        }
    }
}

extension APIKey {
    /// What the audit log keeps of a key: never its token or the token's hash.
    var auditJSON: JSONValue {
        .object([
            "name": .string(name), "role": .string(role.rawValue), "tenant_id": tenantID.map(JSONValue.string) ?? .null,
        ])
    }

    init(row: Row) {
        self.init(
            id: row["id"],
            name: row["name"],
            role: Role(rawValue: row["role"]) ?? .viewer,
            tenantID: row["tenant_id"],
            createdAt: Timestamp(rfc3339: row["created_at"]) ?? Timestamp(microsecondsSinceEpoch: 0)
        )
    }
}
