import Accounting
import App
import Connectors
import Foundation
import Logging
import Persistence
import Sandbox
import SyncEngine
import Testing

/// A school's Tally as it really is: closed at night, the company not open, an old Tally.ERP 9 that wants UTF-16 for
/// names in Devanagari, a ledger an accountant renamed.
@Suite struct TallyResilienceTests {
    func amount(_ text: String) -> TallyAmount { TallyAmount(parsing: text)! }

    @Test func whileTallyIsNotRunningJobsWaitAndEverythingLandsOnceWhenItIsBack() async throws {
        try await TallyWorld.run { world in
            let integration = try await world.connect()
            try await world.map(integration)
            await world.sandbox.stopListening()
            try await world.bill("customer.created", TallyWorld.customer("cus_a", name: "Asha Rao", state: "KA"))
            try await world.bill(
                "invoice.issued",
                TallyWorld.invoice(
                    "inv_1", number: "INV-1", customer: "cus_a", tuition: "1000.00", tax: "180.00", total: "1180.00"))
            // A few rounds with nobody answering: jobs wait, with no attempt used, and the integration says why.
            for _ in 0..<5 {
                _ = try await world.engine.runDueJobs()
                if let due = try await world.engine.nextJobDue() { world.clock.advance(to: due) }
            }
            let pending = try await world.components.database.jobs(status: .pending, page: PageRequest(limit: 10))
            #expect(!pending.items.isEmpty)
            #expect(pending.items.allSatisfy { $0.attempts == 0 }, "\(pending.items.map(\.attempts))")
            for status in [Job.Status.failed, .dead] {
                #expect(
                    try await world.components.database.jobs(status: status, page: PageRequest(limit: 10)).items.isEmpty
                )
            }
            let shown = try await world.api("GET", "/integrations/\(integration)")
            let reason = shown.json.canonicalString
            #expect(reason.contains("is Tally running"), "\(reason)")

            await world.sandbox.startListening()
            try await world.drain()
            try await world.expectEveryJobSucceeded()
            #expect(await world.vouchers().count == 1)
            _ = try await world.voucher(number: "INV-1")
        }
    }

    @Test func aClosedTallyIsAskedAgainEveryMinuteNotEveryHour() async throws {
        // The engine's own waits: from half a minute, doubling to an hour; Tally's connector caps them at a minute.
        try await TallyWorld.run(retry: RetryStrategy()) { world in
            let integration = try await world.connect()
            try await world.map(integration)
            await world.sandbox.stopListening()
            try await world.bill("customer.created", TallyWorld.customer("cus_a", name: "Asha Rao", state: "KA"))
            var waits: [Duration] = []
            for _ in 0..<8 {
                _ = try await world.engine.runDueJobs()
                let due = try #require(try await world.engine.nextJobDue())
                waits.append(.microseconds(due.microsecondsSinceEpoch - world.clock.now().microsecondsSinceEpoch))
                world.clock.advance(to: due)
            }
            #expect(waits.allSatisfy { $0 <= .seconds(60) }, "\(waits)")
            await world.sandbox.startListening()
            try await world.drain()
            #expect(await world.ledger("Asha Rao") != nil)
        }
    }

    @Test func aCompanyNotLoadedIsNamedAndItsWorkWaitsForIt() async throws {
        try await TallyWorld.run { world in
            let integration = try await world.connect()
            try await world.map(integration)
            await world.sandbox.unload(TallyWorld.company)
            let checked = try await world.api("POST", "/integrations/\(integration)/connect-check")
            #expect(checked.json["status"]?.stringValue == "disconnected")
            #expect(
                checked.json["status_reason"]?.stringValue?.contains(TallyWorld.company) == true, "\(checked.json)")
            try await world.bill("customer.created", TallyWorld.customer("cus_a", name: "Asha Rao", state: "KA"))
            for _ in 0..<3 { _ = try await world.engine.runDueJobs() }
            #expect(await world.sandbox.ledgers(company: TallyWorld.company).allSatisfy { $0.name != "Asha Rao" })
            #expect(
                try await world.components.database.jobs(status: .failed, page: PageRequest(limit: 10)).items.isEmpty)

            await world.sandbox.load(TallyWorld.company)
            let again = try await world.api("POST", "/integrations/\(integration)/connect-check")
            #expect(again.json["status"]?.stringValue == "connected", "\(again.json)")
            try await world.drain()
            try await world.expectEveryJobSucceeded()
            #expect(await world.ledger("Asha Rao") != nil)
        }
    }

    @Test func throughTheTallyAgentTheSameFlowWorksWhenTheServerCannotReachTally() async throws {
        try await TallyWorld.run { world in
            // The server's own way to Tally is closed: its address names a port nothing listens on.
            let integration = try await world.createIntegration(url: "http://127.0.0.1:9", connection: "agent")
            let issued = try await world.api("POST", "/integrations/\(integration)/agent-token")
            let token = try #require(issued.json["token"]?.stringValue, "\(issued.json)")
            let agent = RelayAgent(
                configuration: .init(
                    server: URL(string: world.ledgerwire)!, token: token, books: URL(string: world.tally)!,
                    wait: .seconds(2)),
                server: HTTPClientTransport(policy: QuickBooksWorld.loopback),
                books: HTTPClientTransport(policy: QuickBooksWorld.loopback), logger: Logger(label: "e2e.agent"))
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { await agent.run() }
                while await !world.components.agentRelay.isConnected(integrationID: integration) {
                    try await Task.sleep(for: .milliseconds(10))
                }
                let checked = try await world.api("POST", "/integrations/\(integration)/connect-check")
                #expect(checked.json["status"]?.stringValue == "connected", "\(checked.json)")
                try await world.map(integration)
                try await world.poll(integration)
                try await world.bill("customer.created", TallyWorld.customer("cus_a", name: "Asha Rao", state: "KA"))
                try await world.bill(
                    "invoice.issued",
                    TallyWorld.invoice(
                        "inv_1", number: "INV-1", customer: "cus_a", tuition: "1000.00", tax: "180.00",
                        total: "1180.00"))
                try await world.drain()
                try await world.expectEveryJobSucceeded()
                let voucher = try await world.voucher(number: "INV-1")
                #expect(voucher.entries.map { "\($0.ledger) \($0.amount)" }.first == "Asha Rao -1180.00")
                try await world.sandbox.enterReceipt(
                    company: TallyWorld.company, party: "Asha Rao", bill: "INV-1", amount: amount("1180.00"),
                    account: "HDFC Bank", date: 20260405)
                try await world.poll(integration)
                try await world.drain()
                #expect(try await world.events("ledger.payment.recorded").count == 1)
                // Nothing went to the address the server cannot reach.
                #expect(!world.exchanges.all.contains { $0.0.url.port == 9 })
                #expect(await world.sandbox.requestCount > 3)
                tasks.cancelAll()
            }
        }
    }

    @Test(arguments: [
        (TallySandbox.Version.erp9, TallyEncoding.utf16), (.erp9, .utf8), (.prime, .utf16), (.prime, .utf8),
    ])
    func everyVersionAndEncodingKeepsDevanagariNamesByteForByte(
        version: TallySandbox.Version, encoding: TallyEncoding
    ) async throws {
        try await TallyWorld.run(version: version) { world in
            let integration = try await world.connect(encoding: encoding, version: version)
            try await world.map(integration)
            try await world.poll(integration)
            let name = "आशा राव (श्री विद्या)"
            try await world.bill("customer.created", TallyWorld.customer("cus_a", name: name, state: "KA"))
            try await world.bill(
                "invoice.issued",
                TallyWorld.invoice(
                    "inv_1", number: "INV-१", customer: "cus_a", tuition: "1000.00", tax: "180.00", total: "1180.00"))
            try await world.drain()
            try await world.expectEveryJobSucceeded()
            let ledger = try #require(await world.ledger(name))
            #expect(Array(ledger.name.utf8) == Array(name.utf8))
            let voucher = try await world.voucher(number: "INV-१")
            #expect(voucher.partyLedger == name)

            // And back: a receipt typed against the bill reaches billing naming billing's invoice.
            try await world.sandbox.enterReceipt(
                company: TallyWorld.company, party: name, bill: "INV-१", amount: amount("1180.00"),
                account: "HDFC Bank", date: 20260405)
            try await world.poll(integration)
            try await world.drain()
            let recorded = try await world.events("ledger.payment.recorded")
            #expect(recorded.first?["allocations"]?[0]?["invoice_id"]?.stringValue == "inv_1", "\(recorded)")
        }
    }

    @Test func aMappedLedgerMissingInTallyFailsWithTallysOwnWordsAndIsNotRetried() async throws {
        try await TallyWorld.run { world in
            let integration = try await world.connect()
            try await world.map(integration)
            // The accountant renamed the transport ledger after it was mapped.
            try await world.sandbox.renameLedger(company: TallyWorld.company, name: "Transport Fees", to: "Bus Fees")
            try await world.bill("customer.created", TallyWorld.customer("cus_a", name: "Asha Rao", state: "KA"))
            try await world.bill(
                "invoice.issued",
                TallyWorld.invoice(
                    "inv_1", number: "INV-1", customer: "cus_a", tuition: "1000.00", tax: "180.00", transport: "500.00",
                    total: "1680.00"))
            let before = await world.sandbox.requestCount
            try await world.drain()
            let failed = try await world.components.database.jobs(status: .failed, page: PageRequest(limit: 10)).items
            #expect(failed.count == 1)
            let job = try #require(failed.first)
            #expect(job.attempts == 1, "a refusal is not retried")
            let message = job.lastError?.message ?? ""
            #expect(message.contains("Transport Fees"), "\(message)")
            let shown = try await world.api("GET", "/jobs/\(job.id)")
            #expect(shown.json.canonicalString.contains("Transport Fees"), "\(shown.json)")
            // One import for the customer, one for the invoice: no storm.
            #expect(await world.sandbox.requestCount - before <= 4)
            #expect(await world.vouchers().isEmpty)
        }
    }
}
