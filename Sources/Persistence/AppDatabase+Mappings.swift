public import Accounting
import GRDB

extension AppDatabase {
    /// An integration's mappings of billing's codes to the platform's ids.
    public func mappings(integrationID: String) async throws -> CodeMappings {
        try await writer.read { db in try Self.fetchMappings(integrationID: integrationID, db: db) }
    }

    /// What saving mappings did: the mappings before and after, and how many parked jobs were resumed.
    public struct MappingsSaved: Sendable, Hashable {
        public var before: CodeMappings
        public var after: CodeMappings
        public var resumedJobs: Int
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
        try await replaceMappings(integrationID: integrationID, mappings, actor: actor, at: now).resumedJobs
    }

    /// Replaces an integration's mappings with `mappings` (a code left out is no longer mapped), audited as
    /// `mappings.saved`; parked jobs resume.
    public func replaceMappings(
        integrationID: String,
        _ mappings: CodeMappings,
        actor: String,
        at now: Timestamp = .now()
    ) async throws -> MappingsSaved {
        try await writeMappings(integrationID: integrationID, action: "mappings.saved", actor: actor, at: now) { _ in
            mappings
        }
    }

    /// Changes some of an integration's mappings, in one transaction with reading the others: a code given an id
    /// is mapped to it, a code given `nil` is no longer mapped, every other code stays. Audited as
    /// `mappings.changed`; parked jobs resume.
    public func changeMappings(
        integrationID: String,
        _ changes: [CodeMappings.Kind: [String: String?]],
        actor: String,
        at now: Timestamp = .now()
    ) async throws -> MappingsSaved {
        try await writeMappings(integrationID: integrationID, action: "mappings.changed", actor: actor, at: now) {
            var mappings = $0
            for (kind, codes) in changes {
                for (code, remoteID) in codes { mappings[kind][code] = remoteID }
            }
            return mappings
        }
    }

    private func writeMappings(
        integrationID: String, action: String, actor: String, at now: Timestamp,
        _ change: @escaping @Sendable (CodeMappings) -> CodeMappings
    ) async throws -> MappingsSaved {
        try await writer.write { db in
            guard let integration = try Self.fetchIntegration(id: integrationID, tenantID: nil, db: db) else {
                throw PersistenceError.notFound(entity: "integration", id: integrationID)
            }
            let old = try Self.fetchMappings(integrationID: integrationID, db: db)
            let mappings = change(old)
            try db.execute(sql: "DELETE FROM field_mappings WHERE integration_id = ?", arguments: [integrationID])
            for kind in mappings.kinds {
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
                action: action, entityType: "integration", entityID: integrationID,
                oldValue: old.json.canonicalString, newValue: mappings.json.canonicalString)
            try db.execute(
                sql: """
                    UPDATE jobs SET status = 'pending', next_attempt_at = ?, updated_at = ?
                    WHERE integration_id = ? AND status = 'needs_mapping'
                    """,
                arguments: [now.microsecondsSinceEpoch, now.rfc3339, integrationID]
            )
            return MappingsSaved(before: old, after: mappings, resumedJobs: db.changesCount)
        }
    }

    static func fetchMappings(integrationID: String, db: Database) throws -> CodeMappings {
        var mappings = CodeMappings()
        for row in try Row.fetchAll(
            db, sql: "SELECT kind, local_code, remote_id FROM field_mappings WHERE integration_id = ?",
            arguments: [integrationID])
        {
            mappings[CodeMappings.Kind(rawValue: row[0])][row[1]] = row[2]
        }
        return mappings
    }
}

extension CodeMappings {
    /// As the admin API shows them: `{accounts{code: remote_id}, tax_codes{…}, items{…}, deposit_accounts{…}}`, and
    /// a member for each other kind mapped (`ledgers{…}`). A target that is several of the platform's records (Tally's
    /// `{cgst, sgst, igst}` ledgers of one tax code) is kept as its JSON object's text and shown as the object.
    public var json: JSONValue {
        var members: [String: JSONValue] = [:]
        for kind in Set(Kind.wellKnown + kinds) {
            members[kind.member] = .object(
                self[kind].mapValues { target in
                    guard target.hasPrefix("{"), case .object(let object) = try? JSONValue(parsing: Array(target.utf8))
                    else { return .string(target) }
                    return .object(object)
                })
        }
        return .object(members)
    }
}

