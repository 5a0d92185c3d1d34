import ArgumentParser
import Foundation
import Hummingbird
import Sandbox

/// `ledgerwire-bench xero`: billing's history of invoices and contacts pushed to the Xero emulator at Xero's real
/// limits, and the rate achieved against the ceiling of 60 calls a minute of at most 50 elements each.
///
/// Everything is real but the clock of the world: Ledgerwire as `serve` builds it (SQLite file, its own workers and
/// scheduler at their default settings, `XeroConnector` at its default limits) and the emulator at Xero's limits (5
/// calls at once, 60 a minute, 5,000 a day per organisation), both on loopback in this process. Billing's events
/// arrive signed over HTTP; the integration is connected through the emulator's OAuth consent; a full sync is
/// requested through the admin API and timed until the last invoice is in the books. Then the books are checked:
/// each invoice once, with billing's total; each contact once. A limit violation fails the run.
struct XeroBench: FullSyncBench {
    static let configuration = CommandConfiguration(
        commandName: "xero",
        abstract: "Full sync of billing history to the Xero emulator at Xero's real limits."
    )

    @Option(help: "Billing invoices to push.") var invoices = 10_000
    @Option(help: "Billing customers the invoices belong to (pushed too, as contacts).") var customers = 1_000
    @Option(help: "Concurrent senders of billing's events.") var lanes = 8
    @Option(help: "Seconds between progress lines.") var progressEvery = 60
    @Option(help: "Seconds without progress before giving up.") var stallTimeout = 300

    /// Xero's ceiling for bulk work: 60 calls a minute of at most 50 elements each.
    static let ceilingPerMinute = 3_000.0

    func validate() throws {
        guard invoices > 0, customers > 0, customers <= invoices else {
            throw ValidationError("--invoices and --customers must be positive, with no more customers than invoices")
        }
    }

    func run() async throws {
        let sandbox = XeroSandbox()
        let organisation = await sandbox.addOrganisation(name: "Bench School", baseCurrency: "INR", countryCode: "IN")
        let emulator = XeroCallCounter(inner: sandbox.router().buildResponder())
        try await BenchServers.run(emulator: emulator, serverName: "xero-sandbox") { world in
            try await measure(
                in: XeroBooks(world: world, sandbox: sandbox, organisation: organisation, calls: emulator.counts))
        }
    }

    private func measure(in books: XeroBooks) async throws {
        let world = books.world
        let limits = await books.sandbox.limits
        say(
            "ledgerwire-bench xero: \(invoices) invoices of \(customers) contacts, emulator at Xero's limits"
                + " (\(limits.requestsPerMinute) calls a minute, \(limits.concurrentRequests) at once,"
                + " \(limits.requestsPerDay) a day)")
        let clock = ContinuousClock()
        var started = clock.now
        try await world.bill(
            invoices: invoices, customers: customers, lanes: lanes, numberPrefix: XeroBooks.numberPrefix)
        say("billing's history received: \(customers + invoices) events in \(Self.text(clock.now - started))")

        let integration = try await books.connect()
        try await books.map(integration)
        started = clock.now
        try await world.requestFullSync(integration)

        let (finished, firstWrite) = try await awaitBooks(
            in: world, integration: integration, started: started,
            count: { await books.count() },
            describe: { "\($0.invoices) invoices, \($0.customers) contacts" },
            progress: { current in
                let stats = await books.stats()
                return "\(current.customers) contacts, \(current.invoices) invoices;"
                    + " \(stats.writes) writes, \(stats.requests) requests, \(stats.violations) limit violations"
            })
        try await world.awaitCompletedSync(integration)
        let stats = await books.stats()

        let elapsed = Self.minutes(finished - started)
        let fromFirstWrite = Self.minutes(finished - (firstWrite ?? started))
        let elements = Double(invoices + customers)
        say(
            "pushed \(invoices) invoices and \(customers) contacts in \(Self.text(finished - started))"
                + " (from the sync request to the last invoice in the books)")
        say(
            String(
                format: "elements/min: %.0f = %.1f %% of the 3,000/min ceiling (60 calls × 50)"
                    + " (%.0f from the first write)",
                elements / elapsed, 100 * elements / elapsed / Self.ceilingPerMinute, elements / fromFirstWrite))
        say(
            String(
                format: "invoices/min: %.0f = %.1f %% of the ceiling (contacts took %.1f %% of the elements)",
                Double(invoices) / elapsed, 100 * Double(invoices) / elapsed / Self.ceilingPerMinute,
                100 * Double(customers) / elements))
        say(
            String(
                format: "requests: %d, of them %d writes (PUT/POST, %.1f elements a write) and %d reads (GET);"
                    + " limit violations: %d; refresh grants: %d",
                stats.requests, stats.writes, elements / Double(max(stats.writes, 1)), stats.reads, stats.violations,
                stats.refreshGrants))
        say(
            String(
                format: "the day's calls: %d of %d (%.1f %%)", stats.requests, limits.requestsPerDay,
                100 * Double(stats.requests) / Double(limits.requestsPerDay)))
        guard stats.violations == 0 else {
            throw ValidationError("\(stats.violations) calls went over Xero's limits: Ledgerwire must keep to them")
        }
        say("checked in the books: \(try await books.verify(invoices: invoices, customers: customers))")
    }
}
