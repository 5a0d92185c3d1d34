public import Accounting
import GRDB

/// A record that billing and the books both changed since its last sync, with both versions as they were.
public struct Conflict: Sendable, Hashable {
    public enum Status: String, Sendable, Hashable, CaseIterable {
        /// Held for a person (the `manual` policy): the record is not pushed to this integration until resolved.
        case open
        case resolved
    }

    public enum Resolution: String, Sendable, Hashable, CaseIterable {
        /// Billing's version goes to the books.
        case useLocal = "use_local"
        /// The books' version stays, and billing is told.
        case useRemote = "use_remote"
        /// A person's values: a new version of the record, pushed to the books and sent to billing.
        case custom
    }

    public struct Side: Sendable, Hashable {
        public var version: String
        public var updatedAt: Timestamp
        public var data: JSONValue
    }

    public var id: String
    public var tenantID: String
    public var integrationID: String
    public var recordID: String
    public var recordType: String
    public var localID: String
    public var remoteID: String
    public var policy: Integration.ConflictPolicy
    public var status: Status
    public var local: Side
    public var remote: Side
    public var resolution: Resolution?
    public var resolvedValues: JSONValue?
    /// `policy:<name>` when the policy decided, else who resolved it.
    public var resolvedBy: String?
    public var resolvedAt: Timestamp?
    public var detectedAt: Timestamp
}

/// How a person resolves a held conflict.
public enum ConflictDecision: Sendable, Hashable {
    case useLocal
    case useRemote
    /// The record's data with the person's values applied (validated by the caller), based on billing's version
    /// `baseVersion`: refused when billing changed the record meanwhile.
    case custom(values: JSONValue, data: JSONValue, baseVersion: Int)
}

