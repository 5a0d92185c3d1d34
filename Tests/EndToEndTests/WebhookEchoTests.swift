import Accounting
import App
import Foundation
import Persistence
import Sandbox
import Testing

/// QuickBooks announces every write by webhook, Ledgerwire's own too. Those echoes must tell billing nothing and
/// raise no conflict; a bookkeeper's edit of the same invoice afterwards must be told, once.
@Suite struct WebhookEchoTests {
    typealias World = QuickBooksWorld

    @Test func ledgerwiresOwnWritesAnnouncedByWebhookAreEchoesAndABookkeepersEditIsNot() async throws {
        try await World.run { world in
            let issuedAt = try #require(Timestamp(rfc3339: "2026-11-03T09:00:00Z"))
            try await world.bill("customer.created", World.customer("cus_1", name: "Asha Rao"))
            try await world.bill(
                "invoice.issued", World.invoice("inv_1", number: "GF-0001", customer: "cus_1", updated: issuedAt))
            let integration = try await world.connect()
            _ = try await world.mapAccounts(integration)
            try await world.fullSync(integration)

            // Ledgerwire's creates, announced.
            let created = try await world.announce()
            #expect(
                Set(created.map { "\($0.entity) \($0.operation)" }).isSuperset(of: [
                    "Customer Create", "Invoice Create",
                ]),
                "\(created)")
            try await world.hearFromTheBooks()
            let told = try await world.ledgerEvents()
            #expect(told.isEmpty, "\(told)")
            #expect(try await world.api("GET", "/conflicts").json["items"]?.arrayValue?.isEmpty == true)

            // Billing moves the due date; Ledgerwire updates the invoice in the books, and that is announced too.
            let updatedAt = try #require(Timestamp(rfc3339: "2026-11-04T09:00:00Z"))
            try await world.bill(
                "invoice.updated",
                World.invoice("inv_1", number: "GF-0001", customer: "cus_1", updated: updatedAt)
                    .merging(["due_date": "2026-11-24"]))
            try await world.drain()
            let pushed = try #require(await world.objects("Invoice").first)
            #expect(pushed["DueDate"] == "2026-11-24", "the update never reached the books: \(pushed)")
            let updated = try await world.announce(.cloudEvents)
            #expect(updated.contains { $0.entity == "Invoice" && $0.operation == "Update" }, "\(updated)")
            try await world.hearFromTheBooks()
            let toldAfterUpdate = try await world.ledgerEvents()
            #expect(toldAfterUpdate.isEmpty, "\(toldAfterUpdate)")
            #expect(try await world.api("GET", "/conflicts").json["items"]?.arrayValue?.isEmpty == true)
            // Both echoes were fetched and handled, not left waiting.
            #expect(try await world.components.database.integrationsWithPendingLedgerChanges().isEmpty)
            #expect(try await world.components.database.dueLedgerNotifications(limit: 10, at: .now()).isEmpty)

            // A bookkeeper's edit of the same invoice is a change billing must hear of, once.
            let edited = try await world.bookkeeper(
                "POST", "invoice",
                [
                    "Id": pushed["Id"] ?? .null, "SyncToken": pushed["SyncToken"] ?? .null, "sparse": true,
                    "DueDate": "2026-12-01",
                ])
            #expect(edited.status == 200, "\(edited.json)")
            try await world.announce()
            try await world.hearFromTheBooks()
            let changed = try await world.ledgerEvents()
            #expect(changed.count == 1, "\(changed)")
            #expect(changed.first?["type"] == "ledger.invoice.changed")
            #expect(changed.first?["data"]?["invoice_id"] == "inv_1")
            #expect(changed.first?["data"]?["data"]?["due_date"] == "2026-12-01")
            #expect(try await world.api("GET", "/conflicts").json["items"]?.arrayValue?.isEmpty == true)
        }
    }
}
