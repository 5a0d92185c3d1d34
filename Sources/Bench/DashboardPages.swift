import Accounting
import App
import ArgumentParser
import Connectors
import Foundation
import Hummingbird
import Logging
import Persistence
import Sandbox
import ServiceLifecycle

/// `ledgerwire-bench dashboard-pages`: serves a database `dashboard-seed` filled (1,000,000 records, 100,000 jobs)
/// as `serve` would, signs a person in, asks for each dashboard page over HTTP on loopback, and prints p50/p99 of
/// the server's time per page (its `Server-Timing`) and of the whole exchange.
struct DashboardPages: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dashboard-pages",
        abstract: "Times every dashboard page over HTTP on a seeded database (p50/p99 per page)."
    )

    @Option(help: "A database filled by dashboard-seed (its master key beside it, PATH.master-key).")
    var database: String
    @Option(help: "Timed requests of each page, after 5 unmeasured ones.") var runs = 100

    func run() async throws {
        var logger = Logger(label: "ledgerwire.bench")
        logger.logLevel = .error
        var configuration = ServerConfiguration()
        configuration.port = 0
        configuration.host = "127.0.0.1"
        configuration.databasePath = database
        configuration.masterKey = try MasterKeyFile.load(at: database + ".master-key")
        configuration.runsWorkers = false  // the pages, not the queue, are measured
        // The QuickBooks emulator the mapping editor reads is on 127.0.0.1 over http.
        configuration.destinationPolicy = DestinationPolicy(allowsInsecure: true, allowsPrivateNetworks: true)
        configuration.adminToken = "bench-" + UUID().uuidString
        let components = try Components.open(configuration: configuration, registry: .standard, logger: logger)
        let store = components.database
        let email = "bench-\(UUID().uuidString.prefix(8).lowercased())@school.test"
        let password = "bench password " + UUID().uuidString
        // An admin, who sees every page, settings included.
        _ = try await store.addUser(
            email: email, name: "Bench Admin", role: .admin, tenantID: nil, password: password, actor: "bench")
        guard let (_, token) = try await store.signIn(email: email, password: password, now: .now()) else {
            throw ValidationError("could not sign the bench's user in")
        }
        let integrations = try await store.integrations(tenantID: nil, page: PageRequest(limit: 500)).items
        guard let first = integrations.first else {
            throw ValidationError("\(database) holds no integration: fill it with dashboard-seed first")
        }
        let conflict = try await store.conflicts(
            status: nil, integrationID: nil, tenantID: nil, page: PageRequest(limit: 1)
        ).items.first
        var pages = [
            ("overview", "/"), ("activity", "/activity"), ("activity, dead", "/activity?status=dead"),
            ("activity, Xero invoices", "/activity?platform=xero&record=invoice"),
            ("activity, one integration", "/activity?integration=\(first.id)"),
            ("integration", "/integrations/\(first.id)"), ("conflicts", "/conflicts"),
            ("new integration", "/integrations/new?platform=quickbooks_online"),
        ]
        if let conflict { pages.append(("conflict", "/conflicts/\(conflict.id)")) }
        pages += [
            ("settings", "/settings"), ("settings, webhook sources", "/settings/webhook-sources"),
            ("settings, subscriptions", "/settings/subscriptions"), ("settings, API keys", "/settings/api-keys"),
            ("settings, users", "/settings/users"),
            ("deliveries", "/deliveries"), ("deliveries, rejected", "/deliveries?status=rejected"),
            ("deliveries, QuickBooks", "/deliveries?source=quickbooks"), ("audit", "/audit"),
            ("audit, one integration", "/audit?integration=\(first.id)"),
            ("audit, an action", "/audit?action=mappings.saved"), ("audit, an actor", "/audit?actor=seed"),
            ("audit, a day", "/audit?from=2026-01-01&to=2026-01-01"),
            ("records", "/records"), ("records, a number", "/records?q=INV-0000500"),
            ("records, a customer", "/records?q=CUS-0000498"), ("record", "/records/rec_0000500"),
        ]
        if let subscription = try await store.webhookSubscriptions(tenantID: nil, page: PageRequest(limit: 1)).items
            .first
        {
            pages.append(("settings, subscription attempts", "/settings/subscriptions/\(subscription.id)"))
        }
        if let rejected = try await store.deliveries(status: .rejected, page: PageRequest(limit: 1)).items.first {
            pages.append(("delivery", "/deliveries/\(rejected.id)"))
        }

        // The mapping editor reads the platform's chart: a QuickBooks Online emulator on loopback answers it, as
        // QuickBooks would (one read per page).
        let sandbox = QuickBooksOnlineSandbox()
        await sandbox.registerClient(id: "bench-client", secret: "bench-secret")
        _ = await sandbox.addCompany(realmID: Self.realm)
        let (listening, announce) = AsyncStream.makeStream(of: (server: String, port: Int).self)
        let emulator = Application(
            router: sandbox.router(),
            configuration: .init(address: .hostname("127.0.0.1", port: 0), serverName: "quickbooks-online-sandbox"),
            onServerRunning: { channel in announce.yield(("emulator", channel.localAddress?.port ?? 0)) },
            logger: logger)
        let server = buildApplication(configuration: configuration, components: components, logger: logger) {
            _, port in announce.yield(("ledgerwire", port))
        }
        let services = ServiceGroup(configuration: .init(services: [emulator, server], logger: logger))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await services.run() }
            var ports: [String: Int] = [:]
            for await (name, port) in listening {
                ports[name] = port
                if ports.count == 2 { break }
            }
            let base = "http://127.0.0.1:\(ports["ledgerwire"] ?? 0)"
            let books = try await Self.connectedIntegration(
                store: store, box: components.box, emulator: "http://127.0.0.1:\(ports["emulator"] ?? 0)",
                sandbox: sandbox, tenantID: first.tenantID)
            pages.append(("mapping editor", "/integrations/\(books)/mappings"))
            let transport = HTTPClientTransport(
                policy: DestinationPolicy(allowsInsecure: true, allowsPrivateNetworks: true))
            print("ledgerwire-bench dashboard-pages: \(runs) requests of each page on \(database)")
            print(
                "page".padding(toLength: 30, withPad: " ", startingAt: 0)
                    + "  server p50  server p99    HTTP p50    HTTP p99   bytes")
            for (name, path) in pages {
                var server: [Double] = []
                var whole: [Double] = []
                var bytes = 0
                for run in 0..<(runs + 5) {
                    let start = ContinuousClock.now
                    let answer = try await transport.send(
                        TransportRequest(
                            method: "GET", url: URL(string: base + path)!,
                            headers: [("Cookie", "lw_session=\(token)")], body: nil))
                    let elapsed = (ContinuousClock.now - start).components
                    guard answer.status == 200 else {
                        throw ValidationError("\(path) answered \(answer.status)")
                    }
                    guard run >= 5 else { continue }
                    bytes = answer.body.count
                    whole.append(Double(elapsed.seconds) * 1e3 + Double(elapsed.attoseconds) / 1e15)
                    let timing = answer.headers.first { $0.key.lowercased() == "server-timing" }?.value ?? ""
                    server.append(Double(timing.split(separator: "=").last ?? "") ?? .nan)
                }
                print(
                    name.padding(toLength: 30, withPad: " ", startingAt: 0)
                        + String(
                            format: " %8.2f ms %8.2f ms %8.2f ms %8.2f ms %7d", server.percentile(0.5) ?? .nan,
                            server.percentile(0.99) ?? .nan, whole.percentile(0.5) ?? .nan,
                            whole.percentile(0.99) ?? .nan, bytes))
            }
            _ = try await store.deleteIntegration(id: books, tenantID: nil, actor: "bench")
            await services.triggerGracefulShutdown()
            try await group.waitForAll()
        }
        _ = try await store.removeUser(id: try await store.user(email: email)?.id ?? "", actor: "bench")
    }

    static let realm = "9341453474484455"

    /// An integration of `tenantID` on the emulator, with the tokens it issued: connected as OAuth would leave it.
    static func connectedIntegration(
        store: AppDatabase, box: SecretBox, emulator: String, sandbox: QuickBooksOnlineSandbox, tenantID: String
    ) async throws -> String {
        let integration = try await store.createIntegration(
            tenantID: tenantID, platform: .quickBooksOnline, name: "Bench books (emulator)",
            settings: [
                "client_id": "bench-client", "client_secret": "bench-secret",
                "redirect_uri": "http://127.0.0.1/oauth/callback", "environment": "sandbox",
                "api_base_url": .string(emulator), "oauth_authorize_url": .string(emulator + "/connect/oauth2"),
                "oauth_token_url": .string(emulator + "/oauth2/v1/tokens/bearer"),
                "oauth_revoke_url": .string(emulator + "/v2/oauth2/tokens/revoke"),
            ],
            box: box, actor: "bench")
        let (access, refresh) = await sandbox.issueTokens(clientID: "bench-client", realmID: realm)
        let now = Timestamp.now()
        _ = try await store.saveCredentials(
            integrationID: integration.id,
            OAuthTokens(
                accessToken: access, refreshToken: refresh, accessTokenExpiresAt: now.adding(.seconds(3600)),
                remoteTenantID: realm),
            expectedGeneration: nil, source: .authorized, box: box, actor: "bench", at: now)
        return integration.id
    }
}
