import Accounting
import ArgumentParser
import Connectors
import Foundation
import Hummingbird
import Sandbox
import Synchronization

/// `ledgerwire-bench tally`: billing's history of invoices and customers pushed to the Tally emulator, which answers
/// one request at a time as Tally does: vouchers a minute, the requests it took, the Tally emulator's own time per
/// request, and Ledgerwire's CPU per voucher.
///
/// Everything is real: Ledgerwire as `serve` builds it (SQLite file, its own workers and scheduler at their default
/// settings, `TallyConnector`) and the emulator, both on loopback in this process. Billing's events arrive signed
/// over HTTP; the integration is checked and mapped through the admin API; a full sync is requested and timed until
/// the last voucher is in the company. Then the books are checked: each invoice once, balanced, with billing's total
/// and the GST split; each customer once.
struct TallyBench: FullSyncBench {
    static let configuration = CommandConfiguration(
        commandName: "tally",
        abstract: "Full sync of billing history to the Tally emulator, one request at a time."
    )

    @Option(help: "Billing invoices to push.") var invoices = 10_000
    @Option(help: "Billing customers the invoices belong to (pushed too, as party ledgers).") var customers = 1_000
    @Option(help: "Concurrent senders of billing's events.") var lanes = 8
    @Option(help: "Seconds between progress lines.") var progressEvery = 30
    @Option(help: "Seconds without progress before giving up.") var stallTimeout = 300
    @Option(
        help: ArgumentHelp(
            "Microseconds the emulator takes for each object it imports, as a sleep: a Tally on a PC of its own.",
            valueName: "microseconds"))
    var tallyPace = 0
    @Flag(help: "Print every request of the sync: when it came, how long Tally answered, how long it had waited.")
    var timeline = false

    static let company = "Bench School"

    func validate() throws {
        guard invoices > 0, customers > 0, customers <= invoices else {
            throw ValidationError("--invoices and --customers must be positive, with no more customers than invoices")
        }
        guard (0...1_000_000).contains(tallyPace) else {
            throw ValidationError("--tally-pace must be between 0 and 1,000,000 microseconds an object")
        }
    }

    func run() async throws {
        let sandbox = TallySandbox()
        await sandbox.addCompany(Self.company, stateName: "Karnataka")
        for (name, parent, fields) in Self.chart {
            try await sandbox.createLedger(company: Self.company, name: name, parent: parent, fields: fields)
        }
        let timer = TallyTimer(inner: sandbox.router().buildResponder())
        try await BenchServers.run(emulator: timer, serverName: "Tally") { world in
            try await measure(world: world, sandbox: sandbox, timer: timer)
        }
    }

