import Accounting
import Testing

/// A finance manager's manual override of one record in one integration's books, through the API, against the
/// QuickBooks Online emulator: what the books end up holding is what they asked for, and each step is audited.
@Suite struct ManualOverrideTests {
    typealias World = QuickBooksWorld

    /// Billing's invoice with its first line dearer: a second version whose totals differ from the first.
    static let dearer = World.invoice(
        "inv_1", number: "GF-0001", customer: "cus_1", updated: Timestamp(rfc3339: "2026-11-04T09:00:00Z")!
    ).merging([
        "lines": [
            [
                "id": "line_1", "description": "Term 2 tuition", "quantity": 1, "unit_amount": "46000.00",
                "amount": "46000.00", "revenue_account": "4000-TUITION", "tax_code": "GST18", "tax_amount": "8280.00",
            ],
            [
                "id": "line_2", "description": "School bus", "quantity": 3, "unit_amount": "1500.00",
                "discount_amount": "500.00", "amount": "4000.00", "revenue_account": "4100-TRANSPORT",
                "tax_code": "GST18", "tax_amount": "720.00",
            ],
        ],
        "subtotal": "50000.00", "tax_total": "9000.00", "total": "59000.00",
    ])

    /// The books' invoice is found by its number, unlinked and linked again by hand: billing's next version then
    /// updates that invoice, and a push again writes it once more — never a second invoice.
    @Test func anInvoiceLinkedByHandIsTheOneBillingsNextVersionUpdates() async throws {
        try await World.run { world in
            let integration = try await world.connect()
            _ = try await world.mapAccounts(integration)
            try await world.bill("customer.created", World.customer("cus_1", name: "Priya Raghavan"))
            try await world.bill(
                "invoice.issued", World.invoice("inv_1", number: "GF-0001", customer: "cus_1", updated: World.billed))
            try await world.drain()
            let books = try #require(await world.objects("Invoice").first)
            let remoteID = try #require(books["Id"]?.stringValue)
            let found = try await world.api("GET", "/records?q=GF-0001")
            let record = try #require(found.json["items"]?[0]?["id"]?.stringValue, "\(found.json)")
            let links = "/records/\(record)/links/\(integration)"

            // Searched by its number, the books' invoice is the one linked to billing's inv_1.
            let candidates = try await world.api("GET", links + "/candidates")
            #expect(candidates.status == 200, "\(candidates.json)")
            #expect(candidates.json["items"]?[0]?["remote_id"] == .string(remoteID))
            #expect(candidates.json["items"]?[0]?["linked_to"] == "inv_1")
            #expect(candidates.json["items"]?[0]?["data"]?["total"] == "57820")

            // A customer is found by any part of its name, in any case.
            let customers = try await world.api("GET", "/records?type=customer&local_id=cus_1")
            let customer = try #require(customers.json["items"]?[0]?["id"]?.stringValue)
            let named = try await world.api(
                "GET", "/records/\(customer)/links/\(integration)/candidates?q=raghav")
            #expect(named.json["items"]?[0]?["data"]?["name"] == "Priya Raghavan", "\(named.json)")
            #expect(named.json["items"]?[0]?["linked_to"] == "cus_1")

            let unlinked = try await world.api("DELETE", links)
            #expect(unlinked.status == 200 && unlinked.json["links"] == [], "\(unlinked.json)")
            let again = try await world.api("GET", links + "/candidates?q=\(remoteID)")
            #expect(again.json["items"]?[0]?["linked_to"] == .null, "\(again.json)")

            // An id the books do not hold is refused, naming the field.
            let missing = try await world.api("PUT", links, ["remote_id": "999999"])
            #expect(missing.status == 422, "\(missing.json)")
            #expect(missing.json["errors"]?[0]?["field"] == "remote_id")

            let linked = try await world.api("PUT", links, ["remote_id": .string(remoteID)])
            #expect(linked.status == 200, "\(linked.json)")
            #expect(linked.json["links"]?[0]?["remote_id"] == .string(remoteID))

            try await world.bill("invoice.updated", Self.dearer)
            try await world.drain()
            var invoices = await world.objects("Invoice")
            #expect(invoices.count == 1)
            #expect(invoices.first?["Id"] == .string(remoteID) && invoices.first?["TotalAmt"] == .number("59000"))

            let pushed = try await world.api("POST", links + "/push")
            #expect(pushed.status == 202, "\(pushed.json)")
            let twice = try await world.api("POST", links + "/push")
            #expect(twice.status == 409, "a second push while the first waits: \(twice.json)")
            try await world.drain()
            invoices = await world.objects("Invoice")
            #expect(invoices.count == 1 && invoices.first?["TotalAmt"] == .number("59000"))

            let audit = try await world.api("GET", "/audit?record_id=\(record)&limit=100")
            let actions = (audit.json["items"]?.arrayValue ?? []).compactMap { $0["action"]?.stringValue }
            for action in ["record.unlinked", "record.linked", "record.pushed_again"] {
                #expect(actions.contains(action), "\(action) not audited: \(actions)")
            }
        }
    }

    /// Excluded, an invoice reaches the books neither as billing sends it nor by a full sync; included again, its
    /// newest version is pushed.
    @Test func anExcludedInvoiceStaysOutOfTheBooksUntilIncludedAgain() async throws {
        try await World.run { world in
            let integration = try await world.connect()
            _ = try await world.mapAccounts(integration)
            try await world.bill("customer.created", World.customer("cus_1", name: "Priya Raghavan"))
            try await world.drain()
            try await world.bill(
                "invoice.issued", World.invoice("inv_1", number: "GF-0001", customer: "cus_1", updated: World.billed))
            let found = try await world.api("GET", "/records?type=invoice&local_id=inv_1")
            let record = try #require(found.json["items"]?[0]?["id"]?.stringValue, "\(found.json)")
            let links = "/records/\(record)/links/\(integration)"

            let excluded = try await world.api("PUT", links + "/exclusion")
            #expect(excluded.status == 200 && excluded.json["links"]?[0]?["excluded"] == true, "\(excluded.json)")
            #expect(try await world.api("PUT", links + "/exclusion").status == 409)
            #expect(try await world.api("POST", links + "/push").status == 409)
            try await world.drain()
            try await world.bill("invoice.updated", Self.dearer)
            try await world.drain()
            try await world.fullSync(integration)
            #expect(await world.objects("Invoice").isEmpty)

            let included = try await world.api("DELETE", links + "/exclusion")
            #expect(included.status == 200 && included.json["links"] == [], "\(included.json)")
            try await world.drain()
            let invoices = await world.objects("Invoice")
            #expect(invoices.count == 1 && invoices.first?["TotalAmt"] == .number("59000"))
            #expect(invoices.first?["DocNumber"] == "GF-0001")
        }
    }
}
