import Accounting
import Connectors
import Foundation
import Persistence
import Sandbox
import Testing

@Suite struct XeroEndToEndTests {
    typealias World = XeroWorld

    /// The user story: billing history exists, the school connects Xero, maps its codes, syncs; a new invoice appears
    /// in Xero as billing has it (contact, lines, account codes, tax types, totals to the cent), and a payment a person
    /// enters in Xero comes back to billing at the next poll. Every request the connector sent keeps Xero's spec.
    @Test func theHappyPathBothWays() async throws {
        try await World.run { world in
            try await world.bill("customer.created", QuickBooksWorld.customer("cus_1", name: "Priya Raghavan"))
            try await world.bill(
                "invoice.issued", QuickBooksWorld.invoice("inv_1", number: "GF-0001", customer: "cus_1"))
            try await world.bill(
                "invoice.issued", QuickBooksWorld.invoice("inv_2", number: "GF-0002", customer: "cus_1"))

            let (integration, callback) = try await world.connect()
            #expect(callback.status == 200 && callback.json["status"] == "connected", "\(callback.json)")
            #expect(callback.json["xero_tenant_id"]?.stringValue == world.organisation)
            try await world.map(integration)

            let before = world.exchanges.all.count
            try await world.fullSync(integration)
            // Xero refuses duplicates itself: the history goes in one create per type, with no look-up first.
            let calls = world.exchanges.all.dropFirst(before).filter { $0.0.url.path.contains("/api.xro/2.0/") }
            #expect(
                calls.map { "\($0.0.method) \($0.0.url.lastPathComponent)" } == ["PUT Contacts", "PUT Invoices"],
                "\(calls.map { "\($0.0.method) \($0.0.url)" })")
            let contacts = await world.objects("Contacts")
            #expect(contacts.count == 1)
            #expect(contacts.first?["Name"] == "Priya Raghavan" && contacts.first?["ContactNumber"] == "cus_1")
            #expect(
                await world.objects("Invoices").compactMap { $0["InvoiceNumber"]?.stringValue }.sorted() == [
                    "GF-0001", "GF-0002",
                ])

            try await world.bill(
                "invoice.issued", QuickBooksWorld.invoice("inv_3", number: "GF-0003", customer: "cus_1"))
            try await world.drain()
            let invoice = try #require(await world.objects("Invoices").first { $0["InvoiceNumber"] == "GF-0003" })
            #expect(invoice["Type"] == "ACCREC" && invoice["Status"] == "AUTHORISED")
            #expect(invoice["Contact"]?["ContactID"] == contacts.first?["ContactID"])
            #expect(invoice["CurrencyCode"] == "INR" && invoice["LineAmountTypes"] == "Exclusive")
            #expect(Self.amount(invoice["SubTotal"]) == "49000.00")
            #expect(Self.amount(invoice["TotalTax"]) == "8820.00")
            #expect(Self.amount(invoice["Total"]) == "57820.00")
            #expect(Self.amount(invoice["AmountDue"]) == "57820.00")
            let lines = invoice["LineItems"]?.arrayValue ?? []
            #expect(lines.count == 2)
            #expect(lines.map { $0["AccountCode"] } == ["200", "200"])
            #expect(lines.allSatisfy { $0["TaxType"]?.stringValue?.hasPrefix("TAX") == true })
            #expect(lines.map { Self.amount($0["LineAmount"]) } == ["45000.00", "4000.00"])
            #expect(lines.map { Self.amount($0["TaxAmount"]) } == ["8100.00", "720.00"])
            #expect(Self.amount(lines[1]["DiscountAmount"]) == "500.00")
            let records = try await world.api("GET", "/records?type=invoice&local_id=inv_3")
            #expect(records.json["items"]?[0]?["links"]?[0]?["remote_id"] == invoice["InvoiceID"])