    private func measure<Inner>(world: BenchWorld, sandbox: TallySandbox, timer: TallyTimer<Inner>) async throws {
        say(
            "ledgerwire-bench tally: \(invoices) invoices of \(customers) customers into the Tally emulator"
                + (tallyPace > 0 ? ", which takes \(tallyPace) µs more for each object it imports" : ""))
        let clock = ContinuousClock()
        var started = clock.now
        try await world.bill(invoices: invoices, customers: customers, lanes: lanes, numberPrefix: "TB-")
        say("billing's history received: \(customers + invoices) events in \(Self.text(clock.now - started))")

        let integration =
            try await world.api(
                "POST", "/integrations",
                [
                    "tenant_id": .string(BenchWorld.tenant), "platform": "tally", "name": "Bench Tally",
                    "settings": [
                        "url": .string(world.emulator), "company": .string(Self.company), "state": "Karnataka",
                    ],
                    "sync": ["interval_seconds": 3600],
                ])["id"]?.stringValue ?? ""
        let checked = try await world.api("POST", "/integrations/\(integration)/connect-check")
        guard checked["status"] == "connected" else {
            throw BenchWorld.Failure(description: "not connected: \(checked)")
        }
        let gst: JSONValue = ["cgst": "Output CGST 9%", "sgst": "Output SGST 9%", "igst": "Output IGST 18%"]
        try await world.api(
            "PUT", "/integrations/\(integration)/mappings",
            [
                "accounts": ["4000-TUITION": "Tuition Fees", "4100-TRANSPORT": "Transport Fees"],
                "tax_codes": ["GST18": gst], "deposit_accounts": ["BANK-MAIN": "HDFC Bank"],
            ])
        await sandbox.setImportPace(.microseconds(tallyPace))
        let requestsBefore = await sandbox.requestCount
        let busyBefore = timer.busy
        let emulatorCPUBefore = await sandbox.answeringCPU
        let cpuBefore = Self.processCPU()
        started = clock.now
        try await world.requestFullSync(integration)
        let (finished, firstWrite) = try await awaitBooks(
            in: world, integration: integration, started: started,
            count: { await Self.count(sandbox) },
            describe: { "\($0.invoices) vouchers, \($0.customers) ledgers" },
            progress: { current in
                "\(current.customers) ledgers, \(current.invoices) vouchers;"
                    + " \(await sandbox.requestCount - requestsBefore) requests"
            })
        let cpu = Self.processCPU() - cpuBefore
        try await world.awaitCompletedSync(integration)
        let requests = await sandbox.requestCount - requestsBefore
        let tallyTime = timer.busy - busyBefore
        let emulatorCPU = Self.seconds(await sandbox.answeringCPU - emulatorCPUBefore)
        let elapsed = Self.minutes(finished - started)
        let overlapping = await sandbox.overlappingRequests

        say(
            "pushed \(invoices) invoices and \(customers) customers in \(Self.text(finished - started))"
                + " (from the sync request to the last voucher in the company)")
        say(
            String(
                format: "vouchers/min: %.0f (%.0f from the first write)", Double(invoices) / elapsed,
                Double(invoices) / Self.minutes(finished - (firstWrite ?? started))))
        say(
            String(
                format: "requests to Tally: %d (%.1f objects a request); at once: never more than 1 (overlaps: %d)",
                requests, Double(invoices + customers) / Double(max(requests, 1)), overlapping))
        say(
            String(
                format: "the Tally emulator's own time: %.1f s in all, %.1f ms a request (%.0f %% of the run), of"
                    + " which processor time %.1f ms a request (%.3f ms an object)", tallyTime,
                1000 * tallyTime / Double(max(requests, 1)), 100 * tallyTime / (elapsed * 60),
                1000 * emulatorCPU / Double(max(requests, 1)), 1000 * emulatorCPU / Double(invoices + customers)))
        say(
            String(
                format: "this process's CPU: %.1f s; less the emulator's processor time, Ledgerwire's: %.1f s = %.3f"
                    + " ms a voucher", cpu, cpu - emulatorCPU,
                1000 * (cpu - emulatorCPU) / Double(invoices + customers)))
        let (span, busy) = timer.time.span(from: started)
        say(
            String(
                format: "Tally from its first request of the sync to its last answer: %.1f s, answering %.1f s of it"
                    + " (%.0f %%), waiting for Ledgerwire's next request %.1f s", span, busy,
                100 * busy / max(span, 0.001), span - busy))
        if timeline {
            for line in timer.time.timeline(from: started) { say(line) }
        }
        guard overlapping == 0 else { throw ValidationError("Tally was sent \(overlapping) requests at once") }
        say("checked in the company: \(try await verify(sandbox))")
    }

    /// The school's chart: income, GST at 18 %, the bank, round-off.
    static let chart: [(String, String, [TallyElement])] = [
        ("Tuition Fees", "Sales Accounts", []), ("Transport Fees", "Sales Accounts", []),
        ("Output CGST 9%", "Duties & Taxes", duty("Central Tax", "9")),
        ("Output SGST 9%", "Duties & Taxes", duty("State Tax", "9")),
        ("Output IGST 18%", "Duties & Taxes", duty("Integrated Tax", "18")),
        ("HDFC Bank", "Bank Accounts", []), ("Round Off", "Indirect Expenses", []),
    ]

    static func duty(_ head: String, _ rate: String) -> [TallyElement] {
        [.leaf("TAXTYPE", "GST"), .leaf("GSTDUTYHEAD", head), .leaf("RATEOFTAXCALCULATION", rate)]
    }

    static func count(_ sandbox: TallySandbox) async -> BooksCount {
        guard let company = await sandbox.company(company) else { return BooksCount(invoices: 0, customers: 0) }
        return BooksCount(
            invoices: company.voucherCount, customers: company.ledgerCount(under: "Sundry Debtors"))
    }

