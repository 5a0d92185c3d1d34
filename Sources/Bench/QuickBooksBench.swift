import Accounting
import App
import ArgumentParser
import Connectors
import Foundation
import Hummingbird
import Ingestion
import Logging
import Persistence
import Sandbox
import ServiceLifecycle

/// `ledgerwire-bench quickbooks`: billing's history of invoices and customers pushed to the QuickBooks Online emulator
/// at QuickBooks' real limits, and the rate achieved against the ceiling of 40 batches of 30 operations a minute.
///
/// Everything is real but the clock of the world: Ledgerwire as `serve` builds it (SQLite file, its own workers and
/// scheduler at their default settings, the connector at its default limits) and the emulator at QuickBooks' limits,
/// both on loopback in this process. Billing's events arrive signed over HTTP; the integration is connected through
/// the emulator's OAuth; a full sync is requested through the admin API and timed until the last invoice is in the
/// books. Then the books are checked: each invoice once, with billing's total.
struct QuickBooksBench: FullSyncBench {
    static let configuration = CommandConfiguration(
        commandName: "quickbooks",
        abstract: "Full sync of billing history to the QuickBooks Online emulator at QuickBooks' real limits."
    )

    @Option(help: "Billing invoices to push.") var invoices = 10_000
    @Option(help: "Billing customers the invoices belong to (pushed too).") var customers = 1_000
    @Option(help: "Concurrent senders of billing's events.") var lanes = 8
    @Option(help: "Seconds between progress lines.") var progressEvery = 60
    @Option(help: "Seconds without progress before giving up.") var stallTimeout = 300
    @Flag(help: "Count the database statements of the full sync (reads and writes per job); costs a little speed.")
    var countStatements = false

    static let realm = "9341453474484455"
    /// QuickBooks' ceiling for bulk work: 40 batch requests a minute of at most 30 operations each.
    static let ceilingPerMinute = 1_200.0

    func validate() throws {
        guard invoices > 0, customers > 0, customers <= invoices else {
            throw ValidationError("--invoices and --customers must be positive, with no more customers than invoices")
        }
    }

    func run() async throws {
        if countStatements { AppDatabase.statements.enable() }
        try await QuickBooksBooks.run { books in try await measure(in: books) }
    }

    private func measure(in books: QuickBooksBooks) async throws {
        let world = books.world
        say(
            "ledgerwire-bench quickbooks: \(invoices) invoices of \(customers) customers, emulator at QuickBooks' limits"
                + " (500 requests, 40 batches a minute, 10 at once)")
        let clock = ContinuousClock()
        var started = clock.now
        try await world.bill(invoices: invoices, customers: customers, lanes: lanes, numberPrefix: "QB-")
        say("billing's history received: \(customers + invoices) events in \(Self.text(clock.now - started))")

        let integration = try await books.connect()
        try await books.mapAccounts(integration)
        started = clock.now
        AppDatabase.statements.reset()
        try await world.requestFullSync(integration)

        let (finished, firstWrite) = try await awaitBooks(
            in: world, integration: integration, started: started,
            count: {
                BooksCount(
                    invoices: await books.sandbox.count(realmID: Self.realm, entity: "Invoice"),
                    customers: await books.sandbox.count(realmID: Self.realm, entity: "Customer"))
            },
            describe: { "\($0.invoices) invoices, \($0.customers) customers" },
            progress: { current in
                let stats = await books.stats()
                return "\(current.customers) customers, \(current.invoices) invoices;"
                    + " \(stats.batches) batches, \(stats.requests) requests, \(stats.violations) limit violations"
            })
        try await world.awaitCompletedSync(integration)
        let statements = AppDatabase.statements.counts
        let stats = await books.stats()
        let checked = try await books.verify(invoices: invoices, customers: customers)

        let elapsed = Self.minutes(finished - started)
        let fromFirstWrite = Self.minutes(finished - (firstWrite ?? started))
        let operations = Double(invoices + customers)
        say(
            "pushed \(invoices) invoices and \(customers) customers in \(Self.text(finished - started))"
                + " (from the sync request to the last invoice in the books)")
        say(
            String(
                format: "operations/min: %.0f = %.1f %% of the 1,200/min ceiling (%.0f from the first write)",
                operations / elapsed, 100 * operations / elapsed / Self.ceilingPerMinute, operations / fromFirstWrite))
        say(
            String(
                format: "invoices/min:   %.0f = %.1f %% of the ceiling (customers took %.1f %% of the operations)",
                Double(invoices) / elapsed, 100 * Double(invoices) / elapsed / Self.ceilingPerMinute,
                100 * Double(customers) / operations))
        say(
            String(
                format: "requests: %d, of them %d batches (%.1f operations a batch); limit violations: %d;"
                    + " refresh grants: %d",
                stats.requests, stats.batches, operations / Double(max(stats.batches, 1)), stats.violations,
                stats.refreshGrants))
        say("checked in the books: \(checked)")
        if countStatements {
            let jobs = Double(invoices + customers)
            say(
                String(
                    format: "database statements of the full sync, per job: %.2f reads, %.2f writes, %.2f other"
                        + " (%d, %d, %d in all)",
                    Double(statements.reads) / jobs, Double(statements.writes) / jobs, Double(statements.other) / jobs,
                    statements.reads, statements.writes, statements.other))
        }
    }
}
