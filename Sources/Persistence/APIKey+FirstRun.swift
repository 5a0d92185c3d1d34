import Accounting
import GRDB

extension AppDatabase {
    /// The first way in to a fresh database: when no API key was ever made in it, creates an admin key named `name`
    /// and returns it with its token, to be shown once; `nil` otherwise. A database whose keys were all deleted (after
    /// a leak, say) gets none: a new key printed to a log nobody watches would undo the clean-up. Stored hashed and
    /// audited as `api_key.created` by `actor`, like every key. The check and the insert are one transaction, so two
    /// servers starting on the same file make one key.
    public func createFirstAdminKey(name: String, actor: String) async throws -> (APIKey, String)? {
        try await writer.write { db in
            guard try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM api_keys") == 0,
                try Bool.fetchOne(
                    db,
                    sql: "SELECT EXISTS (SELECT 1 FROM integration_audit_log WHERE action = 'api_key.created')")
                    == false
            else { return nil }
            let token = APIKey.generateToken()
            let key = APIKey(id: Identifiers.make("key"), name: name, role: .admin, tenantID: nil, createdAt: .now())
            try insert(key, token: token, actor: actor, db: db)
            return (key, token)
        }
    }
}
