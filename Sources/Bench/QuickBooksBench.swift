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
struct QuickBooksBench: AsyncParsableCommand {
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
    static let tenant = "bench-school"
    /// QuickBooks' ceiling for bulk work: 40 batch requests a minute of at most 30 operations each.
    static let ceilingPerMinute = 1_200.0

    func validate() throws {
        guard invoices > 0, customers > 0, customers <= invoices else {
            throw ValidationError("--invoices and --customers must be positive, with no more customers than invoices")
        }
    }

    func run() async throws {
        if countStatements { AppDatabase.statements.enable() }
        try await BenchServers.run { world in try await measure(in: world) }
    }

    private func measure(in world: BenchWorld) async throws {
        say(
            "ledgerwire-bench quickbooks: \(invoices) invoices of \(customers) customers, emulator at QuickBooks' limits"
                + " (500 requests, 40 batches a minute, 10 at once)")
        let clock = ContinuousClock()
        var started = clock.now
        try await world.bill(invoices: invoices, customers: customers, lanes: lanes)
        say("billing's history received: \(customers + invoices) events in \(Self.text(clock.now - started))")

        let integration = try await world.connect()
        try await world.mapAccounts(integration)
        started = clock.now
        AppDatabase.statements.reset()
        try await world.requestFullSync(integration)

        var firstWrite: ContinuousClock.Instant?
        var lastProgress = (at: started, done: 0)
        var nextReport = started + .seconds(progressEvery)
        var last = (invoices: 0, customers: 0)
        while last.invoices < invoices {
            try await Task.sleep(for: .milliseconds(100))
            let now = clock.now
            let current = (
                invoices: await world.sandbox.count(realmID: Self.realm, entity: "Invoice"),
                customers: await world.sandbox.count(realmID: Self.realm, entity: "Customer")
            )
            let done = current.invoices + current.customers
            if firstWrite == nil, done > 0 { firstWrite = now }
            if done > lastProgress.done { lastProgress = (now, done) }
            if now - lastProgress.at > .seconds(stallTimeout) {
                throw ValidationError(
                    "no progress for \(stallTimeout) s at \(current.invoices) invoices, \(current.customers) customers;"
                        + " failed jobs: \(try await world.failedJobs(integration))")
            }
            if now >= nextReport {
                let stats = await world.stats()
                say(
                    "  \(Self.text(now - started)): \(current.customers) customers, \(current.invoices) invoices;"
                        + " \(stats.batches) batches, \(stats.requests) requests, \(stats.violations) limit violations")
                nextReport = now + .seconds(progressEvery)
            }
            last = current
        }
        let finished = clock.now
        try await world.awaitCompletedSync(integration)
        let statements = AppDatabase.statements.counts
        let stats = await world.stats()
        let checked = try await world.verify(invoices: invoices, customers: customers)

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
}

/// Ledgerwire as `serve` builds it (SQLite file, its own workers and scheduler at their default settings, the
/// connector at its default limits) and the QuickBooks Online emulator at QuickBooks' limits, both on loopback in
/// this process, for as long as `body` runs.
enum BenchServers {
    static func run(_ body: (BenchWorld) async throws -> Void) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "ledgerwire-bench-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }

        var logger = Logger(label: "ledgerwire.bench")
        logger.logLevel = .error
        var configuration = ServerConfiguration()
        configuration.port = 0
        configuration.databasePath = directory.appendingPathComponent("ledgerwire.sqlite").path
        configuration.adminToken = "bench-" + UUID().uuidString
        configuration.masterKey = Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
        // The emulator is on 127.0.0.1 over http.
        configuration.destinationPolicy = DestinationPolicy(allowsInsecure: true, allowsPrivateNetworks: true)
        let components = try Components.open(configuration: configuration, registry: .standard, logger: logger)
        let sandbox = QuickBooksOnlineSandbox()
        await sandbox.registerClient(id: "bench-client", secret: "bench-secret")
        await sandbox.addCompany(realmID: QuickBooksBench.realm)

