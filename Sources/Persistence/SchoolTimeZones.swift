public import Accounting
import Foundation
import GRDB

/// Each school's (tenant's) time zone: the dashboard shows a school's people its times in it. A school without one
/// is shown UTC.
extension AppDatabase {
    /// `school_settings`: one row per school that has set anything, keyed by tenant.
    static let schoolSettings = """
        CREATE TABLE school_settings (
            tenant_id TEXT PRIMARY KEY NOT NULL,
            time_zone TEXT NOT NULL,
            updated_at TEXT NOT NULL
        ) WITHOUT ROWID;
        """

    /// The school's time zone (an IANA identifier, `Asia/Kolkata`), `nil` when it has set none.
    public func schoolTimeZone(tenantID: String) async throws -> String? {
        try await writer.read { db in
            try String.fetchOne(
                db.cachedStatement(sql: "SELECT time_zone FROM school_settings WHERE tenant_id = ?"),
                arguments: [tenantID])
        }
    }

    /// Sets the school's time zone, audited.
    /// - Throws: `PersistenceError.invalid` for a tenant id out of bounds or a zone this system does not know.
    public func setSchoolTimeZone(tenantID: String, to identifier: String, actor: String, at now: Timestamp)
        async throws
    {
        var errors: [FieldError] = []
        if tenantID.isEmpty || tenantID.utf8.count > 200 {
            errors.append(FieldError(field: "tenant_id", message: "must be 1 to 200 bytes long"))
        }
        if identifier.utf8.count > 64 || TimeZone(identifier: identifier) == nil {
            errors.append(
                FieldError(field: "time_zone", message: "must be an IANA time zone, like Asia/Kolkata or Europe/London")
            )
        }
        guard errors.isEmpty else { throw PersistenceError.invalid(errors) }
        try await writer.write { db in
            let old = try String.fetchOne(
                db, sql: "SELECT time_zone FROM school_settings WHERE tenant_id = ?", arguments: [tenantID])
            try db.execute(
                sql: """
                    INSERT INTO school_settings (tenant_id, time_zone, updated_at) VALUES (?, ?, ?)
                    ON CONFLICT (tenant_id) DO UPDATE SET time_zone = excluded.time_zone,
                        updated_at = excluded.updated_at
                    """,
                arguments: [tenantID, identifier, now.rfc3339])
            var audit = try AuditLog(db, key: auditKey)
            try audit.append(
                db, at: now, tenantID: tenantID, recordID: nil, actor: actor, action: "school.time_zone_set",
                entityType: "school", entityID: tenantID,
                oldValue: old.map { JSONValue.object(["time_zone": .string($0)]).canonicalString },
                newValue: JSONValue.object(["time_zone": .string(identifier)]).canonicalString)
        }
    }
}
