import ArgumentParser
import Connectors
import Foundation
import Hummingbird
import Sandbox

/// `ledgerwire-bench sage-business-cloud`: billing's history of invoices and contacts pushed to the Sage Business
/// Cloud emulator at its per-business limit, and the rate achieved against that ceiling.
///
/// Sage has no batch create: every element is one call, so the ceiling is the business's requests a minute (200 at
/// Sage; `--requests-per-minute` gives the emulator another limit, and the connector is given the same one, paced as
/// it paces Sage's, so that a run of minutes proves the ratio a run of an hour would). Everything else is as
/// `ledgerwire-bench xero`: Ledgerwire as `serve` builds it, the emulator on loopback in this process, billing's
/// events signed over HTTP, the integration connected through the emulator's consent, a full sync requested through
/// the admin API and timed until the last invoice is in the books; then the books are checked. A limit violation
/// fails the run.
struct SageBusinessCloudBench: FullSyncBench {
    static let configuration = CommandConfiguration(
        commandName: "sage-business-cloud",
        abstract: "Full sync of billing history to the Sage Business Cloud emulator at its per-business limit."
    )

    @Option(help: "Billing invoices to push.") var invoices = 10_000
    @Option(help: "Billing customers the invoices belong to (pushed too, as contacts).") var customers = 1_000
    @Option(
        help: "Requests the emulator takes from the business per 60 s (Sage's: 200); the connector is told the same.")
    var requestsPerMinute = 200
    @Option(help: "Concurrent senders of billing's events.") var lanes = 8
    @Option(help: "Seconds between progress lines.") var progressEvery = 60
    @Option(help: "Seconds without progress before giving up.") var stallTimeout = 300

    func validate() throws {
        guard invoices > 0, customers > 0, customers <= invoices, invoices <= 1_000_000 else {
            throw ValidationError(
                "--invoices and --customers must be positive, with no more customers than invoices (at most 1000000)")
        }
        guard (1...100_000).contains(requestsPerMinute) else {
            throw ValidationError("--requests-per-minute must be from 1 to 100000")
        }
        guard (1...64).contains(lanes) else { throw ValidationError("--lanes must be from 1 to 64") }
    }

    func run() async throws {
        var limits = SageBusinessCloudSandbox.Limits()
        limits.requestsPerWindow = requestsPerMinute
        let sandbox = SageBusinessCloudSandbox(limits: limits)
        guard let business = await sandbox.addBusiness(name: "Bench School", country: "GB") else {
            throw ValidationError("the emulator refused a UK business")
        }
        let emulator = SageCallCounter(inner: sandbox.router().buildResponder())
        let registry = ConnectorRegistry.standard.with(connectors: [
            SageBusinessCloudConnector(
                limits: SageBusinessCloudConnector.limits(requestsPerMinute: requestsPerMinute))
        ])
        try await BenchServers.run(emulator: emulator, serverName: "sage-business-cloud-sandbox", registry: registry) {
            world in
            try await measure(
                in: SageBusinessCloudBooks(world: world, sandbox: sandbox, business: business, calls: emulator.counts))
        }
    }

    private func measure(in books: SageBusinessCloudBooks) async throws {
        let world = books.world
        let limits = await books.sandbox.limits
        let ceiling = Double(limits.requestsPerWindow) * 60 / limits.window
        say(
            "ledgerwire-bench sage-business-cloud: \(invoices) invoices of \(customers) contacts, emulator at"
                + " \(limits.requestsPerWindow) requests per \(Int(limits.window)) s per business"
                + " (Sage's own: 200), the connector told the same")
        let clock = ContinuousClock()
        var started = clock.now
        try await books.bill(invoices: invoices, customers: customers, lanes: lanes)
        say("billing's history received: \(customers + invoices) events in \(Self.text(clock.now - started))")

        let integration = try await books.connect()
        try await books.map(integration)
        let before = await books.stats()
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
        let atLastInvoice = await books.stats()
        try await world.awaitCompletedSync(integration)
        let stats = await books.stats()

        let elapsed = Self.minutes(finished - started)
        let fromFirstWrite = Self.minutes(finished - (firstWrite ?? started))
        let elements = Double(invoices + customers)
        let syncRequests = Double(atLastInvoice.requests - before.requests)
        say(
            "pushed \(invoices) invoices and \(customers) contacts in \(Self.text(finished - started))"
                + " (from the sync request to the last invoice in the books)")
        say(
            String(
                format: "elements/min: %.0f = %.1f %% of the ceiling of %.0f requests/min (one call an element)"
                    + " (%.0f from the first write)",
                elements / elapsed, 100 * elements / elapsed / ceiling, ceiling, elements / fromFirstWrite))
        say(
            String(
                format: "invoices/min: %.0f = %.1f %% of the ceiling (contacts took %.1f %% of the elements)",
                Double(invoices) / elapsed, 100 * Double(invoices) / elapsed / ceiling,
                100 * Double(customers) / elements))
        say(
            String(
                format: "requests/min during the sync: %.0f = %.1f %% of the ceiling (%.0f requests, %.2f an element)",
                syncRequests / elapsed, 100 * syncRequests / elapsed / ceiling, syncRequests, syncRequests / elements))
        say(
            String(
                format:
                    "requests: %d (%d before the sync: connecting and the chart), of them %d writes (POST/PUT/DELETE) and %d"
                    + " reads (GET); limit violations: %d; refresh grants: %d",
                stats.requests, before.requests, stats.writes, stats.reads, stats.violations, stats.refreshGrants))
        guard stats.violations == 0 else {
            throw ValidationError(
                "\(stats.violations) calls went over the business's limit: Ledgerwire must keep to it")
        }
        say("checked in the books: \(try await books.verify(invoices: invoices, customers: customers))")
    }
}
