import Accounting
import ArgumentParser
import Foundation
import GRDB
import Persistence

/// `ledgerwire-bench dashboard-seed`: a database file the size the dashboard must stay fast at, filled in seconds.
///
/// The rows are bulk SQL (recursive CTEs, `INSERT … SELECT`, one transaction) in every table the dashboard reads:
/// records with their versions and links, jobs in every status with their attempts and errors, sync operations done
/// and in progress, conflicts, deliveries (rejected ones with their field errors), events and their deliveries. The
/// few rows the audit chain covers (integrations and their status changes, mappings, webhook sources and
/// subscriptions) are written through the store's own API, so `audit verify` holds. The master key is kept beside
/// the file (`PATH.master-key`): `dashboard-queries` and a server opened on the file use it.
///
/// The shape, for `--records R --jobs J`: 10 schools (tenants) with 2 integrations each (QuickBooks Online and
/// another platform; 2 disconnected, 1 disabled, 1 pending); R records over the last year, a quarter with 2
/// versions or more; the older ones linked to both of their school's integrations; J jobs pushing the newest J/2
/// records to both integrations, over the last days (about 5,500 a day at the defaults), of which about 1.5 % failed,
/// 1 % dead, 1.2 % parked for a mapping, 0.4 % held; the last 20 minutes still queued or running; one full sync in
/// progress.
struct DashboardSeed: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dashboard-seed",
        abstract: "Fills a database file with a dashboard-sized data set (bulk SQL, one transaction)."
    )

    @Option(help: "The database file to create (must not exist).") var database: String
    @Option(help: "Billing records.") var records = 1_000_000
    @Option(help: "Push jobs (two per record of the newest records/2).") var jobs = 100_000
    @Option(help: "Inbox deliveries.") var deliveries = 200_000

    func validate() throws {
        guard records >= 1_000, jobs >= 100, jobs / 2 < records / 2 else {
            throw ValidationError("--records must be at least 1000 and --jobs at least 100 and below --records")
        }
        guard !FileManager.default.fileExists(atPath: database) else {
            throw ValidationError("\(database) exists: dashboard-seed fills a new file")
        }
    }

    func run() async throws {
        let clock = ContinuousClock()
        let started = clock.now
        let (masterKey, _) = try MasterKeyFile.loadOrCreate(at: database + ".master-key")
        let box = try SecretBox(base64MasterKey: masterKey)
        let now = Timestamp.now()
        // The store (and its pool) is gone once this returns: the bulk load then has the file to itself.
        let integrations = try await Self.audited(
            AppDatabase.open(path: database, auditKey: box.auditKey), box: box, now: now)
        let audited = clock.now - started
        let queue = try DatabaseQueue(path: database)
        // One pass over the file: no write-ahead log to copy back, no fsync (a failed seed is thrown away).
        try await queue.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA cache_size = -262144")
        }
        try await queue.write { db in
            let arguments: StatementArguments = [
                "records": records, "jobs": jobs, "deliveries": deliveries, "now": now.microsecondsSinceEpoch,
            ]
            try db.execute(sql: "CREATE TEMP TABLE seed_integrations (ii INTEGER PRIMARY KEY, id, tenant, platform)")
            for (index, integration) in integrations.enumerated() {
                try db.execute(
                    sql: "INSERT INTO seed_integrations VALUES (?, ?, ?, ?)",
                    arguments: [index, integration.id, integration.tenantID, integration.platform.rawValue])
            }
            for (name, sql) in DashboardSeedSQL.steps {
                let stepStart = clock.now
                try db.execute(sql: sql, arguments: arguments)
                print("  \(name): \(db.changesCount) rows in \(Self.seconds(clock.now - stepStart))")
            }
            // What ingestion keeps as it stores each version, filled as the migrations fill it for records already
            // stored: what records are found by, and the codes billing uses.
            let indexStart = clock.now
            try db.execute(sql: AppDatabase.recordSearchBackfill + AppDatabase.billingCodesBackfill)
            print("  record search and billing codes: \(Self.seconds(clock.now - indexStart))")
        }
        // Back to the server's journal. No ANALYZE: a server's database has no statistics either, so the queries are
        // timed with the plans it gets.
        try await queue.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA journal_mode = WAL") }
        try queue.close()
        let size = (try? FileManager.default.attributesOfItem(atPath: database)[.size] as? Int) ?? 0
        print(
            "ledgerwire-bench dashboard-seed: \(records) records, \(jobs) jobs, \(deliveries) deliveries in "
                + "\(Self.seconds(clock.now - started)) (audited API writes \(Self.seconds(audited))), "
                + "\(size / 1_048_576) MiB; master key in \(database).master-key")
    }

    static func seconds(_ duration: Duration) -> String {
        String(format: "%.1f s", Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18)
    }

    static let otherPlatforms: [Platform] = [.xero, .sageBusinessCloud, .tally, .quickBooksDesktop, .xero]

    /// What the audit chain covers, through the store's API: the integrations (created, connected or not), their
    /// mappings, a webhook source and two subscriptions.
    static func audited(_ store: AppDatabase, box: SecretBox, now: Timestamp) async throws -> [Integration] {
        var integrations: [Integration] = []
        let created = now.adding(.seconds(-400 * 86_400))
        for tenant in 0..<10 {
            for slot in 0..<2 {
                let platform = slot == 0 ? Platform.quickBooksOnline : otherPlatforms[tenant % otherPlatforms.count]
                let integration = try await store.createIntegration(
                    tenantID: String(format: "school_%02d", tenant), platform: platform,
                    name: "\(platform.rawValue) · School \(tenant)", actor: "seed", at: created)
                integrations.append(integration)
                let index = integrations.count - 1
                let status: Integration.Status =
                    switch index {
                    case 4, 13: .disconnected
                    case 9: .disabled
                    case 17: .pending
                    default: .connected
                    }
                if status != .pending {
                    try await store.setIntegrationStatus(
                        id: integration.id, to: .connected, actor: "seed", at: created.adding(.seconds(600)))
                }
                if status == .disconnected || status == .disabled {
                    try await store.setIntegrationStatus(
                        id: integration.id, to: status, actor: "seed",
                        reason: status == .disconnected
                            ? "The company \(integration.name) refused Ledgerwire's credentials: connect it again"
                            : nil,
                        at: now.adding(.seconds(-2 * 86_400)))
                }
                var accounts: [String: String] = [:]
                for code in 4000..<4020 { accounts[String(code)] = String(code - 3900) }
                try await store.saveMappings(
                    integrationID: integration.id,
                    CodeMappings(accounts: accounts, taxCodes: ["GST18": "TAX1", "EXEMPT": "TAX0"]),
                    actor: "seed", at: created.adding(.seconds(900)))
            }
        }
        _ = try await store.createWebhookSource(
            source: "billing", secret: "whsec_" + Data(repeating: 7, count: 24).base64EncodedString(), box: box,
            actor: "seed")
        for tenant in [nil, "school_01"] {
            _ = try await store.createWebhookSubscription(
                tenantID: tenant, url: "https://billing.example/ledgerwire/events",
                eventTypes: ["sync.failed", "conflict.detected"], description: "billing's inbox",
                secret: "whsec_" + Data(repeating: 9, count: 24).base64EncodedString(), box: box, actor: "seed")
        }
        return integrations
    }
}
