import Accounting
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@testable import Sandbox

/// Accounts, journals, contact webhook events and the dropped-answer fault of the Xero emulator.
@Suite struct XeroSettingsTests {
    @Test func accountsHaveUniqueCodesAndNamesAsTheSpecExampleShows() async throws {
        try await XeroHarness.run { harness in
            let chart = try await harness.get("Accounts").json["Accounts"]?.arrayValue ?? []
            let bank = try #require(chart.first { $0["Code"] == "090" })
            #expect(bank["Type"] == "BANK" && bank["CurrencyCode"] == "GBP")
            #expect(chart.contains { $0["Code"] == "200" && $0["Type"] == "REVENUE" && $0["TaxType"] == "OUTPUT2" })
            // PUT /Accounts takes one account, not a wrapper (createAccount's body is `Account`).
            let duplicate = try await harness.call(
                .put, "/api.xro/2.0/Accounts",
                json: ["Code": "123456", "Name": "Sales", "Type": "EXPENSE", "Description": "Hello World"])
            #expect(duplicate.status == .badRequest && duplicate.messages == ["Please enter a unique Name."])
            #expect(duplicate.json["Elements"]?.arrayValue?.first?["Description"] == "Hello World")
            let long = try await harness.call(
                .put, "/api.xro/2.0/Accounts", json: ["Code": "12345678901", "Name": "Fees", "Type": "REVENUE"],
                spec: false)
            #expect(long.messages == ["Please enter a Code with 10 characters or fewer."])
            let created = try await harness.call(
                .put, "/api.xro/2.0/Accounts", json: ["Code": "201", "Name": "Fees", "Type": "REVENUE"])
            #expect(created.status == .ok && created.first("Accounts")?["Class"] == "REVENUE")
            let byCode = try await harness.get("Accounts?where=Code%3D%3D%22201%22")
            #expect(byCode.json["Accounts"]?.arrayValue?.count == 1)
        }
    }

    @Test func journalsFollowAuthorisedDocumentsAndPaymentsAfterAnOffset() async throws {
        try await XeroHarness.run { harness in
            let contactID = try await harness.contact("Asha Rao")
            let invoice = try await harness.put(
                "Invoices", [XeroHarness.invoice(contactID: contactID, lines: [("1", "100", "OUTPUT2")])])
            let invoiceID = try #require(invoice.first("Invoices")?["InvoiceID"]?.stringValue)
            #expect(
                await harness.sandbox.enterPayment(tenantID: harness.tenant, invoiceID: invoiceID, amount: 120) != nil)
            let all = try await harness.get("Journals").json["Journals"]?.arrayValue ?? []
            #expect(all.map { $0["JournalNumber"] } == [1, 2])
            let lines = all.first?["JournalLines"]?.arrayValue ?? []
            #expect(lines.map { $0["AccountCode"] } == ["610", "200"])
            #expect(lines.map { $0["NetAmount"] } == [.number("120.00"), .number("-100.00")])
            #expect(lines.last?["TaxAmount"] == .number("-20.00"))
            let after = try await harness.get("Journals?offset=1").json["Journals"]?.arrayValue ?? []
            #expect(after.map { $0["SourceType"] } == ["ACCRECPAYMENT"])
        }
    }

    @Test func contactWritesRecordWebhookEvents() async throws {
        try await XeroHarness.run { harness in
            let contactID = try await harness.contact("Asha Rao")
            let updated = try await harness.post("Contacts/\(contactID)", ["Contacts": [["EmailAddress": "asha@x.in"]]])
            #expect(updated.status == .ok)
            let events = await harness.sandbox.takeWebhookEvents()
            #expect(events.map(\.eventType) == [.create, .update])
            #expect(events.allSatisfy { $0.category == .contact && $0.resourceID == contactID })
            #expect(await harness.sandbox.takeWebhookEvents().isEmpty)
            // A refused write records nothing.
            _ = try await harness.put("Contacts", [["Name": "Asha Rao"]])
            #expect(await harness.sandbox.takeWebhookEvents().isEmpty)
        }
    }

    @Test func aDroppedAnswerStillMakesTheWriteAndItsKeyReplaysIt() async throws {
        try await XeroHarness.run { harness in
            await harness.sandbox.dropAnswers(1)
            let key: HTTPFields = [HTTPField.Name("Idempotency-Key")!: "contact-cus_1"]
            let dropped = try? await harness.put("Contacts", [["Name": "Asha Rao"]], headers: key)
            #expect(dropped?.status != .ok || dropped?.json == .null)
            #expect(await harness.sandbox.count(tenantID: harness.tenant, collection: "Contacts") == 1)
            let retried = try await harness.put("Contacts", [["Name": "Asha Rao"]], headers: key)
            #expect(retried.status == .ok && retried.first("Contacts")?["Name"] == "Asha Rao")
            #expect(await harness.sandbox.count(tenantID: harness.tenant, collection: "Contacts") == 1)
            #expect(await harness.sandbox.requestsInFlight == 0)
        }
    }
}
