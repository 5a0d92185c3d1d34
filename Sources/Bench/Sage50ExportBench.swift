import Accounting
import ArgumentParser
import Connectors
import Foundation
import Hummingbird
import Sandbox

/// `ledgerwire-bench sage50-export`: the Sage 50 export of billing's history, downloaded over HTTP as a person
/// downloads it, timed, its memory watched, and checked as Sage 50's importer would.
///
/// Ledgerwire as `serve` builds it (SQLite file, its own workers at their default settings) with a mapped `sage_50`
/// integration; billing's customers and invoices arrive signed over HTTP and wait for the file exchange. Then the
/// customers file and the transactions file are downloaded (`GET /integrations/{id}/exports?format=…`), each timed
/// from the request to its last byte, with this process's resident memory read every 5 ms from `/proc/self/status`
/// meanwhile (and its peak, `VmHWM`, reset before each download). Both files go through the Sage 50 checker of the
/// simulated company: every customer one A/C, every invoice its two lines with billing's amounts.
struct Sage50ExportBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sage50-export",
        abstract: "Sage 50 export of billing history: its two files downloaded over HTTP, timed and checked."
    )

    @Option(help: "Billing invoices in the store.") var invoices = 10_000
    @Option(help: "Billing customers the invoices belong to.") var customers = 1_000
    @Option(help: "Concurrent senders of billing's events.") var lanes = 8

    typealias Failure = BenchWorld.Failure

    func validate() throws {
        guard invoices > 0, customers > 0, customers <= invoices, invoices <= 1_000_000 else {
            throw ValidationError(
                "--invoices and --customers must be positive, with no more customers than invoices (at most 1000000)")
        }
        guard (1...64).contains(lanes) else { throw ValidationError("--lanes must be from 1 to 64") }
    }

    func run() async throws {
        // Sage 50 has no API: Ledgerwire calls no emulator, and this one answers 404 to anything.
        let nothing = Router(context: BasicRequestContext.self).buildResponder()
        try await BenchServers.run(emulator: nothing, serverName: "none") { world in
            try await measure(in: world)
        }
    }

    private func measure(in world: BenchWorld) async throws {
        say("ledgerwire-bench sage50-export: \(invoices) invoices of \(customers) customers, one sage_50 integration")
        let clock = ContinuousClock()
        var started = clock.now
        let integration = try await Self.integration(in: world)
        let key = try await world.billingKey()
        try await world.sendEach(count: customers, lanes: lanes, key: key) { Self.customer($0) }
        try await world.sendEach(count: invoices, lanes: lanes, key: key) {
            Self.invoice($0, customer: $0 % customers + 1)
        }
        try await awaitJobs(customers + invoices, integration: integration, in: world)
        say(
            String(
                format: "billing's history in the store: %d records in %.1f s", customers + invoices,
                Self.seconds(clock.now - started)))

        let customerFile = try await download("sage50-customers-csv", integration: integration, in: world)
        let transactionFile = try await download("sage50-audit-csv", integration: integration, in: world)
        started = clock.now
        say("checked: \(try check(customers: customerFile, transactions: transactionFile))")
        say(String(format: "(the check took %.1f s)", Self.seconds(clock.now - started)))
    }

    // MARK: The store

    /// A `sage_50` integration of billing's tenant, mapped as a UK school's chart: both revenue accounts to 4000 and
    /// 4001, VAT at 20 % to T1 and exempt to T2, the bank to 1200.
    static func integration(in world: BenchWorld) async throws -> String {
        let created = try await world.api(
            "POST", "/integrations",
            ["tenant_id": .string(BenchWorld.tenant), "platform": "sage_50", "name": "Sage 50 accounts"])
        guard let id = created["id"]?.stringValue else { throw Failure(description: "no integration id: \(created)") }
        try await world.api(
            "PUT", "/integrations/\(id)/mappings",
            [
                "accounts": ["4000-TUITION": "4000", "4100-TRANSPORT": "4001"],
                "tax_codes": ["VAT20": "T1", "EXEMPT": "T2"], "deposit_accounts": ["BANK-MAIN": "1200"],
            ])
        return id
    }

    /// Waits until the integration has a job for each of billing's `count` records (billing's events are taken in
    /// the inbox at once and become records and jobs just after).
    private func awaitJobs(_ count: Int, integration: String, in world: BenchWorld) async throws {
        var last = (jobs: -1, at: ContinuousClock.now)
        while true {
            var jobs = 0
            var cursor: String?
            repeat {
                let query = cursor.flatMap { $0.addingPercentEncoding(withAllowedCharacters: .alphanumerics) }
                let page = try await world.api(
                    "GET", "/jobs?integration_id=\(integration)&limit=500" + (query.map { "&cursor=" + $0 } ?? ""))
                jobs += page["items"]?.arrayValue?.count ?? 0
                cursor = page["next_cursor"]?.stringValue
            } while cursor != nil
            if jobs >= count { return }
            if jobs > last.jobs { last = (jobs, .now) }
            if ContinuousClock.now - last.at > .seconds(120) {
                throw Failure(description: "only \(jobs) of \(count) jobs after two minutes without a new one")
            }
            try await Task.sleep(for: .milliseconds(200))
        }
    }

    static func customer(_ index: Int) -> JSONValue {
        [
            "type": "customer.created", "timestamp": "2026-09-01T09:00:00Z", "tenant_id": .string(BenchWorld.tenant),
            "data": [
                "id": .string("cus_\(index)"), "name": .string("Family \(index)"),
                "email": .string("family.\(index)@example.co.uk"),
                "billing_address": [
                    "line1": "1 High Street", "city": "Leeds", "postal_code": "LS1 1AA", "country": "GB",
                ],
                "updated_at": "2026-09-01T09:00:00Z",
            ],
        ]
    }

    /// Billing's invoice numbers: this and the invoice's index.
    static let numberPrefix = "S50-"

    /// Tuition of 1,000.00 at 20 % VAT and an exempt transport line of 300.00: 1,500.00 in all.
    static func invoice(_ index: Int, customer: Int) -> JSONValue {
        [
            "type": "invoice.issued", "timestamp": "2026-09-03T09:00:00Z", "tenant_id": .string(BenchWorld.tenant),
            "data": [
                "id": .string("inv_\(index)"), "number": .string(numberPrefix + String(index)),
                "customer_id": .string("cus_\(customer)"), "currency": "GBP", "issue_date": "2026-09-03",
                "due_date": "2026-09-30",
                "lines": [
                    [
                        "id": "l1", "description": "Autumn term tuition", "quantity": 1, "unit_amount": "1000.00",
                        "amount": "1000.00", "revenue_account": "4000-TUITION", "tax_code": "VAT20",
                        "tax_amount": "200.00",
                    ],
                    [
                        "id": "l2", "description": "School bus", "quantity": 1, "unit_amount": "300.00",
                        "amount": "300.00", "revenue_account": "4100-TRANSPORT", "tax_code": "EXEMPT",
                        "tax_amount": "0.00",
                    ],
                ],
                "subtotal": "1300.00", "tax_total": "200.00", "total": "1500.00", "updated_at": "2026-09-03T09:00:00Z",
            ],
        ]
    }
}
