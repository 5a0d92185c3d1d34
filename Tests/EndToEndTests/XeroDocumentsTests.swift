import Accounting
import App
import Connectors
import Foundation
import Persistence
import Sandbox
import Testing

/// Billing's documents in Xero as the finance manager sees them there, to the cent: payments, credit notes and their
/// allocations, refunds and voids; an invoice a person changes or voids in Xero told to billing; Xero's own refusal
/// shown in the API and on the dashboard; foreign, zero-decimal and three-decimal currencies.
@Suite struct XeroDocumentsTests {
    typealias World = XeroWorld

    static func amount(_ value: JSONValue?) -> String? { XeroEndToEndTests.amount(value) }

    /// A payment in part and then in full, a credit note allocated to its invoice, a refund of a credit note, a void
    /// of an unpaid invoice: each lands as Xero keeps it. A void of an invoice with a payment on it Xero refuses: the
    /// job fails with Xero's words and the invoice stays as it was.
    @Test func paymentsCreditNotesRefundsAndVoidsLandAsXeroKeepsThem() async throws {
        try await World.run { world in
            let (integration, _) = try await world.connect()
            try await world.map(integration)
            try await world.bill("customer.created", QuickBooksWorld.customer("cus_1", name: "Priya Raghavan"))
            for number in 1...4 {
                try await world.bill(
                    "invoice.issued",
                    QuickBooksWorld.invoice("inv_\(number)", number: "GF-000\(number)", customer: "cus_1"))
            }
            try await world.drain()
            func invoice(_ number: String) async throws -> [String: JSONValue] {
                try #require(await world.objects("Invoices").first { $0["InvoiceNumber"]?.stringValue == number })
            }
            let first = try await invoice("GF-0001")

            // Part of the first invoice paid into the bank account 090, then the rest: Xero marks it PAID.
            try await world.bill("payment.received", World.payment("pay_1", invoice: "inv_1", amount: "20000.00"))
            try await world.drain()
            var paid = try await invoice("GF-0001")
            #expect(Self.amount(paid["AmountPaid"]) == "20000.00" && Self.amount(paid["AmountDue"]) == "37820.00")
            #expect(paid["Status"] == "AUTHORISED")
            let payment = try #require(await world.objects("Payments").first)
            #expect(payment["PaymentType"] == "ACCRECPAYMENT" && payment["Account"]?["Code"] == "090")
            #expect(
                payment["Invoice"]?["InvoiceID"] == first["InvoiceID"] && Self.amount(payment["Amount"]) == "20000.00")

            try await world.bill("payment.received", World.payment("pay_2", invoice: "inv_1", amount: "37820.00"))
            try await world.drain()
            paid = try await invoice("GF-0001")
            #expect(Self.amount(paid["AmountPaid"]) == "57820.00" && Self.amount(paid["AmountDue"]) == "0.00")
            #expect(paid["Status"] == "PAID")

            // A scholarship credited against the second invoice: allocated to it, nothing of it left to spend.
            try await world.bill(
                "credit_note.issued", World.creditNote("cn_1", number: "CN-0001", invoice: "inv_2", amount: "5000.00"))
            try await world.drain()
            let second = try await invoice("GF-0002")
            #expect(
                Self.amount(second["AmountCredited"]) == "5000.00" && Self.amount(second["AmountDue"]) == "52820.00")
            let credit = try #require(
                await world.objects("CreditNotes").first { $0["CreditNoteNumber"] == "CN-0001" })
            #expect(credit["Type"] == "ACCRECCREDIT" && Self.amount(credit["Total"]) == "5000.00")
            #expect(Self.amount(credit["RemainingCredit"]) == "0.00" && credit["Status"] == "PAID")
            let allocations = credit["Allocations"]?.arrayValue ?? []
            #expect(allocations.count == 1)
            #expect(
                allocations.first?["Invoice"]?["InvoiceID"] == second["InvoiceID"]
                    && Self.amount(allocations.first?["Amount"]) == "5000.00")

            // A credit on account, paid back to the family: a payment out of 090 against the credit note.
            try await world.bill(
                "credit_note.issued", World.creditNote("cn_2", number: "CN-0002", invoice: nil, amount: "1500.00"))
            try await world.bill("refund.issued", World.refund("ref_1", creditNote: "cn_2", amount: "1500.00"))
            try await world.drain()
            let refunded = try #require(
                await world.objects("CreditNotes").first { $0["CreditNoteNumber"] == "CN-0002" })
            #expect(Self.amount(refunded["RemainingCredit"]) == "0.00" && refunded["Status"] == "PAID")
            let refund = try #require(await world.objects("Payments").first { $0["PaymentType"] == "ARCREDITPAYMENT" })
            #expect(refund["CreditNote"]?["CreditNoteID"] == refunded["CreditNoteID"])
            #expect(Self.amount(refund["Amount"]) == "1500.00" && refund["Account"]?["Code"] == "090")

            // The third invoice, unpaid, voided: Xero keeps it VOIDED, owing nothing.
            try await world.bill("invoice.voided", World.voided("inv_3", number: "GF-0003"))
            try await world.drain()
            let void = try await invoice("GF-0003")
            #expect(void["Status"] == "VOIDED" && Self.amount(void["AmountDue"]) == "0.00")
            #expect(try await world.failedJobs().isEmpty)

            // The fourth invoice, part paid, voided in billing: Xero refuses while a payment is on it, and the job
            // fails with Xero's own words; the invoice is as it was.
            try await world.bill("payment.received", World.payment("pay_3", invoice: "inv_4", amount: "10000.00"))
            try await world.drain()
            try await world.bill("invoice.voided", World.voided("inv_4", number: "GF-0004"))
            try await world.drain()
            let failed = try await world.failedJobs()
            #expect(failed.count == 1 && failed.first?["local_id"] == "inv_4", "\(failed)")
            let message = failed.first?["last_error"]?["message"]?.stringValue ?? ""
            #expect(
                message.contains("This document cannot be voided as it has a payment or credit note allocated to it."),
                "\(message)")
            let kept = try await invoice("GF-0004")
            #expect(kept["Status"] == "AUTHORISED" && Self.amount(kept["AmountDue"]) == "47820.00")
            #expect(await world.objects("Payments").count == 4)
            #expect(await world.sandbox.limitViolations == 0)
        }
    }

    /// Ledgerwire's own writes come back as webhooks and tell billing nothing; an invoice a person changes in Xero
    /// reaches billing with Xero's new totals, and one a person voids as voided.
    @Test func anInvoiceChangedOrVoidedInXeroIsToldToBillingAndLedgerwiresOwnWritesAreNot() async throws {
        try await World.run { world in
            try await world.subscribeToXerosWebhooks()
            let (integration, _) = try await world.connect()
            try await world.map(integration)
            try await world.bill("customer.created", QuickBooksWorld.customer("cus_1", name: "Priya Raghavan"))
            for number in 1...2 {
                try await world.bill(
                    "invoice.issued",
                    QuickBooksWorld.invoice(
                        "inv_\(number)", number: "GF-000\(number)", customer: "cus_1", updated: QuickBooksWorld.billed))
            }
            try await world.drain()

            // The echoes: Xero announces the contact and invoices Ledgerwire just made.
            let echoes = try await world.deliverWebhooks()
            #expect(echoes.filter { $0.category == .invoice && $0.eventType == .create }.count == 2, "\(echoes)")
            #expect(try await world.events("ledger.invoice.changed").isEmpty)

            // The bookkeeper gives the first invoice a sibling rate in Xero.
            let invoices = await world.objects("Invoices")
            let first = try #require(invoices.first { $0["InvoiceNumber"] == "GF-0001" })
            let second = try #require(invoices.first { $0["InvoiceNumber"] == "GF-0002" })
            let firstID = try #require(first["InvoiceID"]?.stringValue)
            let gst = try #require(first["LineItems"]?[0]?["TaxType"])
            #expect(
                await world.sandbox.editInvoiceLines(
                    tenantID: world.organisation, invoiceID: firstID,
                    lines: [
                        [
                            "Description": "Term 2 tuition, sibling rate", "Quantity": 1, "UnitAmount": 40000,
                            "AccountCode": "200", "TaxType": gst,
                        ]
                    ]))
            let edits = try await world.deliverWebhooks()
            #expect(edits.map(\.resourceID) == [firstID])
            var changed = try await world.events("ledger.invoice.changed")
            #expect(changed.count == 1, "\(changed)")
            let edited = try #require(changed.first)
            #expect(edited["invoice_id"] == "inv_1" && edited["change"] == "updated" && edited["platform"] == "xero")
            #expect(edited["remote_invoice_id"]?.stringValue == firstID)
            #expect(
                edited["data"]?["lines"]?[0]?["amount"] == "40000.00" && edited["data"]?["tax_total"] == "7200.00",
                "\(edited)")
            #expect(edited["data"]?["balance"] == "47200.00")
            #expect(edited["data"]?["total"] == "47200.00", "\(edited)")

            // The bookkeeper voids the second.
            let secondID = try #require(second["InvoiceID"]?.stringValue)
            #expect(await world.sandbox.voidInvoice(tenantID: world.organisation, invoiceID: secondID))
            try await world.deliverWebhooks()
            changed = try await world.events("ledger.invoice.changed")
            #expect(changed.count == 2, "\(changed)")
            let voided = try #require(changed.first { $0["invoice_id"] == "inv_2" })
            #expect(voided["change"] == "voided" && voided["remote_invoice_id"]?.stringValue == secondID)
            #expect(try await world.api("GET", "/conflicts").json["items"]?.arrayValue?.isEmpty == true)
        }
    }

    /// The bookkeeper typed an invoice of billing's next number by hand for a walk-in parent. Ledgerwire does not
    /// take that invoice for billing's (another family's); Xero refuses a second one of the number, and the job
    /// fails with Xero's words, in the API and on the dashboard.
    @Test func xerosRefusalFailsTheJobWithItsMessageInTheAPIAndTheDashboard() async throws {
        try await World.run { world in
            let (integration, _) = try await world.connect()
            try await world.map(integration)
            let typed = try await world.typeInvoice("GF-0007", contact: ["Name": "Walk-in Parent"])
            #expect(typed.status == 200, "\(typed.json)")
            let handMade = try #require(typed.json["Invoices"]?[0]?["InvoiceID"]?.stringValue)
            #expect(Self.amount(typed.json["Invoices"]?[0]?["Total"]) == "57820.00", "the same total as billing's")

            try await world.bill("customer.created", QuickBooksWorld.customer("cus_1", name: "Priya Raghavan"))
            try await world.bill(
                "invoice.issued", QuickBooksWorld.invoice("inv_7", number: "GF-0007", customer: "cus_1"))
            try await world.drain()

            let invoices = await world.objects("Invoices")
            #expect(invoices.count == 1 && invoices.first?["Contact"]?["Name"] == "Walk-in Parent")
            let linked = try await world.api("GET", "/records?type=invoice&local_id=inv_7")
            let links = linked.json["items"]?[0]?["links"]?.arrayValue ?? []
            #expect(!links.contains { $0["remote_id"]?.stringValue == handMade }, "\(linked.json)")

            let failed = try await world.failedJobs()
            #expect(failed.count == 1, "\(failed)")
            let job = try #require(failed.first)
            #expect(job["local_id"] == "inv_7" && job["record_type"] == "invoice")
            let message = job["last_error"]?["message"]?.stringValue ?? ""
            #expect(message.contains("Invoice # must be unique."), "\(message)")
            #expect(try await world.events("sync.failed").count == 1)

            let page = try await world.dashboard("/activity?status=failed")
            #expect(page.status == 200)
            let jobID = try #require(job["id"]?.stringValue)
            let row = try #require(page.text.range(of: "id=\"job-\(jobID)\""), "the failed job is on the page")
            let rest = page.text[row.upperBound...]
            let shown = rest.range(of: "</tr>").map { rest[..<$0.lowerBound] } ?? rest
            #expect(shown.contains("invoice inv_7") && shown.contains("Invoice # must be unique."), "\(shown)")
        }
    }

    /// The same invoice typed by hand for the family itself is billing's: adopted, not refused nor made twice.
    @Test func anInvoiceTypedByHandForTheFamilyItselfIsAdopted() async throws {
        try await World.run { world in
            let (integration, _) = try await world.connect()
            try await world.map(integration)
            try await world.bill("customer.created", QuickBooksWorld.customer("cus_1", name: "Priya Raghavan"))
            try await world.drain()
            let contact = try #require(await world.objects("Contacts").first?["ContactID"])
            let typed = try await world.typeInvoice("GF-0008", contact: ["ContactID": contact])
            #expect(typed.status == 200, "\(typed.json)")
            let handMade = try #require(typed.json["Invoices"]?[0]?["InvoiceID"]?.stringValue)

            try await world.bill(
                "invoice.issued", QuickBooksWorld.invoice("inv_8", number: "GF-0008", customer: "cus_1"))
            try await world.drain()
            #expect(await world.objects("Invoices").count == 1)
            let linked = try await world.api("GET", "/records?type=invoice&local_id=inv_8")
            #expect(linked.json["items"]?[0]?["links"]?[0]?["remote_id"]?.stringValue == handMade, "\(linked.json)")
            #expect(try await world.failedJobs().isEmpty)
        }
    }

    /// A UK organisation: a euro invoice keeps billing's rate (as Xero quotes it, euros per pound) and VAT at 20 %, a
    /// yen invoice its whole yen; both total billing's to the cent.
    @Test func euroAndYenInvoicesInAUKOrganisationKeepBillingsRateAndVAT() async throws {
        try await World.run { world in
            let (_, uk) = try await world.connectUK(rates: ["EUR": 1.17, "JPY": 190])
            for currency in ["EUR", "JPY"] {
                try await world.bill(
                    "customer.created",
                    QuickBooksWorld.customer("cus_\(currency)", name: "Family \(currency)")
                        .merging(["currency": .string(currency)]))
            }
            try await world.bill(
                "invoice.issued",
                World.invoice(
                    "inv_eur", number: "GF-EU-1", customer: "cus_EUR", currency: "EUR", rate: "0.85",
                    amount: "1000.00", tax: "200.00", total: "1200.00", taxCode: "VAT20"))
            try await world.bill(
                "invoice.issued",
                World.invoice(
                    "inv_jpy", number: "GF-JP-1", customer: "cus_JPY", currency: "JPY", rate: "0.0052",
                    amount: "45000", tax: "9000", total: "54000", taxCode: "VAT20"))
            try await world.drain()

            let invoices = await world.objects("Invoices", organisation: uk)
            let euro = try #require(invoices.first { $0["InvoiceNumber"] == "GF-EU-1" })
            #expect(euro["CurrencyCode"] == "EUR" && euro["CurrencyRate"] == .number("1.176471"), "\(euro)")
            #expect(Self.amount(euro["SubTotal"]) == "1000.00" && Self.amount(euro["TotalTax"]) == "200.00")
            #expect(Self.amount(euro["Total"]) == "1200.00" && Self.amount(euro["AmountDue"]) == "1200.00")
            #expect(euro["LineItems"]?[0]?["TaxType"] == "OUTPUT2" && euro["LineItems"]?[0]?["AccountCode"] == "200")
            let yen = try #require(invoices.first { $0["InvoiceNumber"] == "GF-JP-1" })
            #expect(yen["CurrencyCode"] == "JPY" && yen["CurrencyRate"] == .number("192.307692"), "\(yen)")
            #expect(Self.amount(yen["SubTotal"]) == "45000.00" && Self.amount(yen["TotalTax"]) == "9000.00")
            #expect(Self.amount(yen["Total"]) == "54000.00")
            #expect(
                await world.objects("Contacts", organisation: uk).compactMap { $0["DefaultCurrency"]?.stringValue }
                    .sorted() == ["EUR", "JPY"])
            let jobs = try await world.components.database.jobs(page: try PageRequest(limit: 50)).items
            #expect(
                jobs.count == 4 && jobs.allSatisfy { $0.status == .succeeded },
                "\(jobs.map { "\($0.localID) \($0.status) \($0.lastError?.message ?? "")" })")
        }
    }

    /// Kuwaiti dinars have three decimals and Xero keeps two: an invoice in whole 10-fils steps lands to the fils;
    /// one with a fils Xero cannot hold fails its job loudly, naming the currency and the amount, and nothing of it
    /// is written (Xero would have rounded it).
    @Test func aThreeDecimalInvoiceLandsInWholeTenFilsAndFailsLoudlyOtherwise() async throws {
        try await World.run { world in
            let (_, uk) = try await world.connectUK(rates: ["KWD": 0.385])
            try await world.bill(
                "customer.created",
                QuickBooksWorld.customer("cus_kw", name: "Family Al-Sabah").merging(["currency": "KWD"]))
            try await world.bill(
                "invoice.issued",
                World.invoice(
                    "inv_kw1", number: "GF-KW-1", customer: "cus_kw", currency: "KWD", rate: "2.6",
                    amount: "120.500", tax: "24.100", total: "144.600", taxCode: "VAT20"))
            try await world.bill(
                "invoice.issued",
                World.invoice(
                    "inv_kw2", number: "GF-KW-2", customer: "cus_kw", currency: "KWD", rate: "2.6",
                    amount: "120.125", tax: "24.025", total: "144.150", taxCode: "VAT20"))
            try await world.drain()

            let invoices = await world.objects("Invoices", organisation: uk)
            #expect(invoices.compactMap { $0["InvoiceNumber"]?.stringValue } == ["GF-KW-1"], "nothing rounded lands")
            let dinars = try #require(invoices.first)
            #expect(dinars["CurrencyCode"] == "KWD" && dinars["CurrencyRate"] == .number("0.384615"))
            #expect(Self.amount(dinars["SubTotal"]) == "120.50" && Self.amount(dinars["TotalTax"]) == "24.10")
            #expect(Self.amount(dinars["Total"]) == "144.60")

            let failed = try await world.failedJobs()
            #expect(failed.count == 1 && failed.first?["local_id"] == "inv_kw2", "\(failed)")
            let message = failed.first?["last_error"]?["message"]?.stringValue ?? ""
            #expect(message.contains("KWD") && message.contains("120.125"), "\(message)")
            #expect(message.contains("two decimal places"), "\(message)")
        }
    }
}