    /// Each invoice once, balanced, with billing's total and the GST split; each customer once.
    private func verify(_ sandbox: TallySandbox) async throws -> String {
        let vouchers = await sandbox.vouchers(company: Self.company)
        let numbers = Set(vouchers.map(\.number))
        guard vouchers.count == invoices, numbers.count == invoices else {
            throw BenchWorld.Failure(description: "\(vouchers.count) vouchers, \(numbers.count) distinct numbers")
        }
        let expected = [
            "Tuition Fees": "45000.00", "Transport Fees": "4000.00", "Output CGST 9%": "4410.00",
            "Output SGST 9%": "4410.00",
        ]
        for voucher in vouchers {
            var credits: [String: String] = [:]
            for entry in voucher.entries where !entry.isPartyLedger { credits[entry.ledger] = "\(entry.amount)" }
            let party = voucher.entries.first { $0.isPartyLedger }
            guard credits == expected, party.map({ "\($0.amount)" }) == "-57820.00",
                voucher.entries.reduce(0, { $0 + $1.amount.paise }) == 0
            else { throw BenchWorld.Failure(description: "voucher \(voucher.number) is not billing's: \(voucher)") }
        }
        let parties = await sandbox.ledgers(company: Self.company).filter { $0.parent == "Sundry Debtors" }
        guard parties.count == customers else {
            throw BenchWorld.Failure(description: "\(parties.count) party ledgers for \(customers) customers")
        }
        return "\(invoices) Sales vouchers, each once, balanced, 57,820.00 with CGST and SGST 4,410.00 each;"
            + " \(customers) party ledgers, each once"
    }

    /// A duration in seconds.
    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    /// User and system CPU time of this process so far, in seconds.
    static func processCPU() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }
}

/// The Tally emulator's responder, timing every answer: Tally's own share of the run.
struct TallyTimer<Inner: HTTPResponder>: HTTPResponder where Inner.Context == BasicRequestContext {
    let inner: Inner
    let time = TallyTime()

    /// Seconds spent answering, in all.
    var busy: Double { time.total }

    func respond(to request: Request, context: BasicRequestContext) async throws -> Response {
        let clock = ContinuousClock()
        let started = clock.now
        let response = try await inner.respond(to: request, context: context)
        time.add(started: started, ended: clock.now)
        return response
    }
}

/// Seconds the Tally emulator spent answering, and when it answered.
final class TallyTime: Sendable {
    private let answers = Mutex<[(started: ContinuousClock.Instant, ended: ContinuousClock.Instant)]>([])

    var total: Double { answers.withLock { $0.reduce(0) { $0 + TallyBench.seconds($1.ended - $1.started) } } }

    func add(started: ContinuousClock.Instant, ended: ContinuousClock.Instant) {
        answers.withLock { $0.append((started, ended)) }
    }

    /// The requests that arrived from `instant` on, one line each: when it came (ms after `instant`), how long Tally
    /// answered it and how long Tally had waited for it since its last answer.
    func timeline(from instant: ContinuousClock.Instant) -> [String] {
        answers.withLock { answers in
            var lastEnded: ContinuousClock.Instant?
            return answers.filter { $0.started >= instant }.sorted { $0.started < $1.started }.enumerated().map {
                index, answer in
                defer { lastEnded = answer.ended }
                let waited = lastEnded.map { TallyBench.seconds(answer.started - $0) } ?? 0
                return String(
                    format: "request %3d at %7.1f ms: answered in %5.1f ms after %5.1f ms of waiting", index + 1,
                    1000 * TallyBench.seconds(answer.started - instant),
                    1000 * TallyBench.seconds(answer.ended - answer.started), 1000 * waited)
            }
        }
    }

    /// Of the requests that arrived from `instant` on: the seconds from the first's arrival to the last's answer, and
    /// the seconds of them Tally spent answering. The rest Tally sat waiting for its next request.
    func span(from instant: ContinuousClock.Instant) -> (span: Double, busy: Double) {
        answers.withLock { answers in
            let since = answers.filter { $0.started >= instant }
            guard let first = since.map(\.started).min(), let last = since.map(\.ended).max() else { return (0, 0) }
            return (
                TallyBench.seconds(last - first), since.reduce(0) { $0 + TallyBench.seconds($1.ended - $1.started) }
            )
        }
    }
}
