import Accounting
import Foundation
import HTTPTypes
import Testing

@testable import Sandbox

/// Sales as Sage keeps them: totals computed per line, invoice numbers, updates, voids, receipts and refunds that
/// take from what is outstanding, credit notes allocated to invoices, and `idempotency_id` replays.
@Suite struct SageBusinessCloudSalesTests {
    @Test func anInvoiceIsCreatedWithTotalsComputedPerLine() async throws {
        try await SageBusinessCloudHarness.run { harness in
            let contact = try await harness.customer("Ada Lovelace", reference: "ADA001")
            let answer = try await harness.post(
                "sales_invoices", "sales_invoice",
                SageBusinessCloudHarness.artefact(
                    contactID: contact, ledger: try await harness.ledger(),
                    lines: [("3", "33.33", "GB_STANDARD"), ("1", "12.50", "GB_ZERO"), ("2", "0.05", "GB_STANDARD")]))
            #expect(answer.status == .created)
            // 99.99 → VAT 20.00 (19.998 to the penny); 12.50 at zero; 0.10 → VAT 0.02.
            #expect(answer.json["net_amount"] == .number("112.59"))
            #expect(answer.json["tax_amount"] == .number("20.02"))
            #expect(answer.json["total_amount"] == .number("132.61"))
            #expect(answer.json["outstanding_amount"] == .number("132.61"))
            #expect(answer.json["total_paid"] == .number("0.00"))
            #expect(answer.json["status"]?["id"] == "UNPAID")
            #expect(answer.json["status"]?["displayed_as"] == "Unpaid")
            #expect(answer.json["invoice_number"] == "SI-1")
            #expect(answer.json["contact_reference"] == "ADA001")
            #expect(answer.json["due_date"] == "2026-12-21")
            let lines = answer.json["invoice_lines"]?.arrayValue ?? []
            #expect(lines.map { $0["tax_amount"] } == [.number("20.00"), .number("0.00"), .number("0.02")])
            let next = try await harness.post(
                "sales_invoices", "sales_invoice",
                SageBusinessCloudHarness.artefact(
                    contactID: contact, ledger: try await harness.ledger(), lines: [("1", "10", "GB_EXEMPT")]))
            #expect(next.json["invoice_number"] == "SI-2")
        }
    }

    @Test func anIrishBusinessChargesItsOwnRatesInEuro() async throws {
        try await SageBusinessCloudHarness.run(name: "Cognify Dublin", country: "IE") { harness in
            let contact = try await harness.customer("Brian Boru")
            let answer = try await harness.post(
                "sales_invoices", "sales_invoice",
                SageBusinessCloudHarness.artefact(
                    contactID: contact, ledger: try await harness.ledger(),
                    lines: [("1", "100.00", "IE_STANDARD"), ("1", "100.00", "IE_REDUCED")]))
            #expect(answer.json["tax_amount"] == .number("36.50"))
            #expect(answer.json["currency"]?["id"] == "EUR")
            let british = try await harness.post(
                "sales_invoices", "sales_invoice",
                SageBusinessCloudHarness.artefact(
                    contactID: contact, ledger: try await harness.ledger(), lines: [("1", "1", "GB_STANDARD")]))
            #expect(british.status == .unprocessableContent)
            #expect(british.error?.source == "invoice_lines[0].tax_rate_id")
        }
    }

    @Test func aRepeatedIdempotencyIDAnswersTheFirstInvoiceAndCreatesNothing() async throws {
        try await SageBusinessCloudHarness.run { harness in
            let contact = try await harness.customer("Ada Lovelace")
            let invoice = SageBusinessCloudHarness.artefact(
                contactID: contact, ledger: try await harness.ledger(), lines: [("1", "50", "GB_STANDARD")],
                extra: ["idempotency_id": "4d1c2b3a4d1c2b3a4d1c2b3a4d1c2b3a"])
            let first = try await harness.post("sales_invoices", "sales_invoice", invoice)
            let second = try await harness.post("sales_invoices", "sales_invoice", invoice)
            #expect(first.status == .created)
            #expect(second.status == .created)
            #expect(second.json == first.json)
            #expect(await harness.sandbox.records(businessID: harness.business, resource: "sales_invoices").count == 1)
            let other = SageBusinessCloudHarness.artefact(
                contactID: contact, ledger: try await harness.ledger(), lines: [("1", "50", "GB_STANDARD")],
                extra: ["idempotency_id": "ffffffffffffffffffffffffffffffff"])
            #expect(try await harness.post("sales_invoices", "sales_invoice", other).json["invoice_number"] == "SI-2")
        }
    }

