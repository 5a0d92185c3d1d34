import Accounting
import GRDB

extension AppDatabase {
    /// An integration's mappings of billing's codes to the platform's ids.
    public func mappings(integrationID: String) async throws -> CodeMappings {
        try await writer.read { db in try Self.fetchMappings(integrationID: integrationID, db: db) }
    }

    /// Replaces an integration's mappings, audits the change, and puts the jobs parked for a mapping back in the
    /// queue: they resume by themselves (a job whose code is still unmapped parks again).
    /// - Returns: how many parked jobs were resumed.
    @discardableResult
    public func saveMappings(
        integrationID: String,
        _ mappings: CodeMappings,
        actor: String,
        at now: Timestamp = .now()
    ) async throws -> Int {
        try await writer.write { db in
            guard let integration = try Self.fetchIntegration(id: integrationID, tenantID: nil, db: db) else {
                throw PersistenceError.notFound(entity: "integration", id: integrationID)
            }
            let old = try Self.fetchMappings(integrationID: integrationID, db: db)
            try db.execute(sql: "DELETE FROM field_mappings WHERE integration_id = ?", arguments: [integrationID])
            for kind in CodeMappings.Kind.allCases {
                for (code, remoteID) in mappings[kind] {
                    try db.execute(
                        sql: """
                            INSERT INTO field_mappings (integration_id, kind, local_code, remote_id, updated_at)
                            VALUES (?, ?, ?, ?, ?)
                            """,
                        arguments: [integrationID, kind.rawValue, code, remoteID, now.rfc3339]
                    )
                }
            }
            var audit = try AuditLog(db, key: auditKey)
            try audit.append(
                db, at: now, tenantID: integration.tenantID, integrationID: integrationID, recordID: nil, actor: actor,
                action: "mappings.saved", entityType: "integration", entityID: integrationID,
                oldValue: old.json.canonicalString, newValue: mappings.json.canonicalString)
            try db.execute(
                sql: """
                    UPDATE jobs SET status = 'pending', next_attempt_at = ?, updated_at = ?
                    WHERE integration_id = ? AND status = 'needs_mapping'
                    """,
                arguments: [now.microsecondsSinceEpoch, now.rfc3339, integrationID]
            )
            return db.changesCount
        }
    }

    static func fetchMappings(integrationID: String, db: Database) throws -> CodeMappings {
        var mappings = CodeMappings()
        for row in try Row.fetchAll(
            db, sql: "SELECT kind, local_code, remote_id FROM field_mappings WHERE integration_id = ?",
            arguments: [integrationID])
        {
            guard let kind = CodeMappings.Kind(rawValue: row[0]) else { continue }
            mappings[kind][row[1]] = row[2]
        }
        return mappings
    }
}

extension CodeMappings {
    /// As the admin API shows them: `{accounts{code: remote_id}, tax_codes{…}, items{…}, deposit_accounts{…}}`.
    public var json: JSONValue {
        func object(_ map: [String: String]) -> JSONValue { .object(map.mapValues(JSONValue.string)) }
        return .object([
            "accounts": object(accounts), "tax_codes": object(taxCodes), "items": object(items),
            "deposit_accounts": object(depositAccounts),
        ])
    }
}

extension AppDatabase {
    /// The codes billing uses in a tenant's records (their current versions), by kind: lines' revenue accounts,
    /// tax codes and courses, payments' and refunds' deposit accounts.
    public func billingCodes(tenantID: String) async throws -> [CodeMappings.Kind: Set<String>] {
        try await writer.read { db in
            let current = """
                FROM records r JOIN record_versions v ON v.record_id = r.id AND v.version = r.version
                WHERE r.tenant_id = :tenant
                """
            var codes: [CodeMappings.Kind: Set<String>] = [:]
            let lines = try Row.fetchAll(
                db,
                sql: """
                    SELECT DISTINCT json_extract(l.value, '$.revenue_account') AS account,
                        json_extract(l.value, '$.tax_code') AS tax, json_extract(l.value, '$.course_id') AS course
                    FROM records r JOIN record_versions v ON v.record_id = r.id AND v.version = r.version,
                        json_each(v.data, '$.lines') l
                    WHERE r.tenant_id = :tenant AND r.record_type IN ('invoice', 'credit_note')
                    """,
                arguments: ["tenant": tenantID])
            for row in lines {
                if let account: String = row["account"] { codes[.account, default: []].insert(account) }
                if let tax: String = row["tax"] { codes[.taxCode, default: []].insert(tax) }
                if let course: String = row["course"] { codes[.item, default: []].insert(course) }
            }
            for deposit in try String.fetchAll(
                db,
                sql: """
                    SELECT DISTINCT json_extract(v.data, '$.deposit_account') \(current)
                        AND r.record_type IN ('payment', 'refund') AND json_extract(v.data, '$.deposit_account') IS NOT NULL
                    """,
                arguments: ["tenant": tenantID])
            {
                codes[.depositAccount, default: []].insert(deposit)
            }
            return codes
        }
    }
}
