import Accounting
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@testable import Sandbox

/// The Accounting API refuses what Xero refuses, in Xero's shapes, and answers in its envelope.
@Suite struct XeroAccountingTests {
    @Test func answersComeInTheEnvelopeWithXeroDates() async throws {
        try await XeroHarness.run { harness in
            let contactID = try await harness.contact("Asha Rao", number: "cus_1")
            let answer = try await harness.put(
                "Invoices", [XeroHarness.invoice(contactID: contactID, lines: [("2", "20", "NONE")])])
            #expect(answer.status == .ok, "\(answer.json)")
            #expect(answer.json["Status"] == "OK" && answer.json["ProviderName"] == "Ledgerwire")
            #expect(answer.json["Id"]?.stringValue != nil)
            #expect(answer.json["DateTimeUTC"]?.stringValue?.hasPrefix("/Date(") == true)
            let invoice = try #require(answer.first("Invoices"))
            #expect(invoice["Date"] == "/Date(1795219200000+0000)/" && invoice["DateString"] == nil)
            #expect(invoice["InvoiceNumber"] == "INV-0001" && invoice["StatusAttributeString"] == "OK")
            #expect(invoice["Contact"]?["ContactNumber"] == "cus_1")
            #expect(invoice["LineItems"]?.arrayValue?.first?["LineItemID"]?.stringValue != nil)
            #expect(invoice["UpdatedDateUTC"]?.stringValue?.hasSuffix("+0000)/") == true)
            let id = try #require(invoice["InvoiceID"]?.stringValue)
            let read = try await harness.get("Invoices/\(id)")
            #expect(read.first("Invoices")?["Total"] == .number("40.00"))
            #expect(
                try await harness.call(.get, "/api.xro/2.0/Invoices/INV-0001", spec: false).first("Invoices")?[
                    "InvoiceID"]?.stringValue == id)
            let missing = try await harness.get("Invoices/\(UUID().uuidString)")
            #expect(missing.status == .notFound)
        }
    }

    @Test func contactNamesAreUniqueAndValidationErrorsEchoTheElement() async throws {
        try await XeroHarness.run { harness in
            _ = try await harness.contact("Asha Rao")
            let duplicate = try await harness.put(
                "Contacts", [["Name": "Asha Rao", "EmailAddress": "asha@example.com"]])
            #expect(duplicate.status == .badRequest)
            #expect(duplicate.json["ErrorNumber"] == 10 && duplicate.json["Type"] == "ValidationException")
            #expect(duplicate.json["Message"] == "A validation exception occurred")
            let element = try #require(duplicate.json["Elements"]?.arrayValue?.first)
            #expect(element["EmailAddress"] == "asha@example.com")
            #expect(
                duplicate.messages == [
                    "The contact name Asha Rao is already assigned to another contact. The contact name must be "
                        + "unique across all active contacts."
                ])
            #expect(await harness.sandbox.count(tenantID: harness.tenant, collection: "Contacts") == 1)
            // POST with the name of an existing contact updates it.
            let updated = try await harness.post(
                "Contacts", ["Contacts": [["Name": "Asha Rao", "EmailAddress": "a@x.in"]]])
            #expect(updated.status == .ok && updated.first("Contacts")?["EmailAddress"] == "a@x.in")
            #expect(await harness.sandbox.count(tenantID: harness.tenant, collection: "Contacts") == 1)
        }
    }

    @Test func summarizeErrorsFalseSavesTheGoodElementsAndMarksEachOne() async throws {
        try await XeroHarness.run { harness in
            let contactID = try await harness.contact("Asha Rao")
            let good = XeroHarness.invoice(contactID: contactID, number: "B-1", lines: [("1", "100", "OUTPUT2")])
            let bad = XeroHarness.invoice(contactID: contactID, number: "B-2", lines: [("1", "100", "GST99")])
            let summarised = try await harness.put("Invoices", [good, bad])
            #expect(summarised.status == .badRequest && summarised.json["Elements"]?.arrayValue?.count == 1)
            #expect(await harness.sandbox.count(tenantID: harness.tenant, collection: "Invoices") == 0)

            let mixed = try await harness.put("Invoices", [good, bad], query: "?summarizeErrors=false")
            #expect(mixed.status == .ok)
            let elements = mixed.json["Invoices"]?.arrayValue ?? []
            #expect(elements.map { $0["StatusAttributeString"] } == ["OK", "ERROR"])
            #expect(elements[1]["HasErrors"] == true && elements[1]["InvoiceNumber"] == "B-2")
            #expect(
                mixed.messages == [
                    "The TaxType code 'GST99' does not exist or cannot be used for this type of transaction."
                ])
            #expect(await harness.sandbox.count(tenantID: harness.tenant, collection: "Invoices") == 1)
        }
    }

    @Test func referencesMustExistAndInvoiceNumbersAreUnique() async throws {
        try await XeroHarness.run { harness in
            let contactID = try await harness.contact("Asha Rao")
            let first = try await harness.put(
                "Invoices", [XeroHarness.invoice(contactID: contactID, number: "INV-7", lines: [("1", "10", "NONE")])])
            #expect(first.status == .ok)
            let again = try await harness.put(
                "Invoices", [XeroHarness.invoice(contactID: contactID, number: "INV-7", lines: [("1", "10", "NONE")])])
            #expect(again.messages == ["Invoice # must be unique."])
            var unknownAccount = XeroHarness.invoice(contactID: contactID, lines: [("1", "10", "NONE")])
            if case .object(var members) = unknownAccount {
                members["LineItems"] = [["Quantity": 1, "UnitAmount": 10, "AccountCode": "999"]]
                unknownAccount = .object(members)
            }
            #expect(
                try await harness.put("Invoices", [unknownAccount]).messages == [
                    "Account code '999' is not a valid code for this document."
                ])
            let unknownItem = try await harness.put(
                "Invoices",
                [["Type": "ACCREC", "Contact": ["ContactID": .string(contactID)], "LineItems": [["ItemCode": "NOPE"]]]])
            #expect(unknownItem.messages == ["Item code 'NOPE' is not valid"])
            let unknownContact = try await harness.put(
                "Invoices", [XeroHarness.invoice(contactID: UUID().uuidString, lines: [("1", "10", "NONE")])])
            #expect(unknownContact.messages == ["The contact with the specified ContactID could not be found"])
            // An item fills its line's defaults.
            let item = try await harness.put(
                "Items",
                [
                    [
                        "Code": "TUITION", "Name": "Tuition",
                        "SalesDetails": ["UnitPrice": 250, "AccountCode": "200", "TaxType": "OUTPUT2"],
                    ]
                ])
            #expect(item.status == .ok)
            let withItem = try await harness.put(
                "Invoices",
                [
                    [
                        "Type": "ACCREC", "Contact": ["ContactID": .string(contactID)],
                        "LineItems": [["ItemCode": "TUITION", "Quantity": 2]],
                    ]
                ])
            #expect(withItem.first("Invoices")?["Total"] == .number("600.00"))
        }
    }

    @Test func paymentsSettleInvoicesAndOverpaymentIsRefused() async throws {
        try await XeroHarness.run { harness in
            let contactID = try await harness.contact("Asha Rao")
            let invoice = try await harness.put(
                "Invoices", [XeroHarness.invoice(contactID: contactID, lines: [("1", "100", "OUTPUT2")])])
            let invoiceID = try #require(invoice.first("Invoices")?["InvoiceID"]?.stringValue)
            func pay(_ amount: String) async throws -> XeroHarness.Answer {
                try await harness.put(
                    "Payments",
                    [
                        [
                            "Invoice": ["InvoiceID": .string(invoiceID)], "Account": ["Code": "090"],
                            "Date": "2026-11-22",
                            "Amount": .number(amount),
                        ]
                    ])
            }
            let over = try await pay("120.01")
            #expect(
                over.status == .badRequest
                    && over.messages == ["Payment amount exceeds the amount outstanding on this document"])
            let part = try await pay("20")
            #expect(part.status == .ok && part.first("Payments")?["PaymentType"] == "ACCRECPAYMENT")
            let paymentID = try #require(part.first("Payments")?["PaymentID"]?.stringValue)
            var read = try await harness.get("Invoices/\(invoiceID)").first("Invoices")
            #expect(read?["AmountPaid"] == .number("20.00") && read?["AmountDue"] == .number("100.00"))
            // An invoice with payments cannot be voided.
            let void = try await harness.post("Invoices/\(invoiceID)", ["Invoices": [["Status": "VOIDED"]]])
            #expect(
                void.messages == ["This document cannot be voided as it has a payment or credit note allocated to it."])
            #expect(try await pay("100").status == .ok)
            read = try await harness.get("Invoices/\(invoiceID)").first("Invoices")
            #expect(read?["Status"] == "PAID" && read?["AmountDue"] == .number("0.00"))
            // Deleting a payment makes the invoice owe again.
            let deleted = try await harness.post("Payments/\(paymentID)", ["Status": "DELETED"])
            #expect(deleted.status == .ok && deleted.first("Payments")?["Status"] == "DELETED")
            read = try await harness.get("Invoices/\(invoiceID)").first("Invoices")
            #expect(read?["Status"] == "AUTHORISED" && read?["AmountDue"] == .number("20.00"))
            // A bank account is needed.
            let toRevenue = try await harness.put(
                "Payments",
                [
                    [
                        "Invoice": ["InvoiceID": .string(invoiceID)], "Account": ["Code": "200"], "Date": "2026-11-22",
                        "Amount": 1,
                    ]
                ])
            #expect(toRevenue.status == .badRequest)
        }
    }

    @Test func voidingAuthorisedAndDeletingDraftsAsXeroDoes() async throws {
        try await XeroHarness.run { harness in
            let contactID = try await harness.contact("Asha Rao")
            let authorised = try #require(
                try await harness.put(
                    "Invoices", [XeroHarness.invoice(contactID: contactID, lines: [("1", "10", "NONE")])]
                )
                .first("Invoices")?["InvoiceID"]?.stringValue)
            let draft = try #require(
                try await harness.put(
                    "Invoices",
                    [XeroHarness.invoice(contactID: contactID, lines: [("1", "10", "NONE")], status: "DRAFT")]
                ).first("Invoices")?["InvoiceID"]?.stringValue)
            #expect(
                try await harness.post("Invoices/\(draft)", ["Invoices": [["Status": "VOIDED"]]]).messages == [
                    "Invoice not of valid status for modification"
                ])
            #expect(
                try await harness.post("Invoices/\(draft)", ["Invoices": [["Status": "DELETED"]]]).first("Invoices")?[
                    "Status"]
                    == "DELETED")
            #expect(
                try await harness.post("Invoices/\(authorised)", ["Invoices": [["Status": "DELETED"]]]).messages == [
                    "Invoice not of valid status for modification"
                ])
            let voided = try await harness.post("Invoices/\(authorised)", ["Invoices": [["Status": "VOIDED"]]]).first(
                "Invoices")
            #expect(voided?["Status"] == "VOIDED" && voided?["AmountDue"] == .number("0.00"))
            _ = await harness.sandbox.takeWebhookEvents()
            // A person in Xero edits and voids; each change is an INVOICE UPDATE event.
            let third = try #require(
                try await harness.put(
                    "Invoices", [XeroHarness.invoice(contactID: contactID, lines: [("1", "10", "NONE")])]
                )
                .first("Invoices")?["InvoiceID"]?.stringValue)
            #expect(
                await harness.sandbox.editInvoiceLines(
                    tenantID: harness.tenant, invoiceID: third,
                    lines: [["Quantity": 3, "UnitAmount": 10, "AccountCode": "200", "TaxType": "NONE"]]))
            #expect(try await harness.get("Invoices/\(third)").first("Invoices")?["Total"] == .number("30.00"))
            #expect(await harness.sandbox.voidInvoice(tenantID: harness.tenant, invoiceID: third))
            let events = await harness.sandbox.takeWebhookEvents()
            #expect(events.map(\.eventType) == [.create, .update, .update])
            #expect(
                events.allSatisfy { $0.category == .invoice && $0.resourceID == third && $0.tenantID == harness.tenant }
            )
        }
    }

    @Test func creditNotesAllocateToInvoicesAndRefundsArePaymentsAgainstThem() async throws {
        try await XeroHarness.run { harness in
            let contactID = try await harness.contact("Asha Rao")
            let invoiceID = try #require(
                try await harness.put(
                    "Invoices", [XeroHarness.invoice(contactID: contactID, lines: [("1", "100", "OUTPUT2")])]
                )
                .first("Invoices")?["InvoiceID"]?.stringValue)
            let note = try await harness.put(
                "CreditNotes",
                [
                    [
                        "Type": "ACCRECCREDIT", "Contact": ["ContactID": .string(contactID)], "Date": "2026-11-23",
                        "Status": "AUTHORISED",
                        "LineItems": [
                            [
                                "Description": "Refund", "Quantity": 1, "UnitAmount": 50,
                                "AccountCode": "200", "TaxType": "OUTPUT2",
                            ]
                        ],
                    ]
                ])
            let created = try #require(note.first("CreditNotes"))
            #expect(created["Total"] == .number("60.00") && created["RemainingCredit"] == .number("60.00"))
            #expect(created["CreditNoteNumber"] == "CN-0001")
            let noteID = try #require(created["CreditNoteID"]?.stringValue)
            let tooMuch = try await harness.call(
                .put, "/api.xro/2.0/CreditNotes/\(noteID)/Allocations",
                json: [
                    "Allocations": [["Invoice": ["InvoiceID": .string(invoiceID)], "Amount": 61, "Date": "2026-11-23"]]
                ])
            #expect(tooMuch.status == .badRequest)
            let allocated = try await harness.call(
                .put, "/api.xro/2.0/CreditNotes/\(noteID)/Allocations",
                json: [
                    "Allocations": [["Invoice": ["InvoiceID": .string(invoiceID)], "Amount": 40, "Date": "2026-11-23"]]
                ])
            #expect(allocated.status == .ok && allocated.first("Allocations")?["Amount"] == .number("40.00"))
            let invoice = try await harness.get("Invoices/\(invoiceID)").first("Invoices")
            #expect(invoice?["AmountCredited"] == .number("40.00") && invoice?["AmountDue"] == .number("80.00"))
            let refund = try await harness.put(
                "Payments",
                [
                    [
                        "CreditNote": ["CreditNoteID": .string(noteID)], "Account": ["Code": "090"],
                        "Date": "2026-11-24", "Amount": 20,
                    ]
                ])
            #expect(refund.status == .ok && refund.first("Payments")?["PaymentType"] == "ARCREDITPAYMENT")
            let settled = try await harness.get("CreditNotes/\(noteID)").first("CreditNotes")
            #expect(settled?["Status"] == "PAID" && settled?["RemainingCredit"] == .number("0.00"))
            let events = await harness.sandbox.takeWebhookEvents().filter { $0.category == .creditNote }
            #expect(events.last?.creditNote?.type == "ACCRECCREDIT" && events.last?.creditNote?.status == "PAID")
        }
    }

    @Test func whereIDsStatusesPagingAndIfModifiedSinceFilter() async throws {
        try await XeroHarness.run { harness in
            let asha = try await harness.contact("Asha Rao", number: "cus_1")
            _ = try await harness.contact("Ravi Kumar", number: "cus_2")
            let byNumber = try await harness.get("Contacts?where=ContactNumber%3D%3D%22cus_1%22")
            #expect(byNumber.json["Contacts"]?.arrayValue?.map { $0["ContactID"] } == [.string(asha)])
            let byName = try await harness.get(
                "Contacts?where=Name%3D%3D%22Ravi%20Kumar%22%20AND%20IsSupplier%3D%3Dfalse")
            #expect(byName.json["Contacts"]?.arrayValue?.count == 1)
            let unknownField = try await harness.get("Contacts?where=Nickname%3D%3D%22x%22")
            #expect(unknownField.status == .badRequest && unknownField.json["ErrorNumber"] == 16)
            #expect(unknownField.json["Type"] == "QueryParseException")
            #expect(unknownField.json["Message"] == "No property or field 'Nickname' exists in type 'Contact'")
            let notParsed = try await harness.get("Contacts?where=Name.StartsWith(%22A%22)")
            #expect(notParsed.status == .badRequest && notParsed.json["Type"] == "QueryParseException")
            let boolAsString = try await harness.get("Contacts?where=IsSupplier%3D%3D%22true%22")
            #expect(boolAsString.status == .badRequest)

            for number in 1...3 {
                let status = number == 3 ? "DRAFT" : "AUTHORISED"
                _ = try await harness.put(
                    "Invoices",
                    [
                        XeroHarness.invoice(
                            contactID: asha, number: "N-\(number)", lines: [("1", "10", "NONE")], status: status)
                    ])
            }
            let page = try await harness.get("Invoices?page=2&pageSize=2")
            #expect(page.json["pagination"] == ["page": 2, "pageSize": 2, "pageCount": 2, "itemCount": 3])
            #expect(page.json["Invoices"]?.arrayValue?.map { $0["InvoiceNumber"] } == ["N-3"])
            let numbers = try await harness.get("Invoices?InvoiceNumbers=N-1,N-3")
            #expect(numbers.json["Invoices"]?.arrayValue?.count == 2)
            let statuses = try await harness.get("Invoices?Statuses=DRAFT")
            #expect(statuses.json["Invoices"]?.arrayValue?.map { $0["InvoiceNumber"] } == ["N-3"])
            let whereStatus = try await harness.get("Invoices?where=Status%3D%3D%22AUTHORISED%22")
            #expect(whereStatus.json["Invoices"]?.arrayValue?.count == 2)

            await harness.sandbox.advance(by: 120)
            let since = ISO8601DateFormatter().string(from: await harness.sandbox.now.addingTimeInterval(-60))
            let firstID = try #require(numbers.json["Invoices"]?.arrayValue?.first?["InvoiceID"]?.stringValue)
            let payment = await harness.sandbox.enterPayment(tenantID: harness.tenant, invoiceID: firstID, amount: 5)
            #expect(payment != nil)
            let changed = try await harness.get("Payments", headers: [HTTPField.Name("If-Modified-Since")!: since])
            #expect(changed.json["Payments"]?.arrayValue?.count == 1)
            let invoices = try await harness.get("Invoices", headers: [HTTPField.Name("If-Modified-Since")!: since])
            #expect(invoices.json["Invoices"]?.arrayValue?.map { $0["InvoiceNumber"] } == ["N-1"])
        }
    }

    @Test func anIdempotencyKeyReplaysTheFirstAnswerAndRefusesAnotherBody() async throws {
        try await XeroHarness.run { harness in
            let key: HTTPFields = [HTTPField.Name("Idempotency-Key")!: "inv-evt_1"]
            let first = try await harness.put("Contacts", [["Name": "Asha Rao"]], headers: key)
            let second = try await harness.put("Contacts", [["Name": "Asha Rao"]], headers: key)
            #expect(first.status == .ok && second.status == .ok)
            #expect(first.json == second.json)
            #expect(await harness.sandbox.count(tenantID: harness.tenant, collection: "Contacts") == 1)
            let other = try await harness.put("Contacts", [["Name": "Ravi Kumar"]], headers: key)
            #expect(other.status == .badRequest)
            #expect(await harness.sandbox.count(tenantID: harness.tenant, collection: "Contacts") == 1)
            let long: HTTPFields = [HTTPField.Name("Idempotency-Key")!: String(repeating: "k", count: 129)]
            #expect(try await harness.put("Contacts", [["Name": "Meera"]], headers: long).status == .badRequest)
        }
    }

    @Test func untrustedBodiesAreRefusedNotTrusted() async throws {
        try await XeroHarness.run { harness in
            let broken = try await harness.call(.put, "/api.xro/2.0/Contacts", text: "{\"Contacts\":[", spec: false)
            #expect(broken.status == .badRequest && broken.json["Type"] == "PostDataInvalidException")
            let huge = try await harness.put(
                "Invoices",
                [["Type": "ACCREC", "Contact": ["Name": "X"], "LineItems": [["Quantity": "1e400", "UnitAmount": 1]]]],
                spec: false)
            #expect(huge.status == .badRequest && huge.messages == ["Quantity must be a number"])
            let big = String(repeating: "x", count: 3_700_000)
            let tooLarge = try await harness.call(
                .put, "/api.xro/2.0/Contacts", text: "{\"Contacts\":[{\"Name\":\"\(big)\"}]}", spec: false)
            #expect(tooLarge.status == .contentTooLarge)
        }
    }
}
