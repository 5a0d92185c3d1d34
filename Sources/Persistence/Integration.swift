import Accounting
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
    public var sync: SyncSettings
    public var lastSyncAt: Timestamp?
    public var createdAt: Timestamp
    public var updatedAt: Timestamp
}

extension Integration.SyncSettings {
    var json: JSONValue {
        .object([
            "interval_seconds": .number(String(intervalSeconds)),
            "conflict_policy": .string(conflictPolicy.rawValue),
            "enabled": .bool(enabled),
            "max_attempts": .number(String(maxAttempts)),
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
    }
}

extension AppDatabase {
    /// Creates an integration (status `pending`) and audits it.
    public func createIntegration(
        tenantID: String,
        platform: Platform,
        name: String,
        settings: JSONValue = .object([:]),
        sync: Integration.SyncSettings = .init(),
        actor: String,
        at now: Timestamp = .now()
    ) async throws -> Integration {
        let integration = Integration(
            id: Identifiers.make("int"),
            tenantID: tenantID,
            platform: platform,
            name: name,
            status: .pending,
            settings: settings,
            sync: sync,
            lastSyncAt: nil,
            createdAt: now,
            updatedAt: now
        )
        try await writer.write { db in
            try db.execute(
                sql: """
                    INSERT INTO integration_configs (id, tenant_id, platform, name, status, settings, sync, created_at,
                        updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    integration.id, tenantID, platform.rawValue, name, integration.status.rawValue,
                    settings.canonicalString, sync.json.canonicalString, now.rfc3339, now.rfc3339,
                ]
            )
            var audit = try AuditLog(db)
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
                newValue: JSONValue.object([
                    "platform": .string(platform.rawValue), "name": .string(name), "sync": sync.json,
                ]).canonicalString
            )
        }
        return integration
    }

    /// One integration; `nil` when absent or of another tenant than `tenantID`.
    public func integration(id: String, tenantID: String? = nil) async throws -> Integration? {
        try await writer.read { db in try Self.fetchIntegration(id: id, tenantID: tenantID, db: db) }
    }

    /// Moves an integration to `status` and audits the change; `false` when there is no such integration.
    @discardableResult
    public func setIntegrationStatus(
        id: String,
        to status: Integration.Status,
        actor: String,
        at now: Timestamp = .now()
    ) async throws -> Bool {
        try await writer.write { db in
            guard let current = try Self.fetchIntegration(id: id, tenantID: nil, db: db) else { return false }
            guard current.status != status else { return true }
            try db.execute(
                sql: "UPDATE integration_configs SET status = ?, updated_at = ? WHERE id = ?",
                arguments: [status.rawValue, now.rfc3339, id]
            )
            var audit = try AuditLog(db)
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
            return true
        }
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
    init(row: Row) {
        func json(_ column: String) -> JSONValue {
            (try? JSONValue(parsing: Array((row[column] as String? ?? "{}").utf8))) ?? .object([:])
        }
        self.init(
            id: row["id"],
            tenantID: row["tenant_id"],
            platform: Platform(rawValue: row["platform"]) ?? .quickBooksOnline,
            name: row["name"],
            status: Status(rawValue: row["status"]) ?? .pending,
            settings: json("settings"),
            sync: SyncSettings(json: json("sync")),
            lastSyncAt: (row["last_sync_at"] as String?).flatMap(Timestamp.init(rfc3339:)),
            createdAt: Timestamp(rfc3339: row["created_at"]) ?? Timestamp(microsecondsSinceEpoch: 0),
            updatedAt: Timestamp(rfc3339: row["updated_at"]) ?? Timestamp(microsecondsSinceEpoch: 0)
        )
    }
}