            // A person records a payment in Xero (payments have no webhooks): the next poll brings it to billing.
            let invoiceID = try #require(invoice["InvoiceID"]?.stringValue)
            #expect(
                await world.sandbox.enterPayment(tenantID: world.organisation, invoiceID: invoiceID, amount: 20000)
                    != nil)
            try await world.poll(integration)
            let recorded = try await world.events("ledger.payment.recorded")
            #expect(recorded.count == 1, "\(recorded)")
            #expect(recorded.first?["invoice_id"] == "inv_3")
            #expect(recorded.first?["amount"] == "20000.00" && recorded.first?["currency"] == "INR")
            #expect(await world.sandbox.limitViolations == 0)
        }
    }

    /// A consent to two organisations: the integration waits, listing both, until a person chooses; then it writes
    /// to the chosen one only.
    @Test func twoOrganisationsInOneConsentWaitForTheChoice() async throws {
        try await World.run { world in
            let other = await world.sandbox.addOrganisation(
                name: "Greenfield Trust", baseCurrency: "INR", countryCode: "IN")
            let (integration, callback) = try await world.connect(grant: [world.organisation, other])
            #expect(callback.status == 200 && callback.json["status"] == "pending", "\(callback.json)")
            let listed = callback.json["available_tenants"]?.arrayValue?.compactMap { $0["tenant_id"]?.stringValue }
            #expect(Set(listed ?? []) == [world.organisation, other])
            #expect(callback.json["settings"]?["available_tenants"] == nil)

            // Nothing moves while it waits.
            try await world.drain()
            let mine = await world.objects("Contacts")
            let theirs = await world.objects("Contacts", organisation: other)
            #expect(mine.isEmpty && theirs.isEmpty)

            let wrong = try await world.api(
                "PATCH", "/integrations/\(integration)",
                ["settings": ["xero_tenant_id": "00000000-0000-0000-0000-000000000000"]])
            #expect(wrong.status == 422, "\(wrong.json)")
            let chosen = try await world.api(
                "PATCH", "/integrations/\(integration)", ["settings": ["xero_tenant_id": .string(other)]])
            #expect(chosen.status == 200 && chosen.json["status"] == "connected", "\(chosen.json)")
            #expect(chosen.json["xero_tenant_id"]?.stringValue == other)
            try await world.map(integration)
            try await world.bill("customer.created", QuickBooksWorld.customer("cus_1", name: "Priya Raghavan"))
            try await world.drain()
            #expect(await world.objects("Contacts", organisation: other).map { $0["Name"] } == ["Priya Raghavan"])
            #expect(await world.objects("Contacts").isEmpty)
        }
    }

    /// The other organisation of the same consent gets a second integration without a second consent: it shares the
    /// first's connection, and both keep working across a token refresh (refreshed once for both, no refresh token
    /// spent twice — Xero rotates them).
    @Test func aSecondIntegrationSharesTheConsentForTheOtherOrganisation() async throws {
        try await World.run { world in
            let other = await world.sandbox.addOrganisation(
                name: "Greenfield Trust", baseCurrency: "INR", countryCode: "IN")
            let (first, _) = try await world.connect(grant: [world.organisation, other])
            let chosen = try await world.api(
                "PATCH", "/integrations/\(first)", ["settings": ["xero_tenant_id": .string(world.organisation)]])
            #expect(chosen.json["status"] == "connected", "\(chosen.json)")
            try await world.map(first)

            let second = try await world.createIntegration(name: "Greenfield Trust Xero")
            let itself = try await world.api(
                "POST", "/integrations/\(second)/share-connection", ["integration_id": .string(second)])
            #expect(itself.status == 422, "\(itself.json)")
            let shared = try await world.api(
                "POST", "/integrations/\(second)/share-connection", ["integration_id": .string(first)])
            #expect(shared.status == 200 && shared.json["status"] == "connected", "\(shared.json)")
            #expect(shared.json["xero_tenant_id"]?.stringValue == other, "the organisation the first does not have")
            try await world.map(second)
            let audit = try await world.api("GET", "/audit?integration_id=\(second)")
            #expect("\(audit.json)".contains("integration.connection_attached"))

            try await world.bill("customer.created", QuickBooksWorld.customer("cus_1", name: "Priya Raghavan"))
            try await world.drain()
            #expect(await world.objects("Contacts").count == 1)
            #expect(await world.objects("Contacts", organisation: other).count == 1)

            // Half an hour on, both access tokens (one token) have expired at Xero: one refresh serves both.
            let refreshes = await world.sandbox.refreshGrants
            await world.sandbox.advance(by: 1801)
            world.clock.advance(by: .seconds(1801))
            try await world.bill(
                "invoice.issued", QuickBooksWorld.invoice("inv_1", number: "GF-0001", customer: "cus_1"))
            try await world.drain()
            #expect(await world.objects("Invoices").count == 1)
            #expect(await world.objects("Invoices", organisation: other).count == 1)
            #expect(await world.sandbox.refreshGrants == refreshes + 1)
            for id in [first, second] {
                #expect(try await world.api("GET", "/integrations/\(id)").json["status"] == "connected")
            }
        }
    }

    /// Two billing customers with one name are two contacts; a contact a person made with the name and email is
    /// adopted, not duplicated.
    @Test func sameNamesAreTwoContactsAndAHandMadeOneIsAdopted() async throws {
        try await World.run { world in
            let (integration, _) = try await world.connect()
            try await world.map(integration)
            try await world.bill(
                "customer.created", QuickBooksWorld.customer("cus_1", name: "Asha Rao", email: "asha@example.in"))
            try await world.drain()
            try await world.bill(
                "customer.created", QuickBooksWorld.customer("cus_2", name: "Asha Rao", email: "other@example.in"))
            try await world.drain()
            let names = await world.objects("Contacts").compactMap { $0["Name"]?.stringValue }.sorted()
            #expect(names == ["Asha Rao", "Asha Rao (cus_2)"])

            // The school's bookkeeper typed Meera in by hand before Ledgerwire: her contact is adopted.
            let (token, _) = await world.sandbox.issueTokens(clientID: World.clientID, tenantIDs: [world.organisation])
            let typed = try await world.call(
                "PUT", world.emulator + "/api.xro/2.0/Contacts", token: token,
                json: ["Contacts": [["Name": "Meera Iyer", "EmailAddress": "meera@example.in"]]],
                headers: ["xero-tenant-id": world.organisation])
            #expect(typed.status == 200, "\(typed.json)")
            let handMade = try #require(typed.json["Contacts"]?[0]?["ContactID"]?.stringValue)
            try await world.bill(
                "customer.created", QuickBooksWorld.customer("cus_3", name: "Meera Iyer", email: "meera@example.in"))
            try await world.drain()
            #expect(await world.objects("Contacts").count == 3)
            let linked = try await world.api("GET", "/records?type=customer&local_id=cus_3")
            #expect(linked.json["items"]?[0]?["links"]?[0]?["remote_id"]?.stringValue == handMade, "\(linked.json)")
        }
    }

    /// The same event twice, under one webhook id or two, makes one invoice.
    @Test func theSameEventTwiceIsOneInvoice() async throws {
        try await World.run { world in
            let (integration, _) = try await world.connect()
            try await world.map(integration)
            try await world.bill("customer.created", QuickBooksWorld.customer("cus_1", name: "Priya Raghavan"))
            let event = QuickBooksWorld.invoice("inv_1", number: "GF-0001", customer: "cus_1")
            try await world.bill("invoice.issued", event, id: "msg_same")
            try await world.bill("invoice.issued", event, id: "msg_same")
            try await world.bill("invoice.issued", event, id: "msg_other")
            try await world.drain()
            #expect(await world.objects("Invoices").count == 1)

        }
    }

    /// An amount as a decimal string with two places, from Xero's JSON number.
    static func amount(_ value: JSONValue?) -> String? {
        guard let text = value?.stringValue ?? { if case .number(let n) = value { n } else { nil } }(),
            let decimal = Decimal(string: text)
        else { return nil }
        var value = decimal
        var rounded = Decimal()
        NSDecimalRound(&rounded, &value, 2, .plain)
        let formatter = NumberFormatter()
        formatter.minimumFractionDigits = 2
        formatter.maximumFractionDigits = 2
        formatter.usesGroupingSeparator = false
        formatter.decimalSeparator = "."
        return formatter.string(from: rounded as NSDecimalNumber)
    }
}
