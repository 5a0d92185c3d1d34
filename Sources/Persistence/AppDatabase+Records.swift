public import Accounting
import Foundation
import GRDB

/// A canonical record at its newest version, with its links to each integration's copy.
public struct StoredRecord: Sendable, Hashable {
    public var id: String
    public var tenantID: String
    public var recordType: String
    public var localID: String
    public var version: Int
    public var action: String
    public var data: JSONValue
    public var sourceUpdatedAt: Timestamp
    public var createdAt: Timestamp
    public var updatedAt: Timestamp
    public var links: [RecordLink]
}

/// Where a record stands in one integration's books.
public struct RecordLink: Sendable, Hashable {
    public var integrationID: String
    public var remoteID: String?
    /// The books' version of the record, as last written or heard (a platform's own token; `nil` when none).
    public var remoteVersion: String?
    public var status: String
    public var lastSyncedAt: Timestamp?
    /// The record's version the link holds: last written to the books, or downloaded in a file (`exported`).
    public var localVersion: Int?
}

/// One version of a record, as it was stored.
public struct RecordVersion: Sendable, Hashable {
    public var recordID: String
    public var version: Int
    public var action: String
    public var data: JSONValue
    public var sourceUpdatedAt: Timestamp
    public var deliveryID: String?
    public var createdAt: Timestamp
}

