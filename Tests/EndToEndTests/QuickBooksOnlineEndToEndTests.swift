import Accounting
import App
import Connectors
import Foundation
import Persistence
import Sandbox
import SyncEngine
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
            #expect(chart["suggestion_details"]?["accounts"]?["4000-TUITION"]?["by"] == "number")
            #expect(chart["suggestion_details"]?["accounts"]?["4000-TUITION"]?["name"] == "Tuition Income")
            #expect(chart["suggestion_details"]?["accounts"]?["4100-TRANSPORT"]?["name"] == "Transport Income")
            #expect(chart["suggestion_details"]?["tax_codes"]?["GST18"]?["name"] == "GST 18%")

            try await world.fullSync(integration)
            #expect(await world.objects("Customer").count == 1)
            // In whichever order the two pushes landed.
            #expect(
                await world.objects("Invoice").compactMap { $0["DocNumber"]?.stringValue }.sorted() == [
                    "GF-0001", "GF-0002",
                ])

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
            #expect(recorded.first?["amount"] == "20000.00" && recorded.first?["currency"] == "INR")
            #expect(
                recorded.first?["customer_id"] == "cus_1" && recorded.first?["remote_customer_id"] == customer["Id"])
            // The balance the payment moved is not an invoice change to tell billing about.
            #expect(try await world.events("ledger.invoice.changed").isEmpty)
            #expect(await world.sandbox.limitViolations == 0)
        }
    }

    /// The same invoice event twice, and an invoice whose answer was lost after QuickBooks made it: one invoice
    /// each. A customer already in the books under the same name is adopted.
    @Test func duplicatesAndUncertainOutcomesMakeOneInvoiceAndCustomersAreAdopted() async throws {
        try await World.run { world in
            let integration = try await world.connect()
            _ = try await world.mapAccounts(integration)
            let existing = try await world.bookkeeper("POST", "customer", ["DisplayName": "Priya Raghavan"])
            #expect(existing.status == 200)
            try await world.bill("customer.created", World.customer("cus_1", name: "Priya Raghavan"))
            let event = World.invoice("inv_1", number: "GF-0001", customer: "cus_1")
            try await world.bill("invoice.issued", event)
            try await world.bill("invoice.issued", event)  // redelivered under another webhook id
            try await world.drain()
            #expect(await world.objects("Customer").count == 1)
            #expect(await world.objects("Invoice").count == 1)
            let link = try await world.api("GET", "/records?type=customer&local_id=cus_1")
            #expect(link.json["items"]?[0]?["links"]?[0]?["remote_id"] == existing.json["Customer"]?["Id"])

            // QuickBooks makes the next invoice, and the connection drops before its answer.
            await world.sandbox.dropAnswers(1)
            try await world.bill("invoice.issued", World.invoice("inv_2", number: "GF-0002", customer: "cus_1"))
            try await world.drain()
            #expect(await world.sandbox.droppedAnswers == 0)
            #expect(await world.objects("Invoice").filter { $0["DocNumber"] == "GF-0002" }.count == 1)
            let second = try await world.api("GET", "/records?type=invoice&local_id=inv_2")
            #expect(
                second.json["items"]?[0]?["links"]?[0]?["remote_id"]
                    == (await world.objects("Invoice").first { $0["DocNumber"] == "GF-0002" })?["Id"])
        }
    }

    /// The access token expires in the middle of work: one refresh, and on. The company then disconnects the app:
    /// the integration is disconnected and billing told, nothing is lost, and connecting again resumes the work.
    @Test func deletingAnIntegrationRevokesItsGrantInQuickBooks() async throws {
        try await World.run { world in
            let integration = try await world.connect()
            #expect(await world.sandbox.liveGrants(realmID: World.realm) == 1)
            let deleted = try await world.api("DELETE", "/integrations/\(integration)")
            #expect(deleted.status == 204)
            #expect(await world.sandbox.revocations == 1)
            #expect(await world.sandbox.liveGrants(realmID: World.realm) == 0)
            #expect(try await world.api("GET", "/integrations/\(integration)").status == 404)
        }
    }

    /// Another school's admin imports tokens of their own company but names Greenfield's: QuickBooks refuses
    /// those tokens for that realm, so the company is not claimed and Greenfield keeps it; its own company is fine.
    @Test func aCompanyIsClaimedOnlyWithTokensThatOpenIt() async throws {
        try await World.run { world in
            let greenfield = try await world.connect()
            let created = try await world.api(
                "POST", "/integrations",
                [
                    "tenant_id": "riverside", "platform": "quickbooks_online", "name": "Riverside books",
                    "settings": [
                        "client_id": "lw-client", "client_secret": "lw-secret", "environment": "sandbox",
                        "api_base_url": .string(world.emulator),
                    ],
                ])
            let riverside = try #require(created.json["id"]?.stringValue, "\(created.json)")
            let (access, refresh) = await world.sandbox.issueTokens(clientID: "lw-client", realmID: "5550001")
            func importing(_ realm: String) async throws -> World.Answer {
                try await world.api(
                    "PUT", "/integrations/\(riverside)/credentials",
                    [
                        "access_token": .string(access), "refresh_token": .string(refresh),
                        "expires_at": .string(Timestamp.now().adding(.seconds(3000)).rfc3339),
                        "realm_id": .string(realm),
                    ])
            }
            let squat = try await importing(World.realm)
            #expect(squat.status == 422, "\(squat.json)")
            #expect(squat.json["errors"]?.arrayValue?.first?["field"] == "realm_id")
            #expect(try await world.api("GET", "/integrations/\(riverside)").json["status"] == "pending")
            #expect(try await world.api("GET", "/integrations/\(greenfield)").json["status"] == "connected")

            let own = try await importing("5550001")
            #expect(own.status == 200 && own.json["status"] == "connected", "\(own.json)")
        }
    }

    @Test func anExpiredTokenIsRefreshedOnceAndARefusedOneDisconnectsUntilReconnected() async throws {
        try await World.run { world in
            let integration = try await world.connect()
            _ = try await world.mapAccounts(integration)
            try await world.bill("customer.created", World.customer("cus_1", name: "Asha Rao"))
            for index in 1...5 {
                try await world.bill(
                    "invoice.issued", World.invoice("inv_\(index)", number: "GF-000\(index)", customer: "cus_1"))
            }
            try await world.drain()
            await world.sandbox.advance(by: 3601)  // the emulator's token has expired; Ledgerwire's clock says not
            for index in 6...9 {
                try await world.bill(
                    "invoice.issued", World.invoice("inv_\(index)", number: "GF-000\(index)", customer: "cus_1"))
            }
            try await world.drain()
            #expect(await world.sandbox.refreshGrants == 1)
            #expect(await world.objects("Invoice").count == 9)

            await world.sandbox.disconnect(realmID: World.realm)
            try await world.bill("invoice.issued", World.invoice("inv_10", number: "GF-0010", customer: "cus_1"))
            _ = try await world.engine.runDueJobs()
            let disconnected = try await world.api("GET", "/integrations/\(integration)")
            #expect(disconnected.json["status"] == "disconnected")
            #expect(try await world.events("integration.disconnected").count == 1)
            let waiting = try await world.api("GET", "/jobs?status=pending")
            #expect(waiting.json["items"]?.arrayValue?.count == 1)

            try await world.authorize(integration)
            try await world.drain()
            #expect(await world.objects("Invoice").count == 10)
        }
    }

    /// QuickBooks throttles (the realm's limits spent elsewhere) and then goes into maintenance: the work finishes
    /// afterwards, once each, and Ledgerwire never went over the limits.
    @Test func throttlingAndMaintenanceDelayTheWorkWithoutDuplicates() async throws {
        // The rate limiter's pause after a 429 is real time (it paces calls against QuickBooks' own clock): short here.
        let limits = RateLimitPolicy(
            windows: QuickBooksOnlineConnector.limits.windows, maxConcurrent: 10, throttlePause: .milliseconds(50))
        try await World.run(limits: limits) { world in
            let integration = try await world.connect()
            _ = try await world.mapAccounts(integration)
            try await world.bill("customer.created", World.customer("cus_1", name: "Asha Rao"))
            await world.sandbox.throttle(next: 3)
            for index in 1...40 {
                try await world.bill(
                    "invoice.issued", World.invoice("inv_\(index)", number: "GF-\(index)", customer: "cus_1"))
            }
            await world.sandbox.setMaintenance(true)
            // The window outlasts a job's 3 attempts: turned away more often than that, no job dies.
            let database = world.components.database
            try await world.drain {
                try await database.jobs(page: PageRequest(limit: 100)).items.map(\.deferrals).max() ?? 0 >= 6
            }
            #expect(try await database.jobs(page: PageRequest(limit: 100)).items.map(\.deferrals).max() ?? 0 >= 6)
            #expect(await world.objects("Invoice").isEmpty)
            await world.sandbox.setMaintenance(false)
            try await world.drain()
            #expect(try await database.jobs(status: .dead, page: PageRequest(limit: 1)).items.isEmpty)
            #expect(try await database.jobs(status: .failed, page: PageRequest(limit: 1)).items.isEmpty)
            let invoices = await world.objects("Invoice")
            #expect(invoices.count == 40)
            #expect(Set(invoices.compactMap { $0["DocNumber"]?.stringValue }).count == 40)
            #expect(await world.sandbox.injectedThrottles == 0)
            #expect(await world.sandbox.limitViolations == 0)
        }
    }

    /// A reference QuickBooks refuses (an item made inactive after it was mapped) fails the job with QuickBooks' own
    /// message; an update made with a SyncToken someone else has moved on is re-read and made.
    @Test func aValidationFaultFailsWithQuickBooksMessageAndAStaleSyncTokenIsRecovered() async throws {
        try await World.run { world in
            let integration = try await world.connect()
            _ = try await world.mapAccounts(integration)
            try await world.bill("customer.created", World.customer("cus_1", name: "Asha Rao"))
            try await world.bill(
                "invoice.issued", World.invoice("inv_1", number: "GF-0001", customer: "cus_1", updated: World.billed))
            try await world.drain()

            // The bookkeeper edits the invoice in QuickBooks; billing's update comes before Ledgerwire hears of it.
            let invoice = try #require(await world.objects("Invoice").first)
            let edited = try await world.bookkeeper(
                "POST", "invoice",
                [
                    "Id": invoice["Id"] ?? .null, "SyncToken": invoice["SyncToken"] ?? .null, "sparse": true,
                    "DueDate": "2026-12-01",
                ])
            #expect(edited.status == 200)
            var updated = World.invoice(
                "inv_1", number: "GF-0001", customer: "cus_1", updated: World.billed.adding(.seconds(3600)))
            updated = updated.merging(["due_date": "2026-11-30"])
            try await world.bill("invoice.updated", updated)
            try await world.drain()
            let after = try #require(await world.objects("Invoice").first)
            #expect(after["DueDate"] == "2026-11-30" && after["SyncToken"] == "2")

            // The mapped item is made inactive in QuickBooks after it was mapped (mapping it now would be refused).
            let item = try #require(await world.objects("Item").first { $0["Id"] == "7" })
            let retired = try await world.bookkeeper(
                "POST", "item", ["Id": "7", "SyncToken": item["SyncToken"] ?? .null, "sparse": true, "Active": false])
            #expect(retired.status == 200)
            try await world.bill("invoice.issued", World.invoice("inv_2", number: "GF-0002", customer: "cus_1"))
            try await world.drain()
            let failed = try await world.api("GET", "/jobs?status=failed")
            let error = failed.json["items"]?[0]?["last_error"]
            #expect(error?["code"] == "quickbooks_2500")
            #expect(error?["message"]?.stringValue?.contains("Invalid Reference Id") == true)
            #expect(await world.objects("Invoice").count == 1)
        }
    }

    /// 5,000 invoices in a full sync, with the network failing part way (answers lost after QuickBooks acted, then
    /// QuickBooks unreachable): it resumes and finishes with each invoice made exactly once.
    @Test func aFullSyncOf5000InvoicesSurvivesANetworkInterruption() async throws {
        try await World.run(limits: World.unthrottled, sandboxLimits: World.unthrottledSandbox) { world in
            for customer in 1...50 {
                try await world.bill("customer.created", World.customer("cus_\(customer)", name: "Family \(customer)"))
            }
            let clock = ContinuousClock()
            var started = clock.now
            try await withThrowingTaskGroup(of: Void.self) { group in
                for lane in 0..<8 {
                    group.addTask {
                        for index in stride(from: 1 + lane, through: 5000, by: 8) {
                            try await world.bill(
                                "invoice.issued",
                                World.invoice("inv_\(index)", number: "GF-\(index)", customer: "cus_\(index % 50 + 1)"))
                        }
                    }
                }
                try await group.waitForAll()
            }
            print("5000 invoices billed in \(clock.now - started)")
            started = clock.now
            let integration = try await world.connect()
            _ = try await world.mapAccounts(integration)
            let requested = try await world.api("POST", "/integrations/\(integration)/sync", ["mode": "full"])
            #expect(requested.status < 300)
            while try await world.runner.runDueOperation() {}
            for _ in 0..<10 { _ = try await world.engine.runDueJobs() }
            let before = await world.objects("Invoice").count
            #expect(before > 0 && before < 5000)
            await world.sandbox.dropAnswers(5)
            for _ in 0..<5 { _ = try await world.engine.runDueJobs() }
            #expect(await world.sandbox.droppedAnswers == 0, "the answers were lost part way")
            await world.sandbox.setMaintenance(true)
            for _ in 0..<3 { _ = try await world.engine.runDueJobs() }
            await world.sandbox.setMaintenance(false)
            let waiting = try await world.components.database.jobs(status: .pending, page: PageRequest(limit: 500))
            #expect(waiting.items.contains { $0.deferrals > 0 }, "QuickBooks was down part way")
            try await world.drain(rounds: 2000)
            while try await world.runner.runDueOperation() {}
            print("5000 invoices synced in \(clock.now - started)")
            let invoices = await world.objects("Invoice")
            #expect(invoices.count == 5000)
            #expect(Set(invoices.compactMap { $0["DocNumber"]?.stringValue }).count == 5000)
            #expect(await world.objects("Customer").count == 50)
            let operations = try await world.api("GET", "/sync-operations?integration_id=\(integration)")
            #expect(operations.json["items"]?[0]?["status"] == "completed")
        }
    }
}

extension JSONValue {
    subscript(index: Int) -> JSONValue? { arrayValue.flatMap { index < $0.count ? $0[index] : nil } }

    func merging(_ members: [String: JSONValue]) -> JSONValue {
        guard case .object(var object) = self else { return self }
        for (key, value) in members { object[key] = value }
        return .object(object)
    }
}