extension AppDatabase {
    /// The codes billing has used in a tenant's records, by kind: lines' revenue accounts, tax codes and courses,
    /// payments' and refunds' deposit accounts. Kept as each version is stored (`billing_codes`, migration `0026`),
    /// so the mapping editor reads a handful of rows, not every record; a code a later version stopped using stays
    /// listed (mapping it does no harm).
    public func billingCodes(tenantID: String) async throws -> [CodeMappings.Kind: Set<String>] {
        try await writer.read { db in
            var codes: [CodeMappings.Kind: Set<String>] = [:]
            for row in try Row.fetchAll(
                db, sql: "SELECT kind, code FROM billing_codes WHERE tenant_id = ?", arguments: [tenantID])
            {
                codes[CodeMappings.Kind(rawValue: row["kind"]), default: []].insert(row["code"])
            }
            return codes
        }
    }

    /// The codes one version of a record uses, by kind, as `billingCodes` lists them.
    static func billingCodes(recordType: RecordType, data: JSONValue) -> Set<BillingCode> {
        var codes: Set<BillingCode> = []
        switch recordType {
        case .invoice, .creditNote:
            for line in data["lines"]?.arrayValue ?? [] {
                for (kind, field) in [
                    (CodeMappings.Kind.account, "revenue_account"), (.taxCode, "tax_code"), (.item, "course_id"),
                ] {
                    if let code = line[field]?.stringValue { codes.insert(BillingCode(kind: kind, code: code)) }
                }
            }
        case .payment, .refund:
            if let code = data["deposit_account"]?.stringValue {
                codes.insert(BillingCode(kind: .depositAccount, code: code))
            }
        case .customer:
            break
        }
        return codes
    }

    /// `billing_codes`: every code a tenant's records have used, by kind; filled from the records already stored.
    static let billingCodesTable = """
        CREATE TABLE billing_codes (
            tenant_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            code TEXT NOT NULL,
            PRIMARY KEY (tenant_id, kind, code)
        ) WITHOUT ROWID;
        """ + billingCodesBackfill

    /// Fills `billing_codes` from the records already stored (current versions), in SQL: for the migration, or a
    /// database filled in bulk (`dashboard-seed`).
    public static let billingCodesBackfill = """
        INSERT OR IGNORE INTO billing_codes (tenant_id, kind, code)
            SELECT r.tenant_id, p.kind, json_extract(l.value, p.path)
            FROM records r JOIN record_versions v ON v.record_id = r.id AND v.version = r.version,
                json_each(v.data, '$.lines') l,
                (SELECT 'account' AS kind, '$.revenue_account' AS path UNION ALL SELECT 'tax_code', '$.tax_code'
                    UNION ALL SELECT 'item', '$.course_id') p
            WHERE r.record_type IN ('invoice', 'credit_note') AND json_type(l.value, p.path) = 'text';
        INSERT OR IGNORE INTO billing_codes (tenant_id, kind, code)
            SELECT r.tenant_id, 'deposit_account', json_extract(v.data, '$.deposit_account')
            FROM records r JOIN record_versions v ON v.record_id = r.id AND v.version = r.version
            WHERE r.record_type IN ('payment', 'refund') AND json_type(v.data, '$.deposit_account') = 'text';
        """
}

/// A code of one kind billing uses.
struct BillingCode: Hashable {
    var kind: CodeMappings.Kind
    var code: String
}

/// What a write transaction's stored versions are found by (`record_search`) and the codes they use
/// (`billing_codes`), gathered as each version is written and inserted together at the transaction's end: a few
/// statements a transaction, not two a version. Ingestion's cost is counted in statements; codes repeat from record
/// to record, so most are gathered once.
struct PendingIndexes {
    private struct TenantCode: Hashable {
        var tenantID: String
        var code: BillingCode
    }

    /// Term, record id, term, record id, …
    private var searchRows: [String] = []
    private var codes: Set<TenantCode> = []

    /// Rows a statement carries at most (two or three values each, far below SQLite's limit on bound values).
    private static let rowsPerStatement = 100

