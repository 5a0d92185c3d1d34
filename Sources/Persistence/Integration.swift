public import Accounting
import Foundation
import GRDB

/// One tenant's connection to one accounting platform.
public struct Integration: Sendable, Hashable {
    public enum Status: String, Sendable, Hashable, CaseIterable {
        /// Created, never connected.
        case pending
        case connected
        /// Its credentials were refused; jobs wait until it is connected again.
        case disconnected
        /// Switched off by a person: nothing is queued or pushed for it.
        case disabled
    }

    /// Who wins when billing and the books both changed a record since its last sync.
    public enum ConflictPolicy: String, Sendable, Hashable, CaseIterable {
        case lastModifiedWins = "last_modified_wins"
        case billingWins = "billing_wins"
        case ledgerWins = "ledger_wins"
        /// Held for a person to resolve.
        case manual
    }

    /// How and how often the integration syncs.
    public struct SyncSettings: Sendable, Hashable {
        public var intervalSeconds: Int
        public var conflictPolicy: ConflictPolicy
        public var enabled: Bool
        /// Attempts per job before it is dead-lettered.
        public var maxAttempts: Int
        /// How often payments are polled where the platform sends no webhooks for them (Xero); `nil`: the
        /// platform's default (`ConnectorCapabilities.paymentsInterval`).
        public var paymentsIntervalSeconds: Int? = nil

        public init(
            intervalSeconds: Int = 3600,
            conflictPolicy: ConflictPolicy = .lastModifiedWins,
            enabled: Bool = true,
            maxAttempts: Int = 3
        ) {
            self.intervalSeconds = intervalSeconds
            self.conflictPolicy = conflictPolicy
            self.enabled = enabled
            self.maxAttempts = maxAttempts
        }
    }

    public var id: String
    public var tenantID: String
    public var platform: Platform
    public var name: String
    public var status: Status
    /// Non-secret settings (secrets are sealed apart and never returned).
    public var settings: JSONValue
    /// The names of the secret settings that are set (`client_secret`), never their values.
    public var secretSettings: [String]
    public var sync: SyncSettings
    public var lastSyncAt: Timestamp?
    public var createdAt: Timestamp
    public var updatedAt: Timestamp
    /// The platform company the integration is connected to (a QuickBooks realm, a Xero organisation), once it is.
    public var remoteTenantID: String? = nil
    /// Set while its platform cannot be reached (connections refused, its host unknown); cleared by the next call
    /// that gets an answer.
    public var unreachable: Unreachability? = nil
    /// The connection whose credentials its calls use (shared with other integrations of one consent), once it has
    /// credentials.
    public var connectionID: String? = nil
    /// Why it is `disconnected`, in plain words naming the company or the address; `nil` otherwise.
    public var statusReason: String? = nil

    /// The settings key under which the companies a grant opens wait for a person's choice
    /// (`[{tenant_id, name}]`, shown as the integration's `available_tenants`).
    public static let availableTenantsKey = "available_tenants"

    /// The companies its grant opens, while a person has one to choose (the integration is `pending` until then).
    public var availableTenants: [(id: String, name: String)] {
        (settings[Self.availableTenantsKey]?.arrayValue ?? []).compactMap { entry in
            guard let id = entry["tenant_id"]?.stringValue else { return nil }
            return (id, entry["name"]?.stringValue ?? id)
        }
    }
}

/// An integration's platform out of reach, as the sync engine found it.
public struct Unreachability: Sendable, Hashable {
    /// The first failure of this outage.
    public var since: Timestamp
    /// The latest failure.
    public var lastError: JobError
    /// When its jobs are tried again: none is claimed before.
    public var nextCheckAt: Timestamp?

    public init(since: Timestamp, lastError: JobError, nextCheckAt: Timestamp?) {
        self.since = since
        self.lastError = lastError
        self.nextCheckAt = nextCheckAt
    }
}

extension Integration.SyncSettings {
    var json: JSONValue {
        .object([
            "interval_seconds": .number(String(intervalSeconds)),
            "conflict_policy": .string(conflictPolicy.rawValue),
            "enabled": .bool(enabled),
            "max_attempts": .number(String(maxAttempts)),
            "payments_interval_seconds": paymentsIntervalSeconds.map { .number(String($0)) } ?? .null,
        ])
    }

