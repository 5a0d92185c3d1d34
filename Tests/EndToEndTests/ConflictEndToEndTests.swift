import Accounting
import Foundation
import Sandbox
import Testing

/// Billing and the bookkeeper change the same invoice: under the manual policy the conflict is held for a person,
/// the push waits, and the person's decision reaches billing as `conflict.resolved` (both events keep their schema,
/// checked by the world as every test ends).
@Suite struct ConflictEndToEndTests {
    typealias World = QuickBooksWorld

    @Test func aConflictHeldForAPersonIsResolvedThroughTheAPIAndBillingIsTold() async throws {
        try await World.run { world in
            let integration = try await world.connect()
            _ = try await world.mapAccounts(integration)
            let policy = try await world.api(
                "PATCH", "/integrations/\(integration)", ["sync": ["conflict_policy": "manual"]])
            #expect(policy.status == 200, "\(policy.json)")
            try await world.bill("customer.created", World.customer("cus_1", name: "Priya Raghavan"))
            try await world.bill(
                "invoice.issued",
                World.invoice(
                    "inv_1", number: "GF-0001", customer: "cus_1", updated: Timestamp(rfc3339: "2026-11-03T09:00:00Z")!)
            )
            try await world.drain()
            let invoice = try #require(await world.objects("Invoice").first)

            // Billing moves the due date; before that push runs, the bookkeeper changes the invoice in QuickBooks.
            try await world.bill(
                "invoice.updated",
                World.invoice(
                    "inv_1", number: "GF-0001", customer: "cus_1", updated: Timestamp(rfc3339: "2026-11-04T09:00:00Z")!
                )
                .merging(["due_date": "2026-11-30"]))
            let edited = try await world.bookkeeper(
                "POST", "invoice",
                [
                    "Id": invoice["Id"] ?? .null, "SyncToken": invoice["SyncToken"] ?? .null, "sparse": true,
                    "DueDate": "2026-12-15",
                ])
            #expect(edited.status == 200, "\(edited.json)")
            let reports = await world.sandbox.deliverWebhooks(with: world.sender())
            #expect(!reports.isEmpty && reports.allSatisfy(\.delivered))
            try await world.hearFromTheBooks()

            let open = try await world.api("GET", "/conflicts?status=open")
            let conflict = try #require(open.json["items"]?[0], "\(open.json)")
            #expect(conflict["local_id"] == "inv_1" && conflict["policy"] == "manual")
            #expect(conflict["remote"]?["data"]?["due_date"] == "2026-12-15")
            #expect(conflict["local"]?["data"]?["due_date"] == "2026-11-30")
            #expect(try await world.events("conflict.detected").count == 1)
            // Held: billing's push does not overwrite the bookkeeper's change while nobody has decided.
            try await world.drain()
            #expect(await world.objects("Invoice").first?["DueDate"] == "2026-12-15")

            // The person keeps billing's due date: it is pushed, and billing hears the decision.
            let id = try #require(conflict["id"]?.stringValue)
            let resolved = try await world.api("POST", "/conflicts/\(id)/resolve", ["resolution": "use_local"])
            #expect(resolved.status == 200, "\(resolved.json)")
            try await world.drain()
            #expect(await world.objects("Invoice").first?["DueDate"] == "2026-11-30")
            let told = try await world.events("conflict.resolved")
            #expect(told.count == 1)
            #expect(told.first?["id"] == .string(id) && told.first?["resolution"] == "use_local")
            #expect(told.first?["status"] == "resolved" && told.first?["resolved_by"]?.stringValue != nil)
        }
    }
}