    /// Gathers what one stored version of a record is found by and the codes it uses.
    mutating func add(tenantID: String, recordType: RecordType, recordID: String, data: JSONValue) {
        for term in AppDatabase.searchTerms(data: data) {
            searchRows.append(term)
            searchRows.append(recordID)
        }
        for code in AppDatabase.billingCodes(recordType: recordType, data: data) {
            codes.insert(TenantCode(tenantID: tenantID, code: code))
        }
    }

    /// Inserts what was gathered (what is there already is left as it is) and forgets it.
    mutating func write(_ db: Database) throws {
        try Self.insert(into: "record_search (term, record_id)", columns: 2, values: searchRows, db: db)
        try Self.insert(
            into: "billing_codes (tenant_id, kind, code)", columns: 3,
            values: codes.sorted {
                ($0.tenantID, $0.code.kind, $0.code.code) < ($1.tenantID, $1.code.kind, $1.code.code)
            }
            .flatMap { [$0.tenantID, $0.code.kind.rawValue, $0.code.code] },
            db: db
        )
        discard()
    }

    /// Forgets what was gathered: its versions were rolled back.
    mutating func discard() {
        searchRows.removeAll(keepingCapacity: true)
        codes.removeAll(keepingCapacity: true)
    }

    private static func insert(into table: String, columns: Int, values: [String], db: Database) throws {
        let rowCount = values.count / columns
        for start in stride(from: 0, to: rowCount, by: rowsPerStatement) {
            let rows = min(rowsPerStatement, rowCount - start)
            let placeholder = "(" + Array(repeating: "?", count: columns).joined(separator: ", ") + ")"
            try db.cachedStatement(
                sql: "INSERT OR IGNORE INTO \(table) VALUES "
                    + Array(repeating: placeholder, count: rows).joined(separator: ", ")
            ).execute(
                arguments: StatementArguments(values[(start * columns)..<((start + rows) * columns)]))
        }
    }
}

extension AppDatabase {
    /// The codes an integration's parked (`needs_mapping`) jobs wait for, by kind.
    public func parkedCodes(integrationID: String) async throws -> [CodeMappings.Kind: Set<String>] {
        try await parkedCodeCounts(integrationID: integrationID).codes.mapValues { Set($0.keys) }
    }

    /// How many of an integration's parked (`needs_mapping`) jobs wait for each code, by kind.
    public func parkedCodeCounts(integrationID: String) async throws -> ParkedCodes {
        try await writer.read { db in
            var parked = ParkedCodes()
            for text in try String.fetchAll(
                db,
                sql: """
                    SELECT last_error_missing FROM jobs
                    WHERE integration_id = ? AND status = 'needs_mapping' AND last_error_missing IS NOT NULL
                    """,
                arguments: [integrationID])
            {
                parked.jobs += 1
                for missing in Job.missing(text) {
                    parked.codes[missing.kind, default: [:]][missing.code, default: 0] += 1
                }
            }
            return parked
        }
    }
}

/// An integration's jobs parked for a mapping: how many, and how many wait for each code, by kind.
public struct ParkedCodes: Sendable, Hashable {
    public var jobs = 0
    public var codes: [CodeMappings.Kind: [String: Int]] = [:]
}

/// What the engine needs of an integration for a round of its jobs, read once for all of them.
public struct IntegrationSnapshot: Sendable {
    public var integration: Integration
    public var mappings: CodeMappings
    /// The generation of its stored credentials (`StoredCredentials.generation`), `nil` when it has none: the
    /// credentials opened for an earlier round serve this one while it is unchanged.
    public var credentialsGeneration: Int?
}

extension AppDatabase {
    /// Each of `ids`' integration, mappings and credentials generation, in one read; an id with no integration is left
    /// out.
    public func integrationSnapshots(ids: Set<String>) async throws -> [String: IntegrationSnapshot] {
        guard !ids.isEmpty else { return [:] }
        return try await writer.read { db in
            var snapshots: [String: IntegrationSnapshot] = [:]
            for id in ids.sorted() {
                guard let integration = try Self.fetchIntegration(id: id, tenantID: nil, db: db) else { continue }
                let generation = try integration.connectionID.flatMap {
                    try Int.fetchOne(db, sql: "SELECT generation FROM connections WHERE id = ?", arguments: [$0])
                }
                snapshots[id] = IntegrationSnapshot(
                    integration: integration, mappings: try Self.fetchMappings(integrationID: id, db: db),
                    credentialsGeneration: generation)
            }
            return snapshots
        }
    }
}