extension AppDatabase {
    /// Canonical records filtered by tenant, type, billing id, and by integration or remote id through their links.
    public func records(
        tenantID: String? = nil,
        recordType: String? = nil,
        localID: String? = nil,
        integrationID: String? = nil,
        remoteID: String? = nil,
        page: PageRequest
    ) async throws -> Page<StoredRecord> {
        try await writer.read { db in
            var filter = SQLFilter()
            filter.add("r.tenant_id = ?", tenantID)
            filter.add("r.record_type = ?", recordType)
            filter.add("r.local_id = ?", localID)
            filter.add(
                "EXISTS (SELECT 1 FROM synchronized_records s WHERE s.record_id = r.id AND s.integration_id = ?)",
                integrationID
            )
            filter.add(
                "EXISTS (SELECT 1 FROM synchronized_records s WHERE s.record_id = r.id AND s.remote_id = ?)",
                remoteID
            )
            filter.add("r.rowid > ?", page.after)
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT r.rowid, r.*, v.data FROM records r
                    JOIN record_versions v ON v.record_id = r.id AND v.version = r.version
                    \(filter.whereClause) ORDER BY r.rowid LIMIT ?
                    """,
                arguments: filter.arguments + [page.limit + 1]
            )
            return try Page(rows: rows, limit: page.limit, cursor: { $0["rowid"] }) { row in
                try StoredRecord(row: row, links: Self.links(recordID: row["id"], db: db))
            }
        }
    }

    /// Records a person looks for by what they know of one (`text`, trimmed): its id, billing's id, its number (an
    /// invoice's, a credit note's), or its customer (the customer's billing id, or the start of the customer's name,
    /// any case) — the customer's own record among them, when billing sent it. Each is a range of `record_search`'s
    /// key (migration `0024 record search`) whatever the store holds; a number or name a record once had finds it too.
    public func searchRecords(
        _ text: String, tenantID: String? = nil, recordType: String? = nil, page: PageRequest
    ) async throws -> Page<StoredRecord> {
        let term = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !term.isEmpty else { return Page(items: [], nextCursor: nil) }
        let name = term.lowercased()
        return try await writer.read { db in
            var filter = SQLFilter()
            filter.add("r.tenant_id = ?", tenantID)
            filter.add("r.record_type = ?", recordType)
            filter.add("r.rowid > ?", page.after)
            let rows = try Row.fetchAll(
                db,
                sql: Self.recordSearch(filter.whereClause, oneTenant: tenantID != nil),
                arguments: [term, name] + (tenantID.map { [$0] } ?? []) + filter.arguments + [page.limit + 1]
            )
            return try Page(rows: rows, limit: page.limit, cursor: { $0["rowid"] }) { row in
                try StoredRecord(row: row, links: Self.links(recordID: row["id"], db: db))
            }
        }
    }

    /// `searchRecords`' statement: `?1` the text, `?2` it in lower case, `?3` the tenant when `oneTenant`, then
    /// `whereClause`'s arguments and the limit.
    ///
    /// Billing's id is looked up in `records`' own key (tenant, type, id): in the one tenant's, or in each tenant's,
    /// found by stepping through the key's first column (a loose index scan: one probe per tenant). A number, a
    /// customer's id on its records, and a name's prefix are ranges of `record_search`. The joins are pinned
    /// (`CROSS JOIN`), and a customer's id is compared without its column's affinity (`+`) so the key is used
    /// (`RecordSearchPlanTests`).
    static func recordSearch(_ whereClause: String, oneTenant: Bool) -> String {
        let tenants =
            oneTenant
            ? "tenants(id) AS (SELECT ?3)"
            : """
            tenants(id) AS (
                SELECT min(tenant_id) FROM records
                UNION ALL SELECT (SELECT min(tenant_id) FROM records WHERE tenant_id > t.id) FROM tenants t
                WHERE t.id IS NOT NULL
            )
            """
        let types = RecordType.allCases.map { "'\($0.rawValue)'" }.joined(separator: ", ")
        return """
            WITH RECURSIVE \(tenants),
            named(id, local_id) AS (
                SELECT c.id, c.local_id FROM record_search s CROSS JOIN records c ON c.id = s.record_id
                WHERE s.term >= 'name:' || ?2 AND s.term < 'name:' || ?2 || char(1114111) AND c.record_type = 'customer'
            ),
            hits(record_id) AS (
                SELECT r.id FROM tenants t CROSS JOIN records r
                    ON r.tenant_id = t.id AND r.record_type IN (\(types)) AND r.local_id = ?1
                UNION SELECT record_id FROM record_search WHERE term = ?1
                UNION SELECT id FROM named
                UNION SELECT s.record_id FROM named n CROSS JOIN record_search s ON s.term = +n.local_id
            )
            SELECT r.rowid, r.*, v.data FROM hits h
            CROSS JOIN records r ON r.id = h.record_id
            CROSS JOIN record_versions v ON v.record_id = r.id AND v.version = r.version
            \(whereClause) ORDER BY r.rowid LIMIT ?
            """
    }

    /// The terms one version of a record is found by in `record_search`, besides billing's id (which `records`' own
    /// key finds): its number, its customer's id, and a customer's name in lower case after `name:`.
    static func searchTerms(data: JSONValue) -> [String] {
        var terms: [String] = []
        if let number = data["number"]?.stringValue { terms.append(number) }
        if let customer = data["customer_id"]?.stringValue { terms.append(customer) }
        if let name = data["name"]?.stringValue { terms.append("name:" + name.lowercased()) }
        return terms
    }

    /// One record; `nil` when absent or of another tenant than `tenantID`.
    public func record(id: String, tenantID: String? = nil) async throws -> StoredRecord? {
        try await writer.read { db in
            var filter = SQLFilter()
            filter.add("r.id = ?", id)
            filter.add("r.tenant_id = ?", tenantID)
            guard
                let row = try Row.fetchOne(
                    db,
                    sql: """
                        SELECT r.*, v.data FROM records r
                        JOIN record_versions v ON v.record_id = r.id AND v.version = r.version
                        \(filter.whereClause)
                        """,
                    arguments: filter.arguments
                )
            else { return nil }
            return try StoredRecord(row: row, links: Self.links(recordID: id, db: db))
        }
    }

    /// Every version of a record, oldest first.
    public func recordVersions(recordID: String, page: PageRequest) async throws -> Page<RecordVersion> {
        try await writer.read { db in
            let rows = try Row.fetchAll(
                db,
                sql: "SELECT * FROM record_versions WHERE record_id = ? AND version > ? ORDER BY version LIMIT ?",
                arguments: [recordID, page.after ?? 0, page.limit + 1]
            )
            return Page(rows: rows, limit: page.limit, cursor: { $0["version"] }) { row in
                RecordVersion(
                    recordID: row["record_id"],
                    version: row["version"],
                    action: row["action"],
                    data: (try? JSONValue(parsing: Array((row["data"] as String).utf8))) ?? .null,
                    sourceUpdatedAt: Timestamp(microsecondsSinceEpoch: row["source_updated_at"]),
                    deliveryID: row["delivery_id"],
                    createdAt: Timestamp(rfc3339: row["created_at"]) ?? Timestamp(microsecondsSinceEpoch: 0)
                )
            }
        }
    }

    static func links(recordID: String, db: Database) throws -> [RecordLink] {
        try Row.fetchAll(
            db,
            sql: "SELECT * FROM synchronized_records WHERE record_id = ? ORDER BY integration_id",
            arguments: [recordID]
        ).map(link)
    }

    /// A `synchronized_records` row as a link.
    static func link(_ row: Row) -> RecordLink {
        RecordLink(
            integrationID: row["integration_id"], remoteID: row["remote_id"], remoteVersion: row["remote_version"],
            status: row["status"],
            lastSyncedAt: (row["last_synced_at"] as String?).flatMap(Timestamp.init(rfc3339:)),
            localVersion: row["local_version"])
    }
}

extension StoredRecord {
    init(row: Row, links: [RecordLink]) throws {
        self.init(
            id: row["id"],
            tenantID: row["tenant_id"],
            recordType: row["record_type"],
            localID: row["local_id"],
            version: row["version"],
            action: row["action"],
            data: try JSONValue(parsing: Array((row["data"] as String).utf8)),
            sourceUpdatedAt: Timestamp(microsecondsSinceEpoch: row["source_updated_at"]),
            createdAt: Timestamp(rfc3339: row["created_at"]) ?? Timestamp(microsecondsSinceEpoch: 0),
            updatedAt: Timestamp(rfc3339: row["updated_at"]) ?? Timestamp(microsecondsSinceEpoch: 0),
            links: links
        )
    }
}
