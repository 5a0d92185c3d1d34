import Accounting
import App
import Connectors
import Foundation
import Persistence
import Sandbox
import Testing

/// Billing and Sage Business Cloud Accounting both ways, through Ledgerwire, as a school uses them: customers,
/// invoices to the penny in pounds with VAT and in another region, payments, credit notes, refunds and voids as Sage
/// holds them, and a receipt a person enters in Sage coming back to billing. Every request the connector sends keeps
/// Sage's v3.1 spec (checked at the end of each test).
@Suite struct SageBusinessCloudEndToEndTests {
    typealias World = SageWorld

    /// The user story: billing history exists, the school connects Sage, maps its codes, syncs; a new invoice appears
    /// in Sage as billing has it (contact, billing's number in `reference`, ledger accounts, tax rates, totals to the
    /// penny), and a receipt a person enters in Sage comes back to billing at the next poll.
    @Test func theHappyPathBothWaysInPoundsWithVAT() async throws {
        try await World.run { world in
            try await world.bill("customer.created", World.customer("cus_1", name: "Amelia Hart", email: "a@hart.uk"))
            try await world.bill("invoice.issued", World.invoice("inv_1", number: "GF-0001"))

            let (integration, callback) = try await world.connect()
            #expect(callback.status == 200 && callback.json["status"] == "connected", "\(callback.json)")
            #expect(callback.json["business_id"]?.stringValue == world.business, "\(callback.json)")
            try await world.map(integration)
            try await world.fullSync(integration)

            let contacts = await world.records("contacts")
            #expect(contacts.count == 1)
            let contact = try #require(contacts.first)
            #expect(contact["name"] == "Amelia Hart" && contact["reference"] == "cus_1")
            #expect(contact["contact_types"]?[0]?["id"] == "CUSTOMER")
            #expect(contact["email"] == "a@hart.uk")

            try await world.bill("invoice.issued", World.invoice("inv_2", number: "GF-0002"))
            try await world.drain()
            let invoice = try #require(await world.invoice("GF-0002"))
            #expect(invoice["contact"]?["id"] == contact["id"])
            #expect(invoice["status"]?["id"] == "UNPAID" && invoice["currency"]?["id"] == "GBP")
            #expect(World.amount(invoice["net_amount"]) == "1126.50")
            #expect(World.amount(invoice["tax_amount"]) == "225.30")
            #expect(World.amount(invoice["total_amount"]) == "1351.80")
            #expect(World.amount(invoice["outstanding_amount"]) == "1351.80")
            let lines = invoice["invoice_lines"]?.arrayValue ?? []
            let sales = await world.sandbox.ledgerAccountID(businessID: world.business, nominalCode: 4000)
            #expect(lines.count == 2)
            #expect(lines.allSatisfy { $0["ledger_account"]?["id"]?.stringValue == sales })
            #expect(lines.allSatisfy { $0["tax_rate"]?["id"] == "GB_STANDARD" })
            #expect(lines.map { World.amount($0["net_amount"]) } == ["1000.00", "126.50"])
            #expect(lines.map { World.amount($0["tax_amount"]) } == ["200.00", "25.30"])
            #expect(World.amount(lines[1]["discount_amount"]) == "10.00")
            let records = try await world.api("GET", "/records?type=invoice&local_id=inv_2")
            #expect(records.json["items"]?[0]?["links"]?[0]?["remote_id"] == invoice["id"])

            // A person enters a receipt in Sage (Sage has no webhooks): the next poll brings it to billing.
            let invoiceID = try #require(invoice["id"]?.stringValue)
            #expect(
                await world.sandbox.enterReceipt(businessID: world.business, invoiceID: invoiceID, amount: 500) != nil)
            try await world.poll(integration)
            let recorded = try await world.events("ledger.payment.recorded")
            #expect(recorded.count == 1, "\(recorded)")
            #expect(recorded.first?["invoice_id"] == "inv_2")
            #expect(recorded.first?["amount"] == "500.00" && recorded.first?["currency"] == "GBP")
            #expect(await world.sandbox.limitViolations == 0)
        }
    }

    /// An invoice in euros for a UK business: Sage holds it in euros at the rate billing gave, stated Sage's way
    /// (euros per pound), with its totals to the cent.
    @Test func anInvoiceInAnotherCurrencyCarriesBillingsRate() async throws {
        try await World.run { world in
            let (integration, _) = try await world.connect()
            try await world.map(integration)
            try await world.bill("customer.created", World.customer("cus_1", name: "Luc Martin", currency: "EUR"))
            try await world.bill(
                "invoice.issued",
                World.invoice("inv_1", number: "GF-0001", currency: "EUR", exchangeRate: "0.8"))
            try await world.drain()
            let invoice = try #require(await world.invoice("GF-0001"))
            #expect(invoice["currency"]?["id"] == "EUR")
            #expect(invoice["exchange_rate"].flatMap(World.amount) == "1.25")
            #expect(World.amount(invoice["total_amount"]) == "1351.80")
            #expect(World.amount(invoice["base_currency_total_amount"]) == "1081.44")
        }
    }

    /// A business in Ireland: euros and Irish VAT at 23 %, to the cent.
    @Test func anIrishBusinessInEurosWithItsVAT() async throws {
        try await World.run(country: "IE") { world in
            let (integration, callback) = try await world.connect()
            #expect(callback.json["status"] == "connected", "\(callback.json)")
            try await world.map(integration)
            try await world.bill("customer.created", World.customer("cus_1", name: "Aoife Byrne", currency: "EUR"))
            try await world.bill("invoice.issued", World.invoice("inv_1", number: "GF-0001", currency: "EUR", rate: 23))
            try await world.drain()
            let invoice = try #require(await world.invoice("GF-0001"))
            #expect(invoice["currency"]?["id"] == "EUR")
            #expect(World.amount(invoice["tax_amount"]) == "259.10")
            #expect(World.amount(invoice["total_amount"]) == "1385.60")
            let lines = invoice["invoice_lines"]?.arrayValue ?? []
            #expect(lines.allSatisfy { $0["tax_rate"]?["id"] == "IE_STANDARD" })
        }
    }

    /// A payment, a credit note against an invoice, a refund of another credit note and a void: each lands as Sage
    /// holds such things, and what each invoice and credit note still has outstanding is right.
    @Test func paymentsCreditNotesRefundsAndVoidsLandAsSageHoldsThem() async throws {
        try await World.run { world in
            let (integration, _) = try await world.connect()
            try await world.map(integration)
            try await world.bill("customer.created", World.customer("cus_1", name: "Amelia Hart"))
            try await world.bill("invoice.issued", World.invoice("inv_1", number: "GF-0001"))
            try await world.bill("invoice.issued", World.invoice("inv_2", number: "GF-0002"))
            try await world.drain()

            try await world.bill("payment.received", World.payment("pay_1", invoice: "inv_1", amount: "351.80"))
            try await world.drain()
            var invoice = try #require(await world.invoice("GF-0001"))
            #expect(World.amount(invoice["outstanding_amount"]) == "1000.00")
            #expect(invoice["status"]?["id"] == "PART_PAID")
            let receipts = await world.records("contact_payments")
            #expect(receipts.count == 1)
            #expect(receipts.first?["transaction_type"]?["id"] == "CUSTOMER_RECEIPT")
            let bank = await world.sandbox.bankAccountID(businessID: world.business)
            #expect(receipts.first?["bank_account"]?["id"]?.stringValue == bank)
            #expect(World.amount(receipts.first?["total_amount"]) == "351.80")

            try await world.bill(
                "credit_note.issued", World.creditNote("cn_1", number: "CN-0001", invoice: "inv_1", amount: "100.00"))
            try await world.drain()
            invoice = try #require(await world.invoice("GF-0001"))
            #expect(World.amount(invoice["outstanding_amount"]) == "900.00")
            let notes = await world.records("sales_credit_notes")
            let note = try #require(notes.first { $0["reference"] == "CN-0001" })
            #expect(World.amount(note["total_amount"]) == "100.00")
            #expect(World.amount(note["outstanding_amount"]) == "0.00")
            #expect(await world.records("contact_allocations").count == 1)

            try await world.bill(
                "credit_note.issued", World.creditNote("cn_2", number: "CN-0002", invoice: nil, amount: "50.00"))
            try await world.bill("refund.issued", World.refund("ref_1", creditNote: "cn_2", amount: "50.00"))
            try await world.drain()
            let refunded = try #require(
                await world.records("sales_credit_notes").first { $0["reference"] == "CN-0002" })
            #expect(World.amount(refunded["outstanding_amount"]) == "0.00")
            let refunds = await world.records("contact_payments").filter {
                $0["transaction_type"]?["id"] == "CUSTOMER_REFUND"
            }
            #expect(refunds.count == 1 && World.amount(refunds.first?["total_amount"]) == "50.00")

            try await world.bill("invoice.voided", World.voided("inv_2", number: "GF-0002"))
            try await world.drain()
            let voided = try #require(await world.invoice("GF-0002"))
            #expect(voided["status"]?["id"] == "VOID" && voided["void_reason"] != nil)
            #expect(World.amount(voided["outstanding_amount"]) == "0.00")
            #expect(await world.records("sales_invoices").count == 2)
            let jobs = try await world.components.database.jobs(page: PageRequest(limit: 100)).items
            #expect(jobs.allSatisfy { $0.status == .succeeded }, "\(jobs.map { "\($0.localID) \($0.status)" })")

            // The poll after all that: Ledgerwire's own writes are echoes, not news for billing.
            try await world.poll(integration)
            #expect(try await world.events("ledger.payment.recorded").isEmpty)
            let changed = try await world.events("ledger.invoice.changed")
            #expect(changed.isEmpty, "\(changed)")
            #expect(try await world.events("ledger.credit_note.created").isEmpty)
        }
    }

    /// The same event delivered twice, and writes made in Sage whose answers are lost with the connection (an
    /// invoice's, a payment's): one record each.
    @Test func theSameEventTwiceAndLostAnswersMakeOneRecord() async throws {
        try await World.run { world in
            let (integration, _) = try await world.connect()
            try await world.map(integration)
            try await world.bill("customer.created", World.customer("cus_1", name: "Amelia Hart"))
            try await world.bill("invoice.issued", World.invoice("inv_1", number: "GF-0001"), id: "msg_same")
            try await world.bill("invoice.issued", World.invoice("inv_1", number: "GF-0001"), id: "msg_same")
            try await world.drain()
            #expect(await world.records("sales_invoices").count == 1)

            await world.sandbox.dropAnswers(1)
            try await world.bill("invoice.issued", World.invoice("inv_2", number: "GF-0002"))
            try await world.drain()
            #expect(await world.sandbox.droppedAnswers == 0, "a write lost its answer")
            #expect(await world.records("sales_invoices").filter { $0["reference"] == "GF-0002" }.count == 1)
            // The second attempt looked for the first's write by billing's number before writing again.
            #expect(
                world.exchanges.all.contains {
                    $0.0.method == "GET" && $0.0.url.path.hasSuffix("/sales_invoices")
                        && $0.0.url.query?.contains("search=GF-0002") == true
                })

            // A contact whose answer is lost: a first attempt looks by name only (the adoption rule), the second by
            // billing's id in the reference too, and finds its own write.
            await world.sandbox.dropAnswers(1)
            try await world.bill("customer.created", World.customer("cus_2", name: "Noah Price"))
            try await world.drain()
            #expect(await world.sandbox.droppedAnswers == 0, "a write lost its answer")
            #expect(await world.records("contacts").filter { $0["name"] == "Noah Price" }.count == 1)
            let contactSearches = world.exchanges.all.filter {
                $0.0.method == "GET" && $0.0.url.path.hasSuffix("/contacts")
            }.compactMap { $0.0.url.query }
            #expect(contactSearches.filter { $0.contains("search=cus_2") }.count == 1, "\(contactSearches)")
            #expect(!contactSearches.contains { $0.contains("search=cus_1") }, "a first attempt looks by name only")

            await world.sandbox.dropAnswers(1)
            try await world.bill("payment.received", World.payment("pay_1", invoice: "inv_2", amount: "100.00"))
            try await world.drain()
            #expect(await world.sandbox.droppedAnswers == 0, "a write lost its answer")
            #expect(await world.records("contact_payments").count == 1)
            #expect(World.amount(await world.invoice("GF-0002")?["outstanding_amount"]) == "1251.80")

            // A credit note whose answer is lost, and then its allocation's: one of each, and the invoice owes less
            // by the credit.
            await world.sandbox.dropAnswers(2)
            try await world.bill(
                "credit_note.issued", World.creditNote("cn_1", number: "CN-0001", invoice: "inv_2", amount: "100.00"))
            try await world.drain()
            #expect(await world.sandbox.droppedAnswers == 0, "two writes lost their answers")
            #expect(await world.records("sales_credit_notes").count == 1)
            #expect(await world.records("contact_allocations").count == 1)
            #expect(World.amount(await world.invoice("GF-0002")?["outstanding_amount"]) == "1151.80")
            let jobs = try await world.components.database.jobs(page: PageRequest(limit: 100)).items
            #expect(jobs.allSatisfy { $0.status == .succeeded }, "\(jobs.map { "\($0.localID) \($0.status)" })")
        }
    }

    /// The bookkeeper edits one invoice in Sage and voids another: the next poll tells billing of both
    /// (`ledger.invoice.changed`), in billing's terms, with Sage's totals.
    @Test func anInvoiceEditedOrVoidedInSageReachesBilling() async throws {
        try await World.run { world in
            let (integration, _) = try await world.connect()
            try await world.map(integration)
            try await world.bill("customer.created", World.customer("cus_1", name: "Amelia Hart"))
            try await world.bill("invoice.issued", World.invoice("inv_1", number: "GF-0001"))
            try await world.bill("invoice.issued", World.invoice("inv_2", number: "GF-0002"))
            try await world.drain()
            try await world.poll(integration)
            #expect(try await world.events("ledger.invoice.changed").isEmpty, "Ledgerwire's own writes are echoes")

            // The bookkeeper comes to it a minute later.
            await world.sandbox.advance(by: 60)
            let first = try #require(await world.invoice("GF-0001")?["id"]?.stringValue)
            let sales = try #require(await world.sandbox.ledgerAccountID(businessID: world.business, nominalCode: 4000))
            #expect(
                await world.sandbox.editInvoice(
                    businessID: world.business, invoiceID: first,
                    changes: [
                        "invoice_lines": [
                            [
                                "description": "Term 2 tuition, sibling rate", "quantity": 1, "unit_price": 900,
                                "ledger_account_id": .string(sales), "tax_rate_id": "GB_STANDARD",
                            ]
                        ]
                    ]))
            let second = try #require(await world.invoice("GF-0002")?["id"]?.stringValue)
            #expect(await world.sandbox.voidInvoice(businessID: world.business, invoiceID: second))
            try await world.poll(integration)

            let changed = try await world.events("ledger.invoice.changed")
            let conflicts = try await world.api("GET", "/conflicts").json
            let open = try await world.openJobs()
            #expect(changed.count == 2, "\(changed) \(conflicts) \(open)")
            let edited = try #require(changed.first { $0["invoice_id"] == "inv_1" })
            #expect(edited["change"] == "updated" && edited["remote_invoice_id"]?.stringValue == first, "\(edited)")
            #expect(edited["data"]?["total"] == "1080.00" && edited["data"]?["tax_total"] == "180.00", "\(edited)")
            #expect(edited["data"]?["balance"] == "1080.00", "\(edited)")
            let voided = try #require(changed.first { $0["invoice_id"] == "inv_2" })
            #expect(voided["change"] == "voided" && voided["remote_invoice_id"]?.stringValue == second, "\(voided)")
        }
    }

    /// A contact the bookkeeper kept by hand under a family's name is adopted for billing's customer of that name, not
    /// duplicated; another family of the same name gets a contact of its own, named apart with billing's id.
    @Test func aContactKeptByHandIsAdoptedAndAnotherOfTheSameNameIsNamedApart() async throws {
        try await World.run { world in
            let (token, _) = await world.sandbox.issueTokens(clientID: World.clientID)
            let typed = try await world.call(
                "POST", world.emulator + "/v3.1/contacts", token: token,
                json: ["contact": ["name": "Priya Shah", "contact_type_ids": ["CUSTOMER"]]],
                headers: ["X-Business": world.business])
            #expect(typed.status == 201, "\(typed.json)")
            let kept = try #require(typed.json["id"]?.stringValue)

            let (integration, _) = try await world.connect()
            try await world.map(integration)
            try await world.bill("customer.created", World.customer("cus_1", name: "Priya Shah"))
            try await world.drain()
            #expect(await world.records("contacts").count == 1)
            let linked = try await world.api("GET", "/records?type=customer&local_id=cus_1")
            #expect(linked.json["items"]?[0]?["links"]?[0]?["remote_id"]?.stringValue == kept, "\(linked.json)")

            try await world.bill("customer.created", World.customer("cus_2", name: "Priya Shah"))
            try await world.drain()
            let contacts = await world.records("contacts")
            #expect(contacts.count == 2)
            let other = try #require(contacts.first { $0["id"]?.stringValue != kept })
            #expect(other["name"] == "Priya Shah (cus_2)" && other["reference"] == "cus_2", "\(other)")
        }
    }

    /// A user with two businesses: the integration waits, listing both, until a person chooses one; a business the
    /// grant does not open is refused; then it writes to the chosen one only, naming it in `X-Business`.
    @Test func twoBusinessesWaitForTheChoice() async throws {
        try await World.run { world in
            let other = try #require(await world.sandbox.addBusiness(name: "Greenfield Trust", country: "GB"))
            let (integration, callback) = try await world.connect()
            #expect(callback.status == 200 && callback.json["status"] == "pending", "\(callback.json)")
            let listed = callback.json["available_businesses"]?.arrayValue?.compactMap {
                $0["business_id"]?.stringValue
            }
            #expect(Set(listed ?? []) == [world.business, other], "\(callback.json)")

            let wrong = try await world.api(
                "PATCH", "/integrations/\(integration)",
                ["settings": ["business_id": "0123456789abcdef0123456789abcdef"]])
            #expect(wrong.status == 422, "\(wrong.json)")
            let chosen = try await world.api(
                "PATCH", "/integrations/\(integration)", ["settings": ["business_id": .string(other)]])
            #expect(chosen.status == 200 && chosen.json["status"] == "connected", "\(chosen.json)")
            try await world.bill("customer.created", World.customer("cus_1", name: "Amelia Hart"))
            try await world.drain()
            let theirs = await world.sandbox.records(businessID: other, resource: "contacts")
            #expect(theirs.map { $0["name"] } == ["Amelia Hart"])
            #expect(await world.records("contacts").isEmpty)
        }
    }

    /// Billing changes a customer and an invoice: Sage's contact and invoice change in place (`PUT`), nothing is made
    /// twice, and the invoice's total is still billing's to the penny.
    @Test func billingsChangesUpdateTheRecordsInSage() async throws {
        try await World.run { world in
            let (integration, _) = try await world.connect()
            try await world.map(integration)
            try await world.bill("customer.created", World.customer("cus_1", name: "Amelia Hart"))
            try await world.bill("invoice.issued", World.invoice("inv_1", number: "GF-0001"))
            try await world.drain()

            try await world.bill(
                "customer.updated", World.customer("cus_1", name: "Amelia Hart-Jones", email: "amelia@hart.uk"))
            var changed = try #require(World.invoice("inv_1", number: "GF-0001").objectValue)
            changed["due_date"] = "2026-12-01"
            changed["updated_at"] = .string(Timestamp.now().rfc3339)
            try await world.bill("invoice.updated", .object(changed))
            try await world.drain()

            let contacts = await world.records("contacts")
            #expect(contacts.count == 1)
            #expect(contacts.first?["name"] == "Amelia Hart-Jones" && contacts.first?["email"] == "amelia@hart.uk")
            let invoices = await world.records("sales_invoices")
            #expect(invoices.count == 1)
            #expect(invoices.first?["due_date"] == "2026-12-01")
            #expect(World.amount(invoices.first?["total_amount"]) == "1351.80")
            #expect((invoices.first?["invoice_lines"]?.arrayValue ?? []).count == 2)
            #expect(world.exchanges.all.contains { $0.0.method == "PUT" && $0.0.url.path.contains("/sales_invoices/") })
        }
    }
}
