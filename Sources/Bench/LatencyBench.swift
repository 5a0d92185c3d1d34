import Accounting
import ArgumentParser
import Foundation
import Sandbox

/// `ledgerwire-bench latency`: how long an invoice takes from billing's webhook being acknowledged to the invoice
/// being in QuickBooks' books, at QuickBooks' real limits, at a steady rate.
///
/// Two runs on one server: invoices of customers already in the books (10 a second by default), then invoices each
/// of a new customer, the customer's event sent just before the invoice's (2 a second). Events are sent on a fixed
/// schedule whatever the answers (an open loop), and the books are watched every 5 ms.
struct LatencyBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "latency",
        abstract: "Webhook acknowledged → invoice in the QuickBooks Online emulator's books: p50/p90/p99."
    )

    @Option(help: "Seconds each run sends for.") var seconds = 60
    @Option(help: "Invoices a second of customers already in the books.") var syncedRate = 10.0
    @Option(help: "Invoices a second, each of a new customer.") var newCustomerRate = 2.0
    @Option(help: "Customers synced before the first run.") var syncedCustomers = 100

    func validate() throws {
        guard (1...3_600).contains(seconds), (0.1...200).contains(syncedRate), (0.1...200).contains(newCustomerRate),
            (1...10_000).contains(syncedCustomers)
        else {
            throw ValidationError(
                "--seconds 1…3600, rates 0.1…200 a second, --synced-customers 1…10000")
        }
    }

    func run() async throws {
        try await QuickBooksBooks.run { books in
            let world = books.world
            let key = try await world.billingKey()
            let integration = try await books.connect()
            try await books.mapAccounts(integration)
            let now = ISO8601DateFormatter().string(from: Date())
            for index in 1...syncedCustomers { try await world.send(BenchWorld.customer(index, at: now), key: key) }
            let clock = ContinuousClock()
            let deadline = clock.now + .seconds(120)
            while await books.sandbox.count(realmID: QuickBooksBench.realm, entity: "Customer") < syncedCustomers {
                guard clock.now < deadline else { throw ValidationError("the customers were not synced in 120 s") }
                try await Task.sleep(for: .milliseconds(50))
            }
            say(
                "ledgerwire-bench latency: webhook acknowledged → invoice in the emulator's books, at QuickBooks' limits"
                    + " (500 requests, 40 batches a minute, 10 at once), \(seconds) s a run")
            let synced = syncedCustomers
            try await measure(
                "\(Self.rate(syncedRate)) invoices a second, customers already synced", rate: syncedRate,
                books: books
            ) { index, now in
                [BenchWorld.invoice(index, number: "QB-\(index)", customer: (index - 1) % synced + 1, at: now)]
            }
            try await measure(
                "\(Self.rate(newCustomerRate)) invoices a second, each of a new customer", rate: newCustomerRate,
                books: books, firstIndex: 100_001
            ) { index, now in
                [
                    BenchWorld.customer(index, at: now),
                    BenchWorld.invoice(index, number: "QB-\(index)", customer: index, at: now),
                ]
            }
            say("checked in the books: every invoice once, and \(try await checkTotals(books))")
        }
    }

    /// Sends `rate` a second for `seconds` (each time the events of `events`, in order, the invoice last) and prints
    /// the latency of each invoice: from the acknowledgement of its event to its first sight in the books.
    private func measure(
        _ title: String, rate: Double, books: QuickBooksBooks, firstIndex: Int = 1,
        events: @escaping @Sendable (Int, String) -> [JSONValue]
    ) async throws {
        let world = books.world
        let key = try await world.billingKey()
        let count = max(1, Int((Double(seconds) * rate).rounded()))
        let indices = firstIndex..<(firstIndex + count)
        let timings = Timings()
        let clock = ContinuousClock()
        // The watcher and the sender in one task group: the watcher is cancelled once every invoice is seen (or
        // the deadline passes), and nothing outlives the run.
        try await withThrowingTaskGroup(of: Void.self) { run in
            run.addTask {
                var pending = Set(indices.map { "QB-\($0)" })
                while !pending.isEmpty, !Task.isCancelled {
                    let seen = await books.sandbox.objects(realmID: QuickBooksBench.realm, entity: "Invoice")
                    let now = clock.now
                    for invoice in seen {
                        if let number = invoice["DocNumber"]?.stringValue, pending.remove(number) != nil {
                            await timings.seen(number, at: now)
                        }
                    }
                    try? await Task.sleep(for: .milliseconds(5))
                }
            }
            let start = clock.now
            let interval = Duration.seconds(1 / rate)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (offset, index) in indices.enumerated() {
                    try await clock.sleep(until: start + interval * offset)
                    group.addTask {
                        let now = ISO8601DateFormatter().string(from: Date())
                        for event in events(index, now) { try await world.send(event, key: key) }
                        await timings.acknowledged("QB-\(index)", at: clock.now)
                    }
                }
                try await group.waitForAll()
            }
            let deadline = clock.now + .seconds(120)
            while await timings.seenCount < count, clock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
            run.cancelAll()
        }
        let latencies = await timings.latencies()
        guard latencies.count == count else {
            throw ValidationError(
                "\(count - latencies.count) of \(count) invoices not in the books 120 s after the last")
        }
        func percentile(_ p: Double) -> String {
            String(format: "%.3f s", Self.seconds(latencies.percentile(p) ?? .zero))
        }
        say(
            "\(title): \(count) invoices; p50 \(percentile(0.5)), p90 \(percentile(0.9)), p99 \(percentile(0.99)),"
                + " max \(percentile(1))")
    }

    /// Every invoice in the books with billing's total, each once.
    private func checkTotals(_ quickBooks: QuickBooksBooks) async throws -> String {
        let books = await quickBooks.sandbox.objects(realmID: QuickBooksBench.realm, entity: "Invoice")
        let numbers = books.compactMap { $0["DocNumber"]?.stringValue }
        guard Set(numbers).count == numbers.count else {
            throw ValidationError("the books hold \(numbers.count - Set(numbers).count) invoices twice")
        }
        let wrong = books.filter { invoice in
            guard case .number(let total) = invoice["TotalAmt"] else { return true }
            return Decimal(string: total) != 57_820
        }
        guard wrong.isEmpty else { throw ValidationError("\(wrong.count) invoices without billing's total") }
        return "all \(books.count) total 57,820.00"
    }

    func say(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    static func rate(_ rate: Double) -> String {
        rate == rate.rounded() ? String(Int(rate)) : String(format: "%.1f", rate)
    }

    static func seconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}

/// When each invoice's event was acknowledged and when the invoice was first seen in the books.
private actor Timings {
    private var acknowledgedAt: [String: ContinuousClock.Instant] = [:]
    private var seenAt: [String: ContinuousClock.Instant] = [:]

    var seenCount: Int { seenAt.count }

    func acknowledged(_ number: String, at instant: ContinuousClock.Instant) { acknowledgedAt[number] = instant }

    func seen(_ number: String, at instant: ContinuousClock.Instant) { seenAt[number] = instant }

    /// For each invoice both acknowledged and seen. One seen before its acknowledgement arrived counts as 0.
    func latencies() -> [Duration] {
        seenAt.compactMap { number, seen in
            acknowledgedAt[number].map { seen > $0 ? seen - $0 : .zero }
        }
    }
}