    init(json: JSONValue) {
        let defaults = Self()
        self.init(
            intervalSeconds: json["interval_seconds"]?.intValue ?? defaults.intervalSeconds,
            conflictPolicy: json["conflict_policy"]?.stringValue.flatMap(Integration.ConflictPolicy.init(rawValue:))
                ?? defaults.conflictPolicy,
            enabled: json["enabled"]?.boolValue ?? defaults.enabled,
            maxAttempts: json["max_attempts"]?.intValue ?? defaults.maxAttempts
        )
        paymentsIntervalSeconds = json["payments_interval_seconds"]?.intValue
    }
}

extension AppDatabase {
    /// Creates an integration (status `pending`) and audits it. Secret settings (`client_secret`) are sealed under
    /// the master key with `box`, bound to the integration's id, and never stored or returned in the clear.
    public func createIntegration(
        tenantID: String,
        platform: Platform,
        name: String,
        settings: JSONValue = .object([:]),
        sync: Integration.SyncSettings = .init(),
        box: SecretBox? = nil,
        actor: String,
        at now: Timestamp = .now()
    ) async throws -> Integration {
        var integration = Integration(
            id: Identifiers.make("int"),
            tenantID: tenantID,
            platform: platform,
            name: name,
            status: .pending,
            settings: Integration.publicSettings(settings),
            secretSettings: [],
            sync: sync,
            lastSyncAt: nil,
            createdAt: now,
            updatedAt: now
        )
        let secrets = Integration.secretSettings(settings)
        integration.secretSettings = secrets.keys.sorted()
        let sealed = try Self.seal(secrets, integrationID: integration.id, box: box)
        try await writer.write { [integration] db in
            try db.execute(
                sql: """
                    INSERT INTO integration_configs (id, tenant_id, platform, name, status, settings, sealed_secrets,
                        sync, created_at, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    integration.id, tenantID, platform.rawValue, name, integration.status.rawValue,
                    integration.settings.canonicalString, sealed, sync.json.canonicalString, now.rfc3339, now.rfc3339,
                ]
            )
            var audit = try AuditLog(db, key: auditKey)
            try audit.append(
                db,
                at: now,
                tenantID: tenantID,
                integrationID: integration.id,
                recordID: nil,
                actor: actor,
                action: "integration.created",
                entityType: "integration",
                entityID: integration.id,
                oldValue: nil,
                newValue: integration.auditJSON.canonicalString
            )
        }
        return integration
    }

    /// One integration; `nil` when absent or of another tenant than `tenantID`.
    public func integration(id: String, tenantID: String? = nil) async throws -> Integration? {
        try await writer.read { db in try Self.fetchIntegration(id: id, tenantID: tenantID, db: db) }
    }

    /// Moves an integration to `status` and audits the change; `false` when there is no such integration.
    /// Becoming `disconnected` is sent as `integration.disconnected`, with `reason`.
    @discardableResult
    public func setIntegrationStatus(
        id: String,
        to status: Integration.Status,
        actor: String,
        reason: String? = nil,
        at now: Timestamp = .now()
    ) async throws -> Bool {
        try await writer.write { db in
            guard let current = try Self.fetchIntegration(id: id, tenantID: nil, db: db) else { return false }
            guard current.status != status else {
                // Still disconnected, for a reason found since: the newest reason is the one shown.
                if status == .disconnected, let reason, reason != current.statusReason {
                    try db.execute(
                        sql: "UPDATE integration_configs SET status_reason = ? WHERE id = ?", arguments: [reason, id])
                }
                return true
            }
            // Leaving `disabled` takes the company back, unless another integration connected it meanwhile.
            try Self.refusingSharedRemoteTenant(current.platform, try Self.remoteTenantID(of: id, db: db)) {
                try db.execute(
                    sql: "UPDATE integration_configs SET status = ?, status_reason = ?, updated_at = ? WHERE id = ?",
                    arguments: [status.rawValue, status == .disconnected ? reason : nil, now.rfc3339, id]
                )
            }
            var audit = try AuditLog(db, key: auditKey)
            try audit.append(
                db,
                at: now,
                tenantID: current.tenantID,
                integrationID: id,
                recordID: nil,
                actor: actor,
                action: "integration.status_changed",
                entityType: "integration",
                entityID: id,
                oldValue: JSONValue.object(["status": .string(current.status.rawValue)]).canonicalString,
                newValue: JSONValue.object(["status": .string(status.rawValue)]).canonicalString
            )
            if status == .disconnected {
                var data: [String: JSONValue] = [
                    "integration_id": .string(id), "platform": .string(current.platform.rawValue),
                    "name": .string(current.name),
                ]
                if let reason { data["reason"] = .string(reason) }
                try Self.emit(
                    .integrationDisconnected, tenantID: current.tenantID, integrationID: id, data: data, at: now,
                    db: db)
            }
            return true
        }
    }

    /// Integrations, oldest first, of `tenantID` when given.
    public func integrations(tenantID: String?, page: PageRequest) async throws -> Page<Integration> {
        try await writer.read { db in
            var filter = SQLFilter()
            filter.add("tenant_id = ?", tenantID)
            return try Self.rowPage(of: "integration_configs", filter, page, db: db, item: Integration.init(row:))
        }
    }

    /// What `PATCH /integrations/{id}` may change; `nil` leaves a field as it is. Settings are merged key by key
    /// (a `null` value removes the key).
    public struct IntegrationChange: Sendable {
        public var name: String?
        public var settings: [String: JSONValue]?
        public var sync: Integration.SyncSettings?
        public var status: Integration.Status?

        public init(
            name: String? = nil, settings: [String: JSONValue]? = nil, sync: Integration.SyncSettings? = nil,
            status: Integration.Status? = nil
        ) {
            self.name = name
            self.settings = settings
            self.sync = sync
            self.status = status
        }
    }

    /// Applies `change` and audits the old and new values; `nil` when absent or of another tenant than `tenantID`.
    public func updateIntegration(
        id: String,
        tenantID: String?,
        _ change: IntegrationChange,
        box: SecretBox?,
        actor: String,
        at now: Timestamp = .now()
    ) async throws -> Integration? {
        try await writer.write { db in
            guard
                let current = try Self.fetchIntegration(id: id, tenantID: tenantID, db: db),
                let row = try Row.fetchOne(
                    db, sql: "SELECT sealed_secrets FROM integration_configs WHERE id = ?", arguments: [id])
            else { return nil }
            var updated = current
            updated.name = change.name ?? current.name
            updated.sync = change.sync ?? current.sync
            updated.status = change.status ?? current.status
            var sealed: Data? = row["sealed_secrets"]
            if let patch = change.settings {
                var settings = current.settings.objectValue ?? [:]
                var secrets = try Self.openSecrets(sealed, integrationID: id, box: box)
                for (key, value) in patch {
                    let isSecret = Integration.secretKeys.contains(key)
                    if value == .null {
                        settings[key] = nil
                        if isSecret { secrets[key] = nil }
                    } else if isSecret, let text = value.stringValue {
                        secrets[key] = text
                    } else {
                        settings[key] = value
                    }
                }
                updated.settings = .object(settings)
                updated.secretSettings = secrets.keys.sorted()
                sealed = try Self.seal(secrets, integrationID: id, box: box)
            }
            updated.updatedAt = now
            try Self.refusingSharedRemoteTenant(current.platform, try Self.remoteTenantID(of: id, db: db)) {
                try db.execute(
                    sql: """
                        UPDATE integration_configs SET name = ?, status = ?, settings = ?, sealed_secrets = ?, sync = ?,
                            updated_at = ?
                        WHERE id = ?
                        """,
                    arguments: [
                        updated.name, updated.status.rawValue, updated.settings.canonicalString, sealed,
                        updated.sync.json.canonicalString, now.rfc3339, id,
                    ]
                )
            }
            var audit = try AuditLog(db, key: auditKey)
            try audit.append(
                db, at: now, tenantID: current.tenantID, integrationID: id, recordID: nil, actor: actor,
                action: "integration.updated", entityType: "integration", entityID: id,
                oldValue: current.auditJSON.canonicalString, newValue: updated.auditJSON.canonicalString)
            return updated
        }
    }

    /// Deletes an integration with its jobs, links and mappings (audited); `false` when absent or of another tenant.
    public func deleteIntegration(id: String, tenantID: String?, actor: String, at now: Timestamp = .now())
        async throws -> Bool
    {
        try await writer.write { db in
            guard let current = try Self.fetchIntegration(id: id, tenantID: tenantID, db: db) else { return false }
            try db.execute(
                sql: "DELETE FROM job_attempts WHERE job_id IN (SELECT id FROM jobs WHERE integration_id = ?)",
                arguments: [id])
            try db.execute(sql: "DELETE FROM jobs WHERE integration_id = ?", arguments: [id])
            try db.execute(sql: "DELETE FROM synchronized_records WHERE integration_id = ?", arguments: [id])
            try db.execute(sql: "DELETE FROM field_mappings WHERE integration_id = ?", arguments: [id])
            try db.execute(sql: "DELETE FROM sync_operations WHERE integration_id = ?", arguments: [id])
            try db.execute(sql: "DELETE FROM integration_configs WHERE id = ?", arguments: [id])
            if let connectionID = current.connectionID { try Self.deleteConnectionIfUnused(connectionID, db: db) }
            var audit = try AuditLog(db, key: auditKey)
            try audit.append(
                db, at: now, tenantID: current.tenantID, integrationID: id, recordID: nil, actor: actor,
                action: "integration.deleted", entityType: "integration", entityID: id,
                oldValue: current.auditJSON.canonicalString, newValue: nil)
            return true
        }
    }

    private static func seal(_ secrets: [String: String], integrationID: String, box: SecretBox?) throws -> Data? {
        guard !secrets.isEmpty else { return nil }
        guard let box else { throw PersistenceError.secretUnreadable }
        let json = JSONValue.object(secrets.mapValues(JSONValue.string)).canonicalBytes
        return try box.seal(json, context: "integration:\(integrationID)")
    }

    static func openSecrets(_ sealed: Data?, integrationID: String, box: SecretBox?) throws -> [String: String] {
        guard let sealed else { return [:] }
        guard let box else { throw PersistenceError.secretUnreadable }
        let json = try JSONValue(parsing: Array(try box.open(sealed, context: "integration:\(integrationID)")))
        return (json.objectValue ?? [:]).compactMapValues(\.stringValue)
    }

    static func fetchIntegration(id: String, tenantID: String?, db: Database) throws -> Integration? {
        var filter = SQLFilter()
        filter.add("id = ?", id)
        filter.add("tenant_id = ?", tenantID)
        return try Row.fetchOne(
            db, sql: "SELECT * FROM integration_configs \(filter.whereClause)", arguments: filter.arguments
        ).map(Integration.init(row:))
    }
}

extension Integration {
    /// - Throws: `PersistenceError.unknownPlatform` for a row of a platform this build does not know: it is never
    ///   read as another platform's.
    init(row: Row) throws {
        let platformName: String = row["platform"]
        guard let platform = Platform(rawValue: platformName) else {
            throw PersistenceError.unknownPlatform(integrationID: row["id"], platform: platformName)
        }
        func json(_ column: String) -> JSONValue {
            (try? JSONValue(parsing: Array((row[column] as String? ?? "{}").utf8))) ?? .object([:])
        }
        self.init(
            id: row["id"],
            tenantID: row["tenant_id"],
            platform: platform,
            name: row["name"],
            status: Status(rawValue: row["status"]) ?? .pending,
            settings: json("settings"),
            // Which secrets are set is known without opening them: today there is one, the client secret.
            secretSettings: (row["sealed_secrets"] as Data?) == nil ? [] : Self.secretKeys.sorted(),
            sync: SyncSettings(json: json("sync")),
            lastSyncAt: (row["last_sync_at"] as String?).flatMap(Timestamp.init(rfc3339:)),
            createdAt: Timestamp(rfc3339: row["created_at"]) ?? Timestamp(microsecondsSinceEpoch: 0),
            updatedAt: Timestamp(rfc3339: row["updated_at"]) ?? Timestamp(microsecondsSinceEpoch: 0),
            remoteTenantID: row["remote_tenant_id"],
            unreachable: (row["unreachable_since"] as Int64?).map { since in
                Unreachability(
                    since: Timestamp(microsecondsSinceEpoch: since),
                    lastError: JobError(
                        code: row["unreachable_error_code"] ?? "unreachable",
                        message: row["unreachable_error_message"] ?? ""),
                    nextCheckAt: (row["next_check_at"] as Int64?).map(Timestamp.init(microsecondsSinceEpoch:)))
            },
            connectionID: row["connection_id"],
            statusReason: row["status_reason"]
        )
    }
}

extension Integration {
    /// Settings that are secrets: sealed, never stored or returned in the clear.
    public static let secretKeys: Set<String> = ["client_secret"]

    static func publicSettings(_ settings: JSONValue) -> JSONValue {
        .object((settings.objectValue ?? [:]).filter { !secretKeys.contains($0.key) })
    }

    static func secretSettings(_ settings: JSONValue) -> [String: String] {
        (settings.objectValue ?? [:]).filter { secretKeys.contains($0.key) }.compactMapValues(\.stringValue)
    }

    /// What the audit log keeps of an integration: never a secret.
    var auditJSON: JSONValue {
        .object([
            "platform": .string(platform.rawValue), "name": .string(name), "status": .string(status.rawValue),
            "settings": settings, "sync": sync.json,
        ])
    }
}
