import Accounting
import Foundation
import Testing

/// Two families with the same name are two customers: adopting a customer of the books that is already linked to
/// another billing customer would post the second family's invoices to the first family's account (issue 14).
@Suite struct SameNameCustomersTests {
    typealias World = QuickBooksWorld

    @Test func twoBillingCustomersWithTheSameNameAreTwoCustomersInTheBooks() async throws {
        try await World.run { world in
            let integration = try await world.connect()
            _ = try await world.mapAccounts(integration)
            try await billOneFamilyAfterTheOther(world)

            try await expectEachFamilyOnItsOwnAccount(world)
            // QuickBooks takes a display name once: the second family is named apart, by billing's id.
            let names = Set(await world.objects("Customer").compactMap { $0["DisplayName"]?.stringValue })
            #expect(names == ["Priya Sharma", "Priya Sharma (cus_2)"])
        }
    }

    /// Arriving together, the two are pushed in one batch: still two customers, each with its own invoice.
    @Test func twoSameNameCustomersSyncedTogetherAreTwoCustomers() async throws {
        try await World.run { world in
            let integration = try await world.connect()
            _ = try await world.mapAccounts(integration)
            for (id, email) in [("cus_1", "sharma.a@example.org"), ("cus_2", "sharma.b@example.org")] {
                try await world.bill("customer.created", World.customer(id, name: "Priya Sharma", email: email))
            }
            try await world.bill("invoice.issued", World.invoice("inv_1", number: "GF-0001", customer: "cus_1"))
            try await world.bill("invoice.issued", World.invoice("inv_2", number: "GF-0002", customer: "cus_2"))
            try await world.drain()

            try await expectEachFamilyOnItsOwnAccount(world)
        }
    }

    /// A "Priya Sharma" the school kept in QuickBooks before Ledgerwire is adopted by the first billing customer of
    /// that name, and only by it: the second is made anew.
    @Test func aCustomerKeptByHandIsAdoptedOnceAndTheSecondFamilyIsMadeAnew() async throws {
        try await World.run { world in
            let made = try await world.bookkeeper("POST", "customer", ["DisplayName": "Priya Sharma"])
            let handMade = try #require(made.json["Customer"]?["Id"])
            let integration = try await world.connect()
            _ = try await world.mapAccounts(integration)
            try await billOneFamilyAfterTheOther(world)

            let first = try await world.api("GET", "/records?type=customer&local_id=cus_1")
            #expect(first.json["items"]?[0]?["links"]?[0]?["remote_id"] == handMade, "the hand-made one is adopted")
            try await expectEachFamilyOnItsOwnAccount(world)
        }
    }

    /// Billing's first Priya Sharma and her invoice, synced; then the second family's.
    private func billOneFamilyAfterTheOther(_ world: World) async throws {
        for (number, (id, email)) in [
            ("0001", ("cus_1", "sharma.a@example.org")), ("0002", ("cus_2", "sharma.b@example.org")),
        ] {
            try await world.bill("customer.created", World.customer(id, name: "Priya Sharma", email: email))
            try await world.bill(
                "invoice.issued", World.invoice("inv_\(id.suffix(1))", number: "GF-\(number)", customer: id))
            try await world.drain()
        }
    }

    /// Two customers in the books, each linked to its own billing customer, each with its own family's invoice.
    private func expectEachFamilyOnItsOwnAccount(_ world: World) async throws {
        let customers = await world.objects("Customer")
        #expect(customers.count == 2, "\(customers.map { $0["DisplayName"] ?? .null })")
        var linked: [String: JSONValue] = [:]
        for id in ["cus_1", "cus_2"] {
            let records = try await world.api("GET", "/records?type=customer&local_id=\(id)")
            linked[id] = records.json["items"]?[0]?["links"]?[0]?["remote_id"]
        }
        #expect(linked["cus_1"] != nil && linked["cus_2"] != nil && linked["cus_1"] != linked["cus_2"])
        let invoices = await world.objects("Invoice")
        #expect(invoices.count == 2)
        #expect(invoices.first { $0["DocNumber"] == "GF-0001" }?["CustomerRef"]?["value"] == linked["cus_1"])
        #expect(invoices.first { $0["DocNumber"] == "GF-0002" }?["CustomerRef"]?["value"] == linked["cus_2"])
    }
}