    @Test func aReceiptTakesFromWhatIsOutstandingUntilPaid() async throws {
        try await SageBusinessCloudHarness.run { harness in
            let (invoice, contact) = try await harness.invoice()
            let receipt: JSONValue = [
                "transaction_type_id": "CUSTOMER_RECEIPT", "contact_id": .string(contact),
                "bank_account_id": .string(try await harness.bank()), "date": "2026-11-25", "total_amount": 50,
                "allocated_artefacts": [["artefact_id": .string(invoice), "amount": 50]],
            ]
            let paid = try await harness.post("contact_payments", "contact_payment", receipt)
            #expect(paid.status == .created)
            #expect(paid.json["transaction_type"]?["id"] == "CUSTOMER_RECEIPT")
            var found = try await harness.get("sales_invoices/\(invoice)")
            #expect(found.json["outstanding_amount"] == .number("70.00"))
            #expect(found.json["total_paid"] == .number("50.00"))
            #expect(found.json["status"]?["id"] == "PART_PAID")

            let tooMuch = try await harness.post(
                "contact_payments", "contact_payment",
                [
                    "transaction_type_id": "CUSTOMER_RECEIPT", "contact_id": .string(contact),
                    "bank_account_id": .string(try await harness.bank()), "date": "2026-11-26", "total_amount": 80,
                    "allocated_artefacts": [["artefact_id": .string(invoice), "amount": 80]],
                ])
            #expect(tooMuch.status == .unprocessableContent)
            #expect(tooMuch.error?.source == "allocated_artefacts[0].amount")

            let entered = await harness.sandbox.enterReceipt(
                businessID: harness.business, invoiceID: invoice, amount: 70)
            #expect(entered != nil)
            found = try await harness.get("sales_invoices/\(invoice)")
            #expect(found.json["outstanding_amount"] == .number("0.00"))
            #expect(found.json["status"]?["id"] == "PAID")
            #expect(found.json["payments_allocations"] == nil)
            let shown = try await harness.get("sales_invoices/\(invoice)?show_payments_allocations=true")
            let allocations = shown.json["payments_allocations"]?.arrayValue ?? []
            #expect(allocations.map { $0["amount"] } == [.number("50.00"), .number("70.00")])
            #expect(allocations.first?["contact_payment"]?["id"] == paid.json["id"])
        }
    }

    @Test func anInvoiceIsUpdatedAndItsTotalsComputedAgain() async throws {
        try await SageBusinessCloudHarness.run { harness in
            let (invoice, _) = try await harness.invoice()
            let updated = try await harness.call(
                .put, "/v3.1/sales_invoices/\(invoice)",
                json: [
                    "sales_invoice": [
                        "notes": "Two terms",
                        "invoice_lines": [
                            [
                                "description": "Terms 2 and 3",
                                "ledger_account_id": .string(try await harness.ledger()),
                                "quantity": 2, "unit_price": 100, "tax_rate_id": "GB_STANDARD",
                            ]
                        ],
                    ]
                ])
            #expect(updated.status == .ok)
            #expect(updated.json["total_amount"] == .number("240.00"))
            #expect(updated.json["notes"] == "Two terms")
            #expect(updated.json["invoice_number"] == "SI-1")

            let edited = await harness.sandbox.editInvoice(
                businessID: harness.business, invoiceID: invoice, changes: ["due_date": "2027-01-31"])
            #expect(edited)
            #expect(try await harness.get("sales_invoices/\(invoice)").json["due_date"] == "2027-01-31")
        }
    }

    @Test func anInvoiceIsVoidedWithAReasonAndNotWithPaymentsOnIt() async throws {
        try await SageBusinessCloudHarness.run { harness in
            let (invoice, _) = try await harness.invoice()
            let noReason = try await harness.call(.delete, "/v3.1/sales_invoices/\(invoice)")
            #expect(noReason.status == .unprocessableContent)
            #expect(noReason.error?.source == "void_reason")
            let voided = try await harness.call(.delete, "/v3.1/sales_invoices/\(invoice)?void_reason=Raised%20twice")
            #expect(voided.status == .ok)
            #expect(voided.json["status"]?["id"] == "VOID")
            #expect(voided.json["void_reason"] == "Raised twice")
            #expect(voided.json["outstanding_amount"] == .number("0.00"))
            let edit = try await harness.call(
                .put, "/v3.1/sales_invoices/\(invoice)", json: ["sales_invoice": ["notes": "late"]])
            #expect(edit.status == .unprocessableContent)

            let (paid, _) = try await harness.invoice()
            await harness.sandbox.enterReceipt(businessID: harness.business, invoiceID: paid, amount: 10)
            #expect(!(await harness.sandbox.voidInvoice(businessID: harness.business, invoiceID: paid)))
            let (plain, _) = try await harness.invoice()
            #expect(await harness.sandbox.voidInvoice(businessID: harness.business, invoiceID: plain))
            #expect(try await harness.get("sales_invoices/\(plain)").json["status"]?["id"] == "VOID")
        }
    }