        let (listening, announce) = AsyncStream.makeStream(of: (server: String, port: Int).self)
        let emulator = Application(
            router: sandbox.router(),
            configuration: .init(address: .hostname("127.0.0.1", port: 0), serverName: "quickbooks-online-sandbox"),
            onServerRunning: { channel in announce.yield(("emulator", channel.localAddress?.port ?? 0)) },
            logger: logger)
        let ledgerwire = buildApplication(configuration: configuration, components: components, logger: logger) {
            _, port in announce.yield(("ledgerwire", port))
        }
        let services = ServiceGroup(configuration: .init(services: [emulator, ledgerwire], logger: logger))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await services.run() }
            var ports: [String: Int] = [:]
            for await (server, port) in listening {
                ports[server] = port
                if ports.count == 2 { break }
            }
            let world = BenchWorld(
                ledgerwire: "http://127.0.0.1:\(ports["ledgerwire"] ?? 0)",
                emulator: "http://127.0.0.1:\(ports["emulator"] ?? 0)",
                adminToken: configuration.adminToken ?? "", sandbox: sandbox)
            do {
                try await body(world)
            } catch {
                await services.triggerGracefulShutdown()
                throw error
            }
            await services.triggerGracefulShutdown()
            try await group.waitForAll()
        }
    }
}

/// The bench's view of both servers: billing's side and the admin API over HTTP, the books through the emulator.
struct BenchWorld: Sendable {
    let ledgerwire: String
    let emulator: String
    let adminToken: String
    let sandbox: QuickBooksOnlineSandbox
    /// The bench's own calls, to both servers on loopback over http.
    let transport = URLSessionTransport(policy: DestinationPolicy(allowsInsecure: true, allowsPrivateNetworks: true))

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    struct Answer {
        let status: Int
        let headers: [String: String]
        let json: JSONValue
    }

    func call(
        _ method: String, _ url: String, token: String? = nil, json: JSONValue? = nil,
        headers: [String: String] = [:], body: [UInt8]? = nil
    ) async throws -> Answer {
        var fields: [(name: String, value: String)] = headers.map { ($0.key, $0.value) }
        if let token { fields.append(("Authorization", "Bearer \(token)")) }
        if json != nil { fields.append(("Content-Type", "application/json")) }
        guard let target = URL(string: url) else { throw Failure(description: "not a URL: \(url)") }
        let response = try await transport.send(
            TransportRequest(
                method: method, url: target, headers: fields, body: (json?.canonicalBytes ?? body).map { Data($0) }))
        return Answer(
            status: response.status, headers: response.headers,
            json: (try? JSONValue(parsing: Array(response.body))) ?? .null)
    }

    /// An admin API call that must succeed.
    @discardableResult
    func api(_ method: String, _ path: String, _ json: JSONValue? = nil) async throws -> JSONValue {
        let answer = try await call(method, ledgerwire + "/api/v1" + path, token: adminToken, json: json)
        guard (200..<300).contains(answer.status) else {
            throw Failure(description: "\(method) \(path) answered \(answer.status): \(answer.json)")
        }
        return answer.json
    }

    // MARK: Billing

    /// Billing's history: each customer, then each invoice, as signed webhooks from `lanes` senders at once.
    func bill(invoices: Int, customers: Int, lanes: Int) async throws {
        let key = try await billingKey()
        let now = ISO8601DateFormatter().string(from: Date())
        try await send(count: customers, lanes: lanes, key: key) { Self.customer($0, at: now) }
        try await send(count: invoices, lanes: lanes, key: key) {
            Self.invoice($0, customer: $0 % customers + 1, at: now)
        }
    }

