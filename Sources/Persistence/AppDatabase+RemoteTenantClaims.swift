import Accounting
import GRDB

extension AppDatabase {
    /// What a refused connection says: the company and that it is taken, never by whom (another tenant's
    /// integration is not the caller's to know about).
    static func remoteTenantTaken(_ platform: Platform, _ remoteTenantID: String) -> PersistenceError {
        .conflict(
            "the \(platform.rawValue) company \(remoteTenantID) is already connected to another active integration; "
                + "disable or delete that integration first")
    }

    /// Records that `integration` is connected to the platform company `remoteTenantID`, refused with a
    /// ``PersistenceError/conflict(_:)`` when another integration that is not disabled holds it. Checked first for a
    /// clear answer; the partial unique index `integration_configs_remote_tenant` enforces it whatever races.
    static func claimRemoteTenant(_ remoteTenantID: String, for integration: Integration, db: Database) throws {
        if integration.status != .disabled,
            try Bool.fetchOne(
                db,
                sql: """
                    SELECT EXISTS (SELECT 1 FROM integration_configs
                        WHERE platform = ? AND remote_tenant_id = ? AND status <> 'disabled' AND id <> ?)
                    """,
                arguments: [integration.platform.rawValue, remoteTenantID, integration.id]) == true
        {
            throw remoteTenantTaken(integration.platform, remoteTenantID)
        }
        try refusingSharedRemoteTenant(integration.platform, remoteTenantID) {
            try db.execute(
                sql: "UPDATE integration_configs SET remote_tenant_id = ? WHERE id = ?",
                arguments: [remoteTenantID, integration.id])
        }
    }

    /// Runs a write to `integration_configs`, turning a breach of its one unique index beyond the primary key (one
    /// active integration per platform company) into ``PersistenceError/conflict(_:)``. Matched by the result code,
    /// never by the message.
    static func refusingSharedRemoteTenant<Value>(
        _ platform: Platform, _ remoteTenantID: String?, _ write: () throws -> Value
    ) throws -> Value {
        do {
            return try write()
        } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE {
            throw remoteTenantTaken(platform, remoteTenantID ?? "")
        }
    }

    /// The company an integration is connected to, if any.
    static func remoteTenantID(of integrationID: String, db: Database) throws -> String? {
        try String.fetchOne(
            db, sql: "SELECT remote_tenant_id FROM integration_configs WHERE id = ?", arguments: [integrationID])
    }
}
