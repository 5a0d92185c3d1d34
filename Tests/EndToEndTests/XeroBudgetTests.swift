import Accounting
import App
import Connectors
import Foundation
import Persistence
import Sandbox
import SyncEngine
import TestSupport
import Testing

/// Xero's limits as a school lives with them: the day's calls planned so a big full sync leaves polling and live
/// work their shares and spreads over days, and payments (which have no webhooks) polled every 5 minutes while the
/// rest of the feed keeps the integration's interval.
@Suite struct XeroBudgetTests {
    typealias World = XeroWorld

    /// A day of 24 calls: polling keeps 6, live work 10 more, a full sync the other 8. A full sync of 400 students
    /// and their invoices needs more than that: it stops at its share, an invoice billing issues meanwhile still
    /// lands at once, a poll still runs, and the API shows what is left; over the next days the rest lands, each
    /// record once.
    @Test func theDayIsPlannedSoAFullSyncLeavesPollingAndLiveWorkTheirShares() async throws {
        let limiterClock = TestClock()
        let day = RateLimitPolicy(
            windows: [
                .init(
                    name: "day", limit: 24, period: .seconds(86_400), countsEveryRequest: true,
                    reserved: [.polling: 6, .live: 10], remainingHeader: "X-DayLimit-Remaining")
            ],
            maxConcurrent: 5)
        try await World.run(limits: day, limiterClock: limiterClock) { world in
            for index in 1...400 {
                try await world.bill(
                    "customer.created", QuickBooksWorld.customer("cus_\(index)", name: "Student \(index)"))
                try await world.bill(
                    "invoice.issued",
                    QuickBooksWorld.invoice("inv_\(index)", number: "GF-\(1000 + index)", customer: "cus_\(index)"))
            }
            let (integration, _) = try await world.connect()
            try await world.map(integration)
            // The history is queued by the full sync; it is pushed until its share of the day is spent.
            let requested = try await world.api("POST", "/integrations/\(integration)/sync", ["mode": "full"])
            #expect(requested.status < 300, "\(requested.json)")
            while try await world.runner.runDueOperation() {}
            while try await world.engine.runDueJobs() > 0 {}
            let waiting = try await world.components.database.jobs(status: .pending, page: PageRequest(limit: 500))
                .items
            #expect(!waiting.isEmpty, "the full sync needs more than its share of the day")
            // Turned away before anything was sent: no attempt used. (Invoices whose student is not in Xero yet wait
            // for the student.)
            let turnedAway = waiting.filter { $0.lastError != nil && $0.lastError?.code != "waiting_for_dependency" }
            #expect(!turnedAway.isEmpty)
            let others = turnedAway.filter {
                ($0.lastError?.code != "rate_budget" || $0.attempts != 0)
                    && $0.lastError?.code != "waiting_for_dependency"
            }
            #expect(others.isEmpty, "\(others.prefix(3))")
            #expect(
                turnedAway.first?.lastError?.message == "the share of Xero's day limit for this work is spent",
                "\(String(describing: turnedAway.first))")
            let landedFirst = await world.objects("Invoices").count
            #expect(landedFirst < 400)

            // Billing issues an invoice for a new student: live work has its own share, and it lands now.
            try await world.bill("customer.created", QuickBooksWorld.customer("cus_new", name: "New Student"))
            try await world.bill(
                "invoice.issued", QuickBooksWorld.invoice("inv_new", number: "GF-9000", customer: "cus_new"))
            while try await world.engine.runDueJobs() > 0 {}
            #expect(await world.objects("Invoices").contains { $0["InvoiceNumber"] == "GF-9000" })

            // The scheduled poll has its share too.
            #expect(try await world.runner.scheduleIncrementalSyncs() == 1)
            while try await world.runner.runDueOperation() {}
            let operations = try await world.api("GET", "/sync-operations?integration_id=\(integration)")
            let poll = operations.json["items"]?.arrayValue?.first { $0["mode"] == "incremental" }
            #expect(poll?["status"] == "completed", "\(operations.json)")

            let shown = try await world.api("GET", "/integrations/\(integration)")
            let window = try #require(shown.json["rate_limits"]?[0], "\(shown.json)")
            #expect(window["window"] == "day" && window["limit"] == 24)
            #expect(window["reserved"] == ["polling": 6, "live": 10])
            let remaining = try #require(window["remaining"]?.intValue)
            #expect((1..<16).contains(remaining), "polling and live work used part of their 16: \(window)")
            #expect(window["remaining_by_share"]?["bulk"] == 0)
            #expect(window["remaining_by_share"]?["polling"]?.intValue == remaining)

            // The rest of the history goes in the days after, each day's share at a time, every record once.
            var days = 0
            while await world.objects("Invoices").count < 401, days < 10 {
                days += 1
                limiterClock.advance(by: .seconds(86_400))
                world.clock.advance(by: .seconds(86_460))
                await world.sandbox.advance(by: 86_460)
                while try await world.engine.runDueJobs() > 0 {}
            }
            #expect(days >= 1, "a full sync bigger than a day's share goes on the next day")
            try await world.drain()
            let numbers = await world.objects("Invoices").compactMap { $0["InvoiceNumber"]?.stringValue }
            #expect(numbers.count == 401 && Set(numbers).count == 401)
            #expect(await world.objects("Contacts").count == 401)
            #expect(await world.sandbox.limitViolations == 0)
        }
    }

    /// Payments have no webhooks: the feed is read for them every 5 minutes; contacts, invoices and credit notes,
    /// which webhooks announce, only on the integration's hourly interval. A payment entered in Xero reaches billing
    /// within one 5-minute interval.
    @Test func paymentsArePolledEveryFiveMinutesAndTheRestHourly() async throws {
        try await World.run { world in
            let (integration, _) = try await world.connect()
            try await world.map(integration)
            try await world.bill("customer.created", QuickBooksWorld.customer("cus_1", name: "Priya Raghavan"))
            try await world.bill(
                "invoice.issued", QuickBooksWorld.invoice("inv_1", number: "GF-0001", customer: "cus_1"))
            try await world.drain()

            /// The collections the round that `scheduleIncrementalSyncs` requests now reads, in order (a read the
            /// expired access token was refused for, then made again, once).
            func scheduledRound() async throws -> [String] {
                let before = world.exchanges.all.count
                #expect(try await world.runner.scheduleIncrementalSyncs() == 1, "a round is due")
                while try await world.runner.runDueOperation() {}
                return world.exchanges.all.dropFirst(before).filter {
                    $0.0.url.path.contains("/api.xro/2.0/") && $0.1?.status == 200
                }
                .map { $0.0.url.lastPathComponent }
            }
            func later(_ seconds: Int) async {
                world.clock.advance(by: .seconds(Int64(seconds)))
                await world.sandbox.advance(by: TimeInterval(seconds))
            }

            #expect(try await scheduledRound() == ["Contacts", "Invoices", "CreditNotes", "Payments"])
            // (The workers' clock runs on with real time too: a minute's margin for a slow machine.)
            await later(240)
            #expect(try await world.runner.scheduleIncrementalSyncs() == 0, "not before 5 minutes")
            let invoiceID = try #require(await world.objects("Invoices").first?["InvoiceID"]?.stringValue)
            #expect(
                await world.sandbox.enterPayment(tenantID: world.organisation, invoiceID: invoiceID, amount: 1000)
                    != nil)
            await later(60)
            #expect(try await scheduledRound() == ["Payments"])
            try await world.hearFromTheBooks()
            let recorded = try await world.events("ledger.payment.recorded")
            #expect(recorded.count == 1 && recorded.first?["amount"] == "1000.00", "\(recorded)")
            for _ in 0..<10 {
                await later(300)
                #expect(try await scheduledRound() == ["Payments"])
            }
            await later(300)
            #expect(try await scheduledRound() == ["Contacts", "Invoices", "CreditNotes", "Payments"], "an hour on")

            // A school may poll payments less often; a sync a person asks for reads everything.
            let changed = try await world.api(
                "PATCH", "/integrations/\(integration)", ["sync": ["payments_interval_seconds": 900]])
            #expect(changed.json["sync"]?["payments_interval_seconds"] == 900, "\(changed.json)")
            await later(300)
            #expect(try await world.runner.scheduleIncrementalSyncs() == 0)
            await later(600)
            #expect(try await scheduledRound() == ["Payments"])
            let before = world.exchanges.all.count
            try await world.poll(integration)
            #expect(
                world.exchanges.all.dropFirst(before).filter {
                    $0.0.url.path.contains("/api.xro/2.0/") && $0.1?.status == 200
                }
                .map { $0.0.url.lastPathComponent } == [
                    "Contacts", "Invoices", "CreditNotes", "Payments",
                ])
            let refused = try await world.api(
                "PATCH", "/integrations/\(integration)", ["sync": ["payments_interval_seconds": 5]])
            #expect(refused.status == 422 && "\(refused.json)".contains("payments_interval_seconds"))
        }
    }
}