    /// Events 1...count, made by `event`, sent by `lanes` senders at once.
    private func send(
        count: Int, lanes: Int, key: [UInt8], event: @escaping @Sendable (Int) -> JSONValue
    ) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for lane in 0..<lanes {
                group.addTask {
                    for index in stride(from: 1 + lane, through: count, by: lanes) {
                        try await send(event(index), key: key)
                    }
                }
            }
            try await group.waitForAll()
        }
    }

    /// A billing secret, registered for the bench's events.
    func billingKey() async throws -> [UInt8] {
        let created = try await api("POST", "/webhook-sources", ["source": "billing"])
        guard let secret = created["secret"]?.stringValue else { throw Failure(description: "no billing secret") }
        return try StandardWebhooks.keyBytes(fromSecret: secret)
    }

    /// One billing event, signed; returns once Ledgerwire has acknowledged it.
    func send(_ event: JSONValue, key: [UInt8]) async throws {
        let body = event.canonicalBytes
        let id = "msg_" + UUID().uuidString.lowercased()
        let timestamp = Int64(Date().timeIntervalSince1970)
        let answer = try await call(
            "POST", ledgerwire + "/webhooks/billing",
            headers: [
                "Content-Type": "application/json", "webhook-id": id, "webhook-timestamp": String(timestamp),
                "webhook-signature": StandardWebhooks.sign(id: id, timestamp: timestamp, body: body, key: key),
            ],
            body: body)
        guard answer.status == 200 else {
            throw Failure(description: "billing event refused (\(answer.status)): \(answer.json)")
        }
    }

    static func customer(_ index: Int, at now: String) -> JSONValue {
        [
            "type": "customer.created", "timestamp": .string(now), "tenant_id": .string(QuickBooksBench.tenant),
            "data": [
                "id": .string("cus_\(index)"), "name": .string("Family \(index)"),
                "email": .string("family.\(index)@example.in"), "currency": "INR", "updated_at": .string(now),
            ],
        ]
    }

    /// An INR invoice of two GST lines, tuition and a discounted transport line: 57,820.00 in all.
    static func invoice(_ index: Int, customer: Int, at now: String) -> JSONValue {
        [
            "type": "invoice.issued", "timestamp": .string(now), "tenant_id": .string(QuickBooksBench.tenant),
            "data": [
                "id": .string("inv_\(index)"), "number": .string("QB-\(index)"),
                "customer_id": .string("cus_\(customer)"),
                "currency": "INR", "issue_date": "2026-11-21", "due_date": "2026-12-05",
                "lines": [
                    [
                        "id": "l1", "description": "Term 2 tuition", "quantity": 1, "unit_amount": "45000.00",
                        "amount": "45000.00", "revenue_account": "4000-TUITION", "tax_code": "GST18",
                        "tax_amount": "8100.00",
                    ],
                    [
                        "id": "l2", "description": "School bus, 3 months", "quantity": 3, "unit_amount": "1500.00",
                        "discount_amount": "500.00", "amount": "4000.00", "revenue_account": "4100-TRANSPORT",
                        "tax_code": "GST18", "tax_amount": "720.00",
                    ],
                ],
                "subtotal": "49000.00", "tax_total": "8820.00", "total": "57820.00", "updated_at": .string(now),
            ],
        ]
    }

    // MARK: The integration

    /// An integration pointed at the emulator, connected through its OAuth consent.
    func connect() async throws -> String {
        await sandbox.registerClient(id: "bench-client", secret: "bench-secret")
        let created = try await api(
            "POST", "/integrations",
            [
                "tenant_id": .string(QuickBooksBench.tenant), "platform": "quickbooks_online", "name": "Bench books",
                "settings": [
                    "client_id": "bench-client", "client_secret": "bench-secret",
                    "redirect_uri": .string(ledgerwire + "/oauth/callback"), "environment": "sandbox",
                    "api_base_url": .string(emulator), "oauth_authorize_url": .string(emulator + "/connect/oauth2"),
                    "oauth_token_url": .string(emulator + "/oauth2/v1/tokens/bearer"),
                    "oauth_revoke_url": .string(emulator + "/v2/oauth2/tokens/revoke"),
                ],
                "sync": ["interval_seconds": 3600],
            ])
        guard let id = created["id"]?.stringValue else { throw Failure(description: "no integration id: \(created)") }
        let connect = try await call("GET", ledgerwire + "/api/v1/integrations/\(id)/connect", token: adminToken)
        guard let consent = connect.headers["location"] ?? connect.headers["Location"] else {
            throw Failure(description: "connect did not redirect: \(connect.status) \(connect.json)")
        }
        // The consent page, then its form as the person pressing Connect submits it.
        let page = try await call("GET", consent)
        guard page.status == 200, let form = QuickBooksConsent(authorizeURL: consent) else {
            throw Failure(description: "the emulator's consent page did not open: \(page.status)")
        }
        let authorized = try await call(
            "POST", form.action, headers: ["Content-Type": QuickBooksConsent.contentType], body: Array(form.body.utf8))
        guard let callback = authorized.headers["location"] ?? authorized.headers["Location"] else {
            throw Failure(description: "the emulator's consent did not redirect: \(authorized.status)")
        }
        let connected = try await call("GET", callback)
        guard connected.json["status"] == "connected" else {
            throw Failure(description: "OAuth callback: \(connected.status) \(connected.json)")
        }
        return id
    }

    /// Billing's revenue accounts mapped to the chart's suggestions, GST 18 % and the company's first item.
    func mapAccounts(_ integrationID: String) async throws {
        let codes = ["4000-TUITION", "4100-TRANSPORT"]
        let chart = try await api(
            "GET", "/integrations/\(integrationID)/remote-accounts?codes=\(codes.joined(separator: ","))")
        var accounts: [String: JSONValue] = [:]
        for code in codes {
            guard let suggested = chart["suggested_mappings"]?["accounts"]?[code] else {
                throw Failure(description: "no suggested account for \(code)")
            }
            accounts[code] = suggested
        }
        let taxCode = chart["tax_codes"]?.arrayValue?.first { $0["name"] == "GST 18%" }?["id"] ?? .null
        let item = chart["items"]?.arrayValue?.first?["id"] ?? .null
        try await api(
            "PUT", "/integrations/\(integrationID)/mappings",
            ["accounts": .object(accounts), "tax_codes": ["GST18": taxCode], "items": ["*": item]])
    }

    func requestFullSync(_ integrationID: String) async throws {
        try await api("POST", "/integrations/\(integrationID)/sync", ["mode": "full"])
    }

    /// Waits for the full sync operation to say it is completed.
    func awaitCompletedSync(_ integrationID: String) async throws {
        for _ in 0..<600 {
            let operations = try await api("GET", "/sync-operations?integration_id=\(integrationID)")
            let status = operations["items"]?.arrayValue?.first?["status"]?.stringValue
            if status == "completed" { return }
            if status == "failed" { throw Failure(description: "the full sync failed: \(operations)") }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw Failure(description: "the full sync did not complete within a minute of its last invoice")
    }

    func failedJobs(_ integrationID: String) async throws -> String {
        let failed = try await api("GET", "/jobs?status=failed&integration_id=\(integrationID)")
        return (failed["items"]?.arrayValue ?? []).prefix(3).map { "\($0)" }.joined(separator: "; ")
    }

    // MARK: The books

    func stats() async -> (requests: Int, batches: Int, violations: Int, refreshGrants: Int) {
        (
            await sandbox.requestCounts[QuickBooksBench.realm] ?? 0,
            await sandbox.batchCounts[QuickBooksBench.realm] ?? 0, await sandbox.limitViolations,
            await sandbox.refreshGrants
        )
    }

    /// Each billing invoice once in the books, with its customer and billing's total; each customer once.
    func verify(invoices: Int, customers: Int) async throws -> String {
        let books = await sandbox.objects(realmID: QuickBooksBench.realm, entity: "Invoice")
        let numbers = Set(books.compactMap { $0["DocNumber"]?.stringValue })
        let expected = Set((1...invoices).map { "QB-\($0)" })
        guard books.count == invoices, numbers == expected else {
            throw Failure(
                description: "the books hold \(books.count) invoices with \(numbers.count) distinct numbers,"
                    + " \(expected.subtracting(numbers).count) of billing's missing")
        }
        let wrongTotals = books.filter { invoice in
            guard case .number(let total) = invoice["TotalAmt"] else { return true }
            return Decimal(string: total) != 57_820
        }
        guard wrongTotals.isEmpty else {
            throw Failure(description: "\(wrongTotals.count) invoices without billing's total, e.g. \(wrongTotals[0])")
        }
        let families = await sandbox.objects(realmID: QuickBooksBench.realm, entity: "Customer")
            .filter { $0["DisplayName"]?.stringValue?.hasPrefix("Family ") == true }
        guard families.count == customers,
            Set(families.compactMap { $0["DisplayName"]?.stringValue }).count == customers
        else { throw Failure(description: "the books hold \(families.count) of billing's \(customers) customers") }
        return "\(invoices) invoices, each once, each totalling 57,820.00; \(customers) customers, each once"
    }
}
