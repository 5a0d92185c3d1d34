import ArgumentParser
import Foundation

/// A full sync of billing's history to a platform's emulator, timed until the last invoice is in the books
/// (`ledgerwire-bench quickbooks`, `ledgerwire-bench xero`): the output and the wait they share.
protocol FullSyncBench: AsyncParsableCommand {
    /// Billing invoices pushed.
    var invoices: Int { get }
    /// Seconds between progress lines.
    var progressEvery: Int { get }
    /// Seconds without progress before giving up.
    var stallTimeout: Int { get }
}

/// How many of billing's records the books hold.
struct BooksCount {
    var invoices: Int
    var customers: Int
}

extension FullSyncBench {
    /// A line on standard output at once (progress reaches a pipe while the run goes on).
    func say(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    static func minutes(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return (Double(seconds) + Double(attoseconds) / 1e18) / 60
    }

    static func text(_ duration: Duration) -> String {
        let seconds = minutes(duration) * 60
        return seconds < 60
            ? String(format: "%.1f s", seconds)
            : String(format: "%dm %04.1fs", Int(seconds) / 60, seconds.truncatingRemainder(dividingBy: 60))
    }

    /// Polls the books (`count`) until they hold every invoice, saying `progress` of them every `progressEvery`
    /// seconds after its time since `started`; throws after `stallTimeout` seconds without a new record, naming the
    /// counts (`describe`) and the integration's first failed jobs.
    /// - Returns: when the last invoice was seen, and when the first record was.
    func awaitBooks(
        in world: BenchWorld, integration: String, started: ContinuousClock.Instant,
        count: () async -> BooksCount, describe: (BooksCount) -> String, progress: (BooksCount) async -> String
    ) async throws -> (finished: ContinuousClock.Instant, firstWrite: ContinuousClock.Instant?) {
        let clock = ContinuousClock()
        var firstWrite: ContinuousClock.Instant?
        var lastProgress = (at: started, done: 0)
        var nextReport = started + .seconds(progressEvery)
        var last = BooksCount(invoices: 0, customers: 0)
        while last.invoices < invoices {
            try await Task.sleep(for: .milliseconds(100))
            let now = clock.now
            let current = await count()
            let done = current.invoices + current.customers
            if firstWrite == nil, done > 0 { firstWrite = now }
            if done > lastProgress.done { lastProgress = (now, done) }
            if now - lastProgress.at > .seconds(stallTimeout) {
                throw ValidationError(
                    "no progress for \(stallTimeout) s at \(describe(current));"
                        + " failed jobs: \(try await world.failedJobs(integration))")
            }
            if now >= nextReport {
                say("  \(Self.text(now - started)): \(await progress(current))")
                nextReport = now + .seconds(progressEvery)
            }
            last = current
        }
        return (clock.now, firstWrite)
    }
}