    @Test func aCreditNoteIsAllocatedToAnInvoiceAndTheRestRefunded() async throws {
        try await SageBusinessCloudHarness.run { harness in
            let (invoice, contact) = try await harness.invoice()
            let note = try await harness.post(
                "sales_credit_notes", "sales_credit_note",
                SageBusinessCloudHarness.artefact(
                    contactID: contact, ledger: try await harness.ledger(), lines: [("1", "50", "GB_STANDARD")],
                    linesKey: "credit_note_lines"))
            #expect(note.status == .created)
            #expect(note.json["credit_note_number"] == "SCN-1")
            #expect(note.json["total_amount"] == .number("60.00"))
            let noteID = try #require(note.json["id"]?.stringValue)

            let unbalanced = try await harness.post(
                "contact_allocations", "contact_allocation",
                [
                    "transaction_type_id": "CUSTOMER_ALLOCATION", "contact_id": .string(contact),
                    "allocated_artefacts": [
                        ["artefact_id": .string(invoice), "amount": 40],
                        ["artefact_id": .string(noteID), "amount": -30],
                    ],
                ])
            #expect(unbalanced.status == .unprocessableContent)
            let allocation = try await harness.post(
                "contact_allocations", "contact_allocation",
                [
                    "transaction_type_id": "CUSTOMER_ALLOCATION", "contact_id": .string(contact),
                    "allocated_artefacts": [
                        ["artefact_id": .string(invoice), "amount": 40],
                        ["artefact_id": .string(noteID), "amount": -40],
                    ],
                ])
            #expect(allocation.status == .created)
            #expect(try await harness.get("sales_invoices/\(invoice)").json["outstanding_amount"] == .number("80.00"))
            #expect(
                try await harness.get("sales_credit_notes/\(noteID)").json["outstanding_amount"] == .number("20.00"))

            let refund = try await harness.post(
                "contact_payments", "contact_payment",
                [
                    "transaction_type_id": "CUSTOMER_REFUND", "contact_id": .string(contact),
                    "bank_account_id": .string(try await harness.bank()), "date": "2026-11-30", "total_amount": 20,
                    "allocated_artefacts": [["artefact_id": .string(noteID), "amount": 20]],
                ])
            #expect(refund.status == .created)
            let settled = try await harness.get("sales_credit_notes/\(noteID)")
            #expect(settled.json["outstanding_amount"] == .number("0.00"))
            #expect(settled.json["status"]?["id"] == "PAID")
        }
    }

    @Test func validationErrorsNameTheFieldAsSageDoes() async throws {
        try await SageBusinessCloudHarness.run { harness in
            let contact = try await harness.customer("Ada Lovelace")
            let ledger = try await harness.ledger()
            let noContact = try await harness.post(
                "sales_invoices", "sales_invoice",
                [
                    "date": "2026-11-21",
                    "invoice_lines": [["description": "x", "ledger_account_id": .string(ledger), "unit_price": 1]],
                ],
                spec: false)
            #expect(noContact.status == .unprocessableContent)
            #expect(noContact.json.arrayValue?.first?["$severity"] == "error")
            #expect(noContact.error?.dataCode == "RecordInvalid")
            #expect(noContact.error?.source == "contact_id")
            #expect(noContact.error?.message == "can't be blank")

            let noPrice = try await harness.post(
                "sales_invoices", "sales_invoice",
                [
                    "contact_id": .string(contact), "date": "2026-11-21",
                    "invoice_lines": [["description": "x", "ledger_account_id": .string(ledger)]],
                ], spec: false)
            #expect(noPrice.error?.source == "invoice_lines[0].unit_price")

            let unknownLedger = try await harness.post(
                "sales_invoices", "sales_invoice",
                SageBusinessCloudHarness.artefact(
                    contactID: contact, ledger: "00000000000000000000000000000000", lines: [("1", "1", "GB_ZERO")]))
            #expect(unknownLedger.status == .unprocessableContent)
            #expect(unknownLedger.error?.source == "invoice_lines[0].ledger_account_id")
            #expect(unknownLedger.error?.message == "is invalid")

            let unknownContact = try await harness.post(
                "sales_invoices", "sales_invoice",
                SageBusinessCloudHarness.artefact(
                    contactID: "00000000000000000000000000000000", ledger: ledger, lines: [("1", "1", "GB_ZERO")]))
            #expect(unknownContact.error?.source == "contact_id")
            #expect(await harness.sandbox.records(businessID: harness.business, resource: "sales_invoices").isEmpty)

            let missing = try await harness.get("sales_invoices/00000000000000000000000000000000")
            #expect(missing.status == .notFound)
            #expect(missing.error?.dataCode == "NotFound")
        }
    }
}
