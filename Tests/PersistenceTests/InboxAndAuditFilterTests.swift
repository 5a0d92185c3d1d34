import Accounting
import GRDB
import Testing

@testable import Persistence

/// The dashboard's Deliveries and Audit log pages: their filters find exactly what they ask for, newest first, and
/// each reads an index in order rather than sorting or scanning the table.
@Suite struct InboxAndAuditFilterTests {
    static let day = Timestamp(rfc3339: "2026-06-15T00:00:00Z")!

    func plan(_ statement: (String, StatementArguments)) throws -> [String] {
        let queue = try DatabaseQueue()
        try AppDatabase.migrator(auditKey: .random()).migrate(queue)
        return try queue.read { db in
            try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + statement.0, arguments: statement.1).map {
                $0["detail"] as String
            }
        }
    }

    @Test func aDaysEntriesAreFoundExactlyNewestFirstEvenOneStampedBeforeTheEntryWrittenBeforeIt() async throws {
        let database = try AppDatabase.inMemory()
        func add(_ name: String, at instant: Timestamp) async throws {
            _ = try await database.createIntegration(
                tenantID: "school", platform: .quickBooksOnline, name: name, actor: "api-key:key_\(name)", at: instant)
        }
        try await add("before", at: Self.day.adding(.seconds(-60)))
        for index in 0..<5 { try await add("on-\(index)", at: Self.day.adding(.seconds(3600 * Int64(index + 1)))) }
        try await add("late-night", at: Self.day.adding(.seconds(86_400 - 1)))
        try await add("next-day", at: Self.day.adding(.seconds(86_400)))
        // Stamped ten minutes before the entry written just before it, as a writer that waited would.
        try await add("waited", at: Self.day.adding(.seconds(86_400 - 600)))
        try await add("after", at: Self.day.adding(.seconds(2 * 86_400)))

        let until = Self.day.adding(.seconds(86_400))
        var names: [String] = []
        var page = try PageRequest(limit: 3)
        while true {
            let found = try await database.auditEntries(
                action: "integration.created", since: Self.day, until: until, newestFirst: true, page: page)
            names += found.items.map { String($0.actor.dropFirst("api-key:key_".count)) }
            guard let cursor = found.nextCursor else { break }
            page = try PageRequest(limit: 3, cursor: cursor)
        }
        #expect(names == ["waited", "late-night", "on-4", "on-3", "on-2", "on-1", "on-0"])

        let none = try await database.auditEntries(
            since: Self.day.adding(.seconds(10 * 86_400)), newestFirst: true, page: PageRequest())
        #expect(none.items.isEmpty)
        let before = try await database.auditEntries(until: Self.day, page: PageRequest())
        #expect(before.items.map(\.actor) == ["api-key:key_before"])
    }

    @Test func theInboxIsReadNewestFirstThroughAnIndexForEveryFilter() throws {
        for (status, source, tenant) in [
            (nil, "billing", nil), (DeliveryStatus.rejected, nil, nil), (.rejected, "quickbooks", nil),
            (nil, nil, "school"), (.accepted, "billing", nil), (nil, "billing", "school"),
        ] as [(DeliveryStatus?, String?, String?)] {
            let steps = try plan(
                AppDatabase.deliveriesStatement(
                    status: status, source: source, tenantID: tenant, newestFirst: true, after: 100, limit: 50))
            #expect(steps.count == 1 && steps[0].hasPrefix("SEARCH deliveries USING"), "\(steps)")
            #expect(!steps.contains { $0.contains("TEMP B-TREE") }, "\(steps)")
            if status == .rejected {
                #expect(steps[0].contains("deliveries_needing_attention"), "\(steps)")
            }
        }
    }

    @Test func theAuditLogIsReadNewestFirstThroughTheFiltersIndex() throws {
        typealias Filter = AppDatabase.AuditFilter
        let cases: [(Filter, String)] = [
            (Filter(integrationID: "int_1"), "integration_audit_log_integration"),
            (Filter(tenantID: "school", integrationID: "int_1"), "integration_audit_log_integration"),
            (Filter(actor: "user:usr_1"), "integration_audit_log_actor"),
            (Filter(tenantID: "school", action: "delivery.replayed"), "integration_audit_log_action"),
            (Filter(tenantID: "school"), "integration_audit_log_tenant"),
            (
                Filter(since: Self.day, until: Self.day.adding(.seconds(86_400)), seqs: (10, 20)),
                "INTEGER PRIMARY KEY (rowid>? AND rowid<?)"
            ),
        ]
        for (filter, index) in cases {
            let steps = try plan(
                AppDatabase.auditEntriesStatement(filter, newestFirst: true, after: 1_000, limit: 50))
            #expect(steps.count == 1 && steps[0].hasPrefix("SEARCH integration_audit_log USING"), "\(steps)")
            #expect(steps[0].contains(index), "\(filter): \(steps)")
            #expect(!steps.contains { $0.contains("TEMP B-TREE") }, "\(steps)")
        }
    }
}
