import Accounting
import ArgumentParser
import Foundation
import Persistence

/// `ledgerwire-bench dashboard-queries`: times the store's queries behind the dashboard's overview and activity
/// pages on a database `dashboard-seed` filled, and prints p50/p99 per query.
struct DashboardQueries: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dashboard-queries",
        abstract: "Times the dashboard's store queries (p50/p99 per query)."
    )

    @Option(help: "A database filled by dashboard-seed (its master key beside it, PATH.master-key).")
    var database: String
    @Option(help: "Timed runs of each query, after 10 unmeasured ones.") var runs = 200

    func run() async throws {
        let box = try SecretBox(base64MasterKey: try MasterKeyFile.load(at: database + ".master-key"))
        let store = try AppDatabase.open(path: database, auditKey: box.auditKey)
        let now = Timestamp.now()
        let integrations = try await store.integrations(tenantID: nil, page: PageRequest(limit: 500)).items
        guard let first = integrations.first, let xero = integrations.first(where: { $0.platform == .xero }) else {
            throw ValidationError("\(database) holds no integration: fill it with dashboard-seed first")
        }
        let second = try await store.recentJobs(ActivityFilter(), page: PageRequest(limit: 50)).nextCursor
        let queries: [(String, @Sendable () async throws -> Int)] = [
            ("overview, every school", { try await store.integrationOverview(scope: nil, now: now).count }),
            ("overview, one school", { try await store.integrationOverview(scope: "school_03", now: now).count }),
            (
                "activity, everything",
                { try await store.activity(ActivityFilter(), jobs: PageRequest(limit: 50)).count }
            ),
            (
                "activity, page 2",
                { try await store.activity(ActivityFilter(), jobs: PageRequest(limit: 50, cursor: second)).count }
            ),
            (
                "activity, failed + dead",
                {
                    try await store.activity(ActivityFilter(statuses: [.failed, .dead]), jobs: PageRequest(limit: 50))
                        .count
                }
            ),
            (
                "activity, one school",
                { try await store.activity(ActivityFilter(tenantID: "school_05"), jobs: PageRequest(limit: 50)).count }
            ),
            (
                "activity, integration, needs mapping",
                {
                    try await store.activity(
                        ActivityFilter(integrationID: first.id, statuses: [.needsMapping]), jobs: PageRequest(limit: 50)
                    ).count
                }
            ),
            (
                "activity, Xero invoices",
                {
                    try await store.activity(
                        ActivityFilter(platform: .xero, recordType: .invoice), jobs: PageRequest(limit: 50)
                    ).count
                }
            ),
            (
                "jobs, rare: succeeded refunds of one integration",
                {
                    try await store.recentJobs(
                        ActivityFilter(integrationID: xero.id, recordType: .refund, statuses: [.succeeded]),
                        page: PageRequest(limit: 50)
                    ).items.count
                }
            ),
        ]
        print("ledgerwire-bench dashboard-queries: \(runs) runs each on \(database)")
        print("query".padding(toLength: 50, withPad: " ", startingAt: 0) + "   p50 ms   p99 ms  CPU ms/run   rows")
        let clock = ContinuousClock()
        for (name, query) in queries {
            var rows = 0
            for _ in 0..<10 { rows = try await query() }
            var times: [Double] = []
            let cpuStart = Self.processCPUMilliseconds()
            for _ in 0..<runs {
                let start = clock.now
                rows = try await query()
                let elapsed = (clock.now - start).components
                times.append(Double(elapsed.seconds) * 1e3 + Double(elapsed.attoseconds) / 1e15)
            }
            // The process's CPU time (every thread's): what a query costs whatever else shares the machine's cores.
            let cpu = (Self.processCPUMilliseconds() - cpuStart) / Double(runs)
            let p50 = times.percentile(0.5) ?? .nan
            let p99 = times.percentile(0.99) ?? .nan
            print(
                name.padding(toLength: 50, withPad: " ", startingAt: 0)
                    + String(format: " %8.2f %8.2f %11.2f %6d", p50, p99, cpu, rows))
        }
    }

    static func processCPUMilliseconds() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &time)
        return Double(time.tv_sec) * 1e3 + Double(time.tv_nsec) / 1e6
    }
}

extension Activity {
    /// Jobs and operations listed, for the benchmark's line.
    fileprivate var count: Int { jobs.items.count + operations.count }
}
