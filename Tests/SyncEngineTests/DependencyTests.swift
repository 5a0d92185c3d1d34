import Accounting
import Connectors
import Persistence
import SyncEngine
import Synchronization
import TestSupport
import Testing

@Suite struct DependencyTests: SyncScenario {
    let clock = ManualClock()
    let tenant = "school"

    func payment(_ id: String, allocatedTo invoices: [String]) -> SyncCommand {
        SyncCommand(
            tenantID: Tenant.ID(tenant), recordType: .payment, localID: id, action: .upsert,
            updatedAt: Timestamp(secondsSinceEpoch: 1_795_000_100),
            data: [
                "id": .string(id), "customer_id": "cus_1", "currency": "INR", "amount": "53100.00",
                "received_at": "2026-11-20T10:00:00Z", "method": "upi", "deposit_account": "1100-BANK",
                "updated_at": "2026-11-20T10:00:00Z",
                "allocations": .array(invoices.map { ["invoice_id": .string($0), "amount": "53100.00"] }),
            ])
    }

    @Test func anInvoiceFollowsItsCustomerAndAPaymentWaitsForItsInvoice() async throws {
        let (database, integrations) = try await setUp(integrations: 2, customerInTheBooks: false)
        for integration in integrations {
            try await database.saveMappings(
                integrationID: integration.id,
                CodeMappings(
                    accounts: ["4000-TUITION": "79"], taxCodes: ["GST18": "5"], depositAccounts: ["1100-BANK": "35"]),
                actor: "test", at: clock.now())
        }
        let references = Mutex<[String: [RecordReference: String]]>([:])
        let connector = ScriptedConnector { request, _ in
            references.withLock { $0["\(request.integrationID)/\(request.localID)"] = request.references }
        }
        // The payment arrives first, then the invoice with its customer.
        try await deliver(database, "msg_1", [payment("pay_1", allocatedTo: ["inv_1"])])
        let engine = engine(database, connector)
        try await engine.runDueJobs()
        let waiting = try await database.jobs(status: .pending, page: PageRequest()).items
        #expect(waiting.count == 2 && connector.pushes.isEmpty)
        #expect(waiting.allSatisfy { $0.lastError?.message == "billing has not sent customer cus_1 yet" })
        #expect(waiting.allSatisfy { $0.attempts == 0 }, "waiting uses up no attempt")

        try await deliver(database, "msg_2", [customer("cus_1"), invoice("inv_1")])
        try await drain(engine, database)
        for integration in integrations {
            let order = connector.pushes.filter { $0.integrationID == integration.id }.map(\.localID)
            #expect(order == ["cus_1", "inv_1", "pay_1"])
        }
        #expect(connector.written.count == 6, "each record once in each integration's books")
        let paid = try #require(references.withLock { $0["\(integrations[0].id)/pay_1"] })
        let invoiceID = try #require(
            try await database.records(localID: "inv_1", page: PageRequest()).items.first?.links.first {
                $0.integrationID == integrations[0].id
            }?.remoteID)
        #expect(paid[RecordReference(.invoice, "inv_1")] == invoiceID)
        #expect(paid[RecordReference(.customer, "cus_1")] != nil)
        #expect(try await database.jobs(status: .succeeded, page: PageRequest()).items.count == 6)
    }

    /// A payment that came before its invoice and customer goes as soon as they are in the books, not when the wait
    /// for records billing had not sent runs out: no clock moves here.
    @Test func aJobWaitingForARecordBillingHadNotSentGoesAsSoonAsBillingSendsIt() async throws {
        let (database, integrations) = try await setUp(integrations: 1, customerInTheBooks: false)
        try await database.saveMappings(
            integrationID: integrations[0].id,
            CodeMappings(
                accounts: ["4000-TUITION": "79"], taxCodes: ["GST18": "5"], depositAccounts: ["1100-BANK": "35"]),
            actor: "test", at: clock.now())
        let connector = ScriptedConnector()
        let engine = engine(database, connector)
        try await deliver(database, "msg_1", [payment("pay_1", allocatedTo: ["inv_1"])])
        try await engine.runDueJobs()
        let waiting = try #require(try await database.jobs(status: .pending, page: PageRequest()).items.first)
        #expect(waiting.nextAttemptAt > clock.now().adding(.seconds(60)), "waits for what billing has not sent")

        try await deliver(database, "msg_2", [customer("cus_1"), invoice("inv_1")])
        for _ in 0..<6 { try await engine.runDueJobs() }
        #expect(connector.pushes.map(\.localID) == ["cus_1", "inv_1", "pay_1"])
        #expect(try await database.jobs(status: .succeeded, page: PageRequest()).items.count == 3)
    }

    @Test func aCustomerNeverQueuedForAnIntegrationIsPushedOnDemand() async throws {
        let (database, _) = try await setUp(integrations: 1, customerInTheBooks: false)
        try await deliver(database, "msg_1", [customer("cus_1"), invoice("inv_1")])
        // An integration added later: billing's customer was never queued for it.
        let later = try await database.createIntegration(
            tenantID: tenant, platform: .quickBooksOnline, name: "New books", actor: "test", at: clock.now())
        try await database.setIntegrationStatus(id: later.id, to: .connected, actor: "test", at: clock.now())
        try await database.saveMappings(
            integrationID: later.id, CodeMappings(accounts: ["*": "79"], taxCodes: ["*": "5"]), actor: "test",
            at: clock.now())
        try await deliver(database, "msg_2", [invoice("inv_1", total: "53100.00", at: 1_795_000_500)])
        let connector = ScriptedConnector()
        try await drain(engine(database, connector), database)
        let pushes = connector.pushes.filter { $0.integrationID == later.id }
        #expect(pushes.map(\.localID) == ["cus_1", "inv_1"])
        #expect(pushes.map(\.version) == [1, 2])
    }

    @Test func aFailedDependencyHoldsItsDependentsAndSaysWhichJobToRetry() async throws {
        let (database, _) = try await setUp(customerInTheBooks: false)
        let connector = ScriptedConnector(failing: [
            .validation(code: "6240", message: "Duplicate Name Exists Error")
        ])
        try await deliver(database, "msg_1", [customer("cus_1"), invoice("inv_1")])
        let engine = engine(database, connector)
        try await engine.runDueJobs()
        try await engine.runDueJobs()
        let failed = try #require(try await database.jobs(status: .failed, page: PageRequest()).items.first)
        #expect(failed.localID == "cus_1")
        let held = try #require(try await database.jobs(status: .pending, page: PageRequest()).items.first)
        #expect(held.localID == "inv_1")
        #expect(held.lastError?.message == "customer cus_1 did not sync (job \(failed.id)); retry that job")
        _ = try await database.retryJob(id: failed.id, tenantID: nil, actor: "test", at: clock.now())
        // No time passes: the customer's success wakes the invoice at once.
        #expect(try await engine.runDueJobs() == 1)
        #expect(try await engine.runDueJobs() == 1)
        #expect(try await database.job(id: held.id)?.status == .succeeded)
    }
}
