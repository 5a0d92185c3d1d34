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
            try await world.bill(
                "customer.created", World.customer("cus_1", name: "Priya Sharma", email: "sharma.a@example.org"))
            try await world.bill("invoice.issued", World.invoice("inv_1", number: "GF-0001", customer: "cus_1"))
            try await world.drain()
            try await world.bill(
                "customer.created", World.customer("cus_2", name: "Priya Sharma", email: "sharma.b@example.org"))
            try await world.bill("invoice.issued", World.invoice("inv_2", number: "GF-0002", customer: "cus_2"))
            try await world.drain()

            let customers = await world.objects("Customer")
            #expect(customers.count == 2, "\(customers.map { $0["DisplayName"] ?? .null })")
            let first = try await world.api("GET", "/records?type=customer&local_id=cus_1")
            let second = try await world.api("GET", "/records?type=customer&local_id=cus_2")
            let firstID = first.json["items"]?[0]?["links"]?[0]?["remote_id"]
            let secondID = second.json["items"]?[0]?["links"]?[0]?["remote_id"]
            #expect(firstID != nil && secondID != nil && firstID != secondID)
            let invoices = await world.objects("Invoice")
            let onFirst = invoices.first { $0["DocNumber"] == "GF-0001" }?["CustomerRef"]?["value"]
            let onSecond = invoices.first { $0["DocNumber"] == "GF-0002" }?["CustomerRef"]?["value"]
            #expect(onFirst == firstID && onSecond == secondID, "each invoice on its own family's account")
        }
    }
}
