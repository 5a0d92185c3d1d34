import Accounting
import Foundation
import HTTPTypes
import TestSupport
import Testing

@testable import Sandbox

/// `search` on the lists that take it filters as the spec describes the parameter: contacts by name or reference,
/// sales invoices by reference or contact name, ignoring case.
@Suite struct SageBusinessCloudSearchTests {
    @Test func searchFiltersContactsByNameOrReference() async throws {
        try await SageBusinessCloudHarness.run { harness in
            let ada = try await harness.customer("Ada Lovelace", reference: "cus_1")
            let grace = try await harness.customer("Grace Hopper", reference: "cus_2")
            #expect(try await harness.get("contacts?search=lovelace").ids == [ada])
            #expect(try await harness.get("contacts?search=cus_2").ids == [grace])
            #expect(try await harness.get("contacts?search=nobody").ids.isEmpty)
            #expect(Set(try await harness.get("contacts").ids) == [ada, grace])
        }
    }

    @Test func searchFiltersSalesInvoicesByReferenceOrContactName() async throws {
        try await SageBusinessCloudHarness.run { harness in
            let (invoice, contact) = try await harness.invoice()
            let saved = try await harness.call(
                .put, "/v3.1/sales_invoices/\(invoice)", json: ["sales_invoice": ["reference": "GF-0001"]])
            #expect(saved.status == .ok, "\(saved.json)")
            let other = try await harness.post(
                "sales_invoices", "sales_invoice",
                SageBusinessCloudHarness.artefact(
                    contactID: contact, ledger: try await harness.ledger(), lines: [("1", "50.00", "GB_STANDARD")]))
            #expect(other.status == .created)
            #expect(try await harness.get("sales_invoices?search=gf-0001").ids == [invoice])
            #expect(try await harness.get("sales_invoices?search=GF-0002").ids.isEmpty)
            #expect(try await harness.get("sales_invoices?search=Lovelace").ids.count == 2)
        }
    }
}
