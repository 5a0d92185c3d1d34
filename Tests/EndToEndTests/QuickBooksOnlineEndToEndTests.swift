import Accounting
import Connectors
import Foundation
import Persistence
import Sandbox
import Testing

@Suite struct QuickBooksOnlineEndToEndTests {
    typealias World = QuickBooksWorld

    /// The user story: billing history exists, the school connects QuickBooks, maps accounts, syncs; a new invoice
    /// appears in QuickBooks as billing has it, and a payment entered in QuickBooks comes back to billing.
    @Test func theHappyPathBothWays() async throws {
        try await World.run { world in
            try await world.bill("customer.created", World.customer("cus_1", name: "Priya Raghavan"))
            try await world.bill("invoice.issued", World.invoice("inv_1", number: "GF-0001", customer: "cus_1"))
            try await world.bill("invoice.issued", World.invoice("inv_2", number: "GF-0002", customer: "cus_1"))

            let integration = try await world.connect()
            let chart = try await world.mapAccounts(integration)
            #expect(chart["suggested_mappings"]?["accounts"]?["4000-TUITION"]?["by"] == "number")
            #expect(chart["suggested_mappings"]?["accounts"]?["4000-TUITION"]?["name"] == "Tuition Income")
            #expect(chart["suggested_mappings"]?["accounts"]?["4100-TRANSPORT"]?["name"] == "Transport Income")
            #expect(chart["suggested_mappings"]?["tax_codes"]?["GST18"]?["name"] == "GST 18%")

            try await world.fullSync(integration)
            #expect(await world.objects("Customer").count == 1)
            #expect(await world.objects("Invoice").map { $0["DocNumber"] } == ["GF-0001", "GF-0002"])

            try await world.bill("invoice.issued", World.invoice("inv_3", number: "GF-0003", customer: "cus_1"))
            try await world.drain()
            let invoice = try #require(await world.objects("Invoice").first { $0["DocNumber"] == "GF-0003" })
            let customer = try #require(await world.objects("Customer").first)
            #expect(customer["DisplayName"] == "Priya Raghavan")
            #expect(invoice["CustomerRef"]?["value"] == customer["Id"])
            #expect(invoice["TotalAmt"] == .number("57820"))
            #expect(invoice["TxnTaxDetail"]?["TotalTax"] == .number("8820"))
            #expect(invoice["CurrencyRef"]?["value"] == "INR")
            let lines = invoice["Line"]?.arrayValue ?? []
            #expect(lines.count == 3)  // two sales lines and QuickBooks' subtotal line
            #expect(lines[0]["Amount"] == .number("45000"))
            #expect(lines[0]["SalesItemLineDetail"]?["ItemAccountRef"]?["value"] == "1")
            #expect(lines[0]["SalesItemLineDetail"]?["TaxCodeRef"]?["value"] == "5")
            #expect(lines[1]["Amount"] == .number("4000"))
            #expect(lines[1]["SalesItemLineDetail"]?["ItemAccountRef"]?["value"] == "2")
            #expect(lines[2]["DetailType"] == "SubTotalLineDetail" && lines[2]["Amount"] == .number("49000"))
            let records = try await world.api("GET", "/records?type=invoice&local_id=inv_3")
            #expect(records.json["items"]?[0]?["links"]?[0]?["remote_id"] == invoice["Id"])

            // The bookkeeper records a payment in QuickBooks; its webhook brings it back to billing.
            let paid = try await world.bookkeeper(
                "POST", "payment",
                [
                    "CustomerRef": ["value": customer["Id"] ?? .null], "TotalAmt": 20000,
                    "Line": [
                        ["Amount": 20000, "LinkedTxn": [["TxnId": invoice["Id"] ?? .null, "TxnType": "Invoice"]]]
                    ],
                ])
            #expect(paid.status == 200, "\(paid.json)")
            let reports = await world.sandbox.deliverWebhooks(with: world.sender())
            #expect(!reports.isEmpty && reports.allSatisfy(\.delivered))
            try await world.hearFromTheBooks()
            let recorded = try await world.events("ledger.payment.recorded")
            #expect(recorded.count == 1)
            #expect(recorded.first?["invoice_id"] == "inv_3")
            #expect(recorded.first?["amount"] == "20000")
            #expect(await world.sandbox.limitViolations == 0)
        }
    }
}

extension JSONValue {
    fileprivate subscript(index: Int) -> JSONValue? { arrayValue.flatMap { index < $0.count ? $0[index] : nil } }
}
