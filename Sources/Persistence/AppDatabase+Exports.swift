public import Accounting
import GRDB

extension AppDatabase {
    /// Records that `actor` downloaded an export of `integrationID`'s work (`format`, how many records): audited as
    /// `integration.exported`, as every file of a school's books leaving Ledgerwire is.
    public func recordExport(
        integrationID: String, tenantID: String, format: String, records: Int, actor: String, at now: Timestamp = .now()
    ) async throws {
        try await writer.write { db in
            var audit = try AuditLog(db, key: auditKey)
            try audit.append(
                db, at: now, tenantID: tenantID, integrationID: integrationID, recordID: nil, actor: actor,
                action: "integration.exported", entityType: "integration", entityID: integrationID, oldValue: nil,
                newValue: JSONValue.object(["format": .string(format), "records": .number(String(records))])
                    .canonicalString)
        }
    }
}