extension AppDatabase {
    /// Stores a conflict with both versions, decided by the integration's policy as `plan` says (a `nil` resolution:
    /// held for a person), and applies the plan. `conflict.detected` tells the subscriptions either way.
    static func detectConflict(
        _ change: PendingLedgerChange, plan: ConflictPlan, recordID: String, localID: String, localVersion: Int,
        localUpdatedAt: Int64, integration: Integration, at now: Timestamp, db: Database, audit: inout AuditLog
    ) throws -> String {
        let id = Identifiers.make("cfl")
        let localData =
            try String.fetchOne(
                db, sql: "SELECT data FROM record_versions WHERE record_id = ? AND version = ?",
                arguments: [recordID, localVersion]) ?? "null"
        var remoteData = change.data
        if change.deleted, case .object(var members) = remoteData {
            members["deleted"] = true
            remoteData = .object(members)
        }
        let policy = integration.sync.conflictPolicy
        let winner = plan.resolution
        try db.execute(
            sql: """
                INSERT INTO conflicts (id, tenant_id, integration_id, record_id, record_type, local_id, remote_id,
                    policy, status, local_version, local_updated_at, local_data, remote_version, remote_updated_at,
                    remote_data, resolution, resolved_by, resolved_at, detected_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                id, integration.tenantID, integration.id, recordID, change.recordType, localID, change.remoteID,
                policy.rawValue, winner == nil ? "open" : "resolved", localVersion, localUpdatedAt, localData,
                change.remoteVersion, change.remoteUpdatedAt, remoteData.canonicalString, winner?.rawValue,
                winner.map { _ in "policy:\(policy.rawValue)" }, winner.map { _ in now.rfc3339 }, now.rfc3339,
            ])
        let conflict = try fetchConflict(id: id, tenantID: nil, db: db)!
        try audit.append(
            db, at: now, tenantID: integration.tenantID, integrationID: integration.id, recordID: recordID,
            actor: "ledger:\(integration.id)", action: "conflict.detected", entityType: change.recordType,
            entityID: localID, oldValue: localData,
            newValue: JSONValue.object(conflict.json).canonicalString)
        try emit(
            .conflictDetected, tenantID: integration.tenantID, integrationID: integration.id,
            data: try eventData(conflict, db: db), at: now, db: db)
        try apply(
            plan.steps, to: conflict, change: change, integration: integration, actor: "policy:\(policy.rawValue)",
            at: now, db: db, audit: &audit)
        return id
    }

    /// Applies a conflict's plan, step by step.
    ///
    /// - Parameter written: a person's values for `writeVersion` (the record's data with them applied), and the
    ///   record's data they replace.
    private static func apply(
        _ steps: [ConflictStep], to conflict: Conflict, change: PendingLedgerChange, integration: Integration,
        written: (data: JSONValue, previous: String?)? = nil, actor: String, at now: Timestamp, db: Database,
        audit: inout AuditLog
    ) throws {
        for step in steps {
            switch step {
            case .holdPendingPushes:
                try db.execute(
                    sql: """
                        UPDATE jobs SET status = 'held', last_error_code = 'conflict', last_error_message = ?,
                            updated_at = ?
                        WHERE integration_id = ? AND record_id = ? AND status = 'pending'
                        """,
                    arguments: [
                        "held until conflict \(conflict.id) is resolved: the books changed this record too",
                        now.rfc3339, conflict.integrationID, conflict.recordID,
                    ])
            case .rememberBooksVersion:
                try rememberRemoteVersion(
                    change.remoteVersion, updatedAt: change.remoteUpdatedAt, recordID: conflict.recordID,
                    integrationID: conflict.integrationID, db: db)
            case .releaseHeldPushes:
                try db.execute(
                    sql: """
                        UPDATE jobs SET status = 'pending', next_attempt_at = ?, last_error_code = NULL,
                            last_error_message = NULL, updated_at = ?
                        WHERE integration_id = ? AND record_id = ? AND status = 'held'
                        """,
                    arguments: [
                        now.microsecondsSinceEpoch, now.rfc3339, conflict.integrationID, conflict.recordID,
                    ])
            case .pushIfNoneOpen(let version):
                let open =
                    try Bool.fetchOne(
                        db,
                        sql: """
                            SELECT 1 FROM jobs WHERE integration_id = ? AND record_id = ?
                                AND status IN ('pending', 'running', 'needs_mapping')
                            """,
                        arguments: [conflict.integrationID, conflict.recordID]) ?? false
                guard !open else { continue }
                try enqueuePushJobs(
                    to: [pushTarget(integrationID: conflict.integrationID, db: db)],
                    tenantID: conflict.tenantID, recordID: conflict.recordID, recordType: conflict.recordType,
                    localID: conflict.localID, version: version, at: Moment(now), db: db)
            case .supersedePushes(let upToVersion):
                try supersedeOpenJobs(
                    integrationID: conflict.integrationID, recordID: conflict.recordID, upToVersion: upToVersion,
                    conflictID: conflict.id, at: now, db: db)
            case .takeBooksVersion(let settlingVersion):
                try takeLedgerVersion(
                    change, recordID: conflict.recordID, localID: conflict.localID, integration: integration,
                    settlesVersion: settlingVersion, actor: actor, at: now, db: db, audit: &audit)
            case .writeVersion(let newVersion):
                guard let written else { continue }
                let text = written.data.canonicalString
                try db.execute(
                    sql: """
                        UPDATE records SET version = ?, action = 'upsert', source_updated_at = ?, updated_at = ?
                        WHERE id = ?
                        """,
                    arguments: [newVersion, now.microsecondsSinceEpoch, now.rfc3339, conflict.recordID])
                try db.execute(
                    sql: """
                        INSERT INTO record_versions (record_id, version, action, source_updated_at, data, created_at)
                        VALUES (?, ?, 'upsert', ?, ?, ?)
                        """,
                    arguments: [conflict.recordID, newVersion, now.microsecondsSinceEpoch, text, now.rfc3339])
                if let recordType = RecordType(rawValue: conflict.recordType) {
                    var indexes = PendingIndexes()
                    indexes.add(
                        tenantID: conflict.tenantID, recordType: recordType, recordID: conflict.recordID,
                        data: written.data)
                    try indexes.write(db)
                }
                try enqueuePushJobs(
                    to: pushTargets(tenantID: conflict.tenantID, db: db), tenantID: conflict.tenantID,
                    recordID: conflict.recordID, recordType: conflict.recordType, localID: conflict.localID,
                    version: newVersion, at: Moment(now), db: db)
                try audit.append(
                    db, at: now, tenantID: conflict.tenantID, integrationID: conflict.integrationID,
                    recordID: conflict.recordID, actor: actor, action: "record.updated",
                    entityType: conflict.recordType, entityID: conflict.localID, oldValue: written.previous,
                    newValue: text)
            }
        }
    }

    /// Conflicts, oldest first, filtered by status, integration and tenant.
    public func conflicts(
        status: Conflict.Status? = nil, integrationID: String? = nil, tenantID: String? = nil, page: PageRequest
    ) async throws -> Page<Conflict> {
        try await writer.read { db in
            var filter = SQLFilter()
            filter.add("status = ?", status?.rawValue)
            filter.add("integration_id = ?", integrationID)
            filter.add("tenant_id = ?", tenantID)
            return try Self.rowPage(of: "conflicts", filter, page, db: db, item: Conflict.init(row:))
        }
    }

    /// One conflict; `nil` when absent or of another tenant than `tenantID`.
    public func conflict(id: String, tenantID: String? = nil) async throws -> Conflict? {
        try await writer.read { db in try Self.fetchConflict(id: id, tenantID: tenantID, db: db) }
    }

    /// A person's resolution of a held conflict, decided by `decide` (the engine's `ConflictDecision.outcome`) and
    /// applied in one transaction, audited and sent to the subscriptions as `conflict.resolved`.
    ///
    /// - Returns: the resolved conflict, or `nil` when there is no such conflict (of `tenantID`, when given).
    /// - Throws: `PersistenceError.conflict` when the resolution is refused (the conflict is not open, or billing
    ///   changed the record since the values were based on it).
    public func resolveConflict(
        id: String, tenantID: String?, decision: ConflictDecision, actor: String, at now: Timestamp,
        decide: @escaping @Sendable (ConflictResolutionFacts) -> ConflictResolutionOutcome
    ) async throws -> Conflict? {
        try await writer.write { db in
            guard let conflict = try Self.fetchConflict(id: id, tenantID: tenantID, db: db) else { return nil }
            let integration = try Self.fetchIntegration(id: conflict.integrationID, tenantID: nil, db: db)
            let record = try Row.fetchOne(
                db,
                sql: """
                    SELECT r.version, v.data FROM records r
                    JOIN record_versions v ON v.record_id = r.id AND v.version = r.version
                    WHERE r.id = ?
                    """,
                arguments: [conflict.recordID])
            if conflict.status == .open, integration == nil || record == nil { return nil }
            let facts = ConflictResolutionFacts(
                conflict: conflict, decision: decision, version: record?["version"] ?? Int(conflict.local.version) ?? 0)
            let plan: ConflictPlan
            switch decide(facts) {
            case .refused(let reason): throw PersistenceError.conflict(reason)
            case .resolved(let resolved): plan = resolved
            }
            guard let integration, let resolution = plan.resolution else { return nil }
            var values: JSONValue?
            var written: (data: JSONValue, previous: String?)?
            if case .custom(let custom, let data, _) = decision {
                values = custom
                written = (data, record?["data"])
            }
            var audit = try AuditLog(db, key: auditKey)
            try Self.markResolved(conflict, resolution, values: values, actor: actor, at: now, db: db)
            try Self.apply(
                plan.steps, to: conflict, change: PendingLedgerChange(conflict: conflict), integration: integration,
                written: written, actor: actor, at: now, db: db, audit: &audit)
            let resolved = try Self.fetchConflict(id: id, tenantID: nil, db: db)!
            try audit.append(
                db, at: now, tenantID: conflict.tenantID, integrationID: conflict.integrationID,
                recordID: conflict.recordID, actor: actor, action: "conflict.resolved", entityType: "conflict",
                entityID: id, oldValue: JSONValue.object(["status": "open"]).canonicalString,
                newValue: JSONValue.object(
                    ["resolution": .string(resolution.rawValue), "values": values ?? .null]
                ).canonicalString)
            var event = try Self.eventData(resolved, db: db)
            if case .custom(_, let data, _) = decision { event["data"] = data }
            try Self.emit(
                .conflictResolved, tenantID: conflict.tenantID, integrationID: conflict.integrationID, data: event,
                at: now, db: db)
            return resolved
        }
    }

    /// A conflict as billing reads it in `conflict.*` events: the books' side in billing's terms (its ids,
    /// `remote_…` for the platform's, amounts in the currency's precision).
    private static func eventData(_ conflict: Conflict, db: Database) throws -> [String: JSONValue] {
        var event = conflict.json
        if let recordType = RecordType(rawValue: conflict.recordType), case .object(var remote) = event["remote"] {
            remote["data"] = try LedgerEventView(integrationID: conflict.integrationID, db: db).record(
                recordType, conflict.remote.data, billingRecord: conflict.localID)
            event["remote"] = .object(remote)
        }
        return event
    }

    /// The books' version of the record as heard, so the next push names it (QuickBooks' `SyncToken`).
    static func rememberRemoteVersion(
        _ version: String, updatedAt: Int64, recordID: String, integrationID: String, db: Database
    ) throws {
        try db.execute(
            sql: """
                UPDATE synchronized_records SET remote_version = ?, remote_updated_at = ?
                WHERE record_id = ? AND integration_id = ?
                """,
            arguments: [version, updatedAt, recordID, integrationID])
    }

    private static func markResolved(
        _ conflict: Conflict, _ resolution: Conflict.Resolution, values: JSONValue?, actor: String, at now: Timestamp,
        db: Database
    ) throws {
        try db.execute(
            sql: """
                UPDATE conflicts SET status = 'resolved', resolution = ?, resolved_values = ?, resolved_by = ?,
                    resolved_at = ?
                WHERE id = ?
                """,
            arguments: [resolution.rawValue, values?.canonicalString, actor, now.rfc3339, conflict.id])
    }

    /// Billing's versions up to `upToVersion` are not pushed to this integration: the books' version won.
    static func supersedeOpenJobs(
        integrationID: String, recordID: String, upToVersion: Int, conflictID: String, at now: Timestamp,
        db: Database
    ) throws {
        try db.execute(
            sql: """
                UPDATE jobs SET status = 'superseded', lease_owner = NULL, lease_expires_at = NULL, waiting_for = NULL,
                    last_error_code = 'superseded', last_error_message = ?, updated_at = ?
                WHERE integration_id = ? AND record_id = ? AND version <= ?
                    AND status IN ('pending', 'held', 'needs_mapping', 'failed', 'dead')
                """,
            arguments: [
                "conflict \(conflictID) was decided for the books' version", now.rfc3339, integrationID, recordID,
                upToVersion,
            ])
    }

    static func fetchConflict(id: String, tenantID: String?, db: Database) throws -> Conflict? {
        var filter = SQLFilter()
        filter.add("id = ?", id)
        filter.add("tenant_id = ?", tenantID)
        return try Row.fetchOne(db, sql: "SELECT * FROM conflicts \(filter.whereClause)", arguments: filter.arguments)
            .map(Conflict.init(row:))
    }
}

extension Conflict {
    init(row: Row) {
        func json(_ column: String) -> JSONValue {
            (row[column] as String?).flatMap { try? JSONValue(parsing: Array($0.utf8)) } ?? .null
        }
        let values = json("resolved_values")
        self.init(
            id: row["id"],
            tenantID: row["tenant_id"],
            integrationID: row["integration_id"],
            recordID: row["record_id"],
            recordType: row["record_type"],
            localID: row["local_id"],
            remoteID: row["remote_id"],
            policy: Integration.ConflictPolicy(rawValue: row["policy"]) ?? .manual,
            status: Status(rawValue: row["status"]) ?? .open,
            local: Side(
                version: String(row["local_version"] as Int),
                updatedAt: Timestamp(microsecondsSinceEpoch: row["local_updated_at"]), data: json("local_data")),
            remote: Side(
                version: row["remote_version"],
                updatedAt: Timestamp(microsecondsSinceEpoch: row["remote_updated_at"]), data: json("remote_data")),
            resolution: (row["resolution"] as String?).flatMap(Resolution.init(rawValue:)),
            resolvedValues: values == .null ? nil : values,
            resolvedBy: row["resolved_by"],
            resolvedAt: (row["resolved_at"] as String?).flatMap(Timestamp.init(rfc3339:)),
            detectedAt: Timestamp(rfc3339: row["detected_at"]) ?? Timestamp(microsecondsSinceEpoch: 0)
        )
    }

    /// The conflict as the API and its events show it.
    public var json: [String: JSONValue] {
        func side(_ side: Side, remote: Bool) -> JSONValue {
            var members: [String: JSONValue] = [
                "version": .string(side.version), "updated_at": .string(side.updatedAt.rfc3339), "data": side.data,
            ]
            if remote { members["remote_id"] = .string(remoteID) }
            return .object(members)
        }
        return [
            "id": .string(id), "tenant_id": .string(tenantID), "integration_id": .string(integrationID),
            "record_id": .string(recordID), "record_type": .string(recordType), "local_id": .string(localID),
            "policy": .string(policy.rawValue), "status": .string(status.rawValue),
            "local": side(local, remote: false), "remote": side(remote, remote: true),
            "resolution": resolution.map { .string($0.rawValue) } ?? .null,
            "resolved_values": resolvedValues ?? .null,
            "resolved_by": resolvedBy.map(JSONValue.string) ?? .null,
            "resolved_at": resolvedAt.map { .string($0.rfc3339) } ?? .null,
            "detected_at": .string(detectedAt.rfc3339),
        ]
    }
}

extension PendingLedgerChange {
    /// The books' side of a conflict, as it was heard.
    init(conflict: Conflict) {
        self.init(
            seq: 0, integrationID: conflict.integrationID, recordType: conflict.recordType, remoteID: conflict.remoteID,
            remoteVersion: conflict.remote.version, remoteUpdatedAt: conflict.remote.updatedAt.microsecondsSinceEpoch,
            deleted: conflict.remote.data["deleted"]?.boolValue ?? false, data: conflict.remote.data)
    }
}
