import Accounting
import App
import Connectors
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Persistence
import Sandbox
import SyncEngine
import Synchronization
import TestSupport
import Testing

/// Ledgerwire and the QuickBooks Online emulator, both listening on loopback: billing's webhooks and the admin API
/// go to Ledgerwire over HTTP, Ledgerwire's connector calls the emulator over HTTP, and the emulator's webhooks come
/// back to Ledgerwire. The workers are driven by the test, round by round, on a clock the test moves: no real time
/// passes for a retry or a backoff.
struct QuickBooksWorld: PipelineWorld {
    static let adminToken = "e2e-admin-token-0123456789-abcdefghijk"
    static let verifierToken = "b5771f19b12ddb4bcdb9f08bdc50bc63878a"
    static let realm = "9341453474484455"
    static let tenant = "greenfield"

    let sandbox: QuickBooksOnlineSandbox
    let components: Components
    let ledgerwire: String
    let emulator: String
    let engine: SyncEngine
    let runner: SyncOperationRunner
    /// The workers' clock (the engine's and the sync operations'): `drain` moves it on to the next job due.
    let clock: OffsetClock
    let signer = Signer()
    /// Tests' own calls, to the servers on loopback.
    let transport = HTTPClientTransport(policy: QuickBooksWorld.loopback)
    /// http to 127.0.0.1, which both servers are on: the tests opt in.
    static let loopback = DestinationPolicy(allowsInsecure: true, allowsPrivateNetworks: true)
    /// Limits far above QuickBooks' on both sides, for tests about resuming and exactly-once rather than pacing (the
    /// benchmark paces): the connector's…
    static let unthrottled = RateLimitPolicy(
        windows: [
            .init(limit: 100_000, period: .seconds(60)), .init(name: "batch", limit: 100_000, period: .seconds(60)),
        ],
        maxConcurrent: 10)
    /// …and the emulator's.
    static var unthrottledSandbox: QuickBooksOnlineSandbox.Limits {
        var limits = QuickBooksOnlineSandbox.Limits()
        limits.requestsPerMinute = 100_000
        limits.batchesPerMinute = 100_000
        return limits
    }

    /// Runs `body` with both servers up. `limits` are the connector's; the emulator's limits are QuickBooks' own
    /// unless `sandboxLimits` says otherwise. `findsUncertainWrites: false` leaves `requestid` alone to keep a resent
    /// create from being made twice.
    static func run(
        limits: RateLimitPolicy = QuickBooksOnlineConnector.limits,
        sandboxLimits: QuickBooksOnlineSandbox.Limits = .init(),
        clock: OffsetClock = OffsetClock(),
        retry: RetryStrategy = RetryStrategy(
            base: .milliseconds(20), cap: .milliseconds(200), attemptDelays: [.milliseconds(20), .milliseconds(80)],
            unreachableBase: .milliseconds(20), unreachableCap: .milliseconds(200)),
        findsUncertainWrites: Bool = true,
        _ body: @Sendable (QuickBooksWorld) async throws -> Void
    ) async throws {
        let sandbox = QuickBooksOnlineSandbox(limits: sandboxLimits)
        let emulatorApp = Application(
            router: sandbox.router(), configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await emulatorApp.test(.live) { emulatorClient in
            var configuration = ServerConfiguration()
            configuration.adminToken = adminToken
            configuration.port = 0
            configuration.runsWorkers = false  // the test drives them, round by round
            configuration.destinationPolicy = loopback
            let components = Components(
                configuration: configuration, database: try AppDatabase.inMemory(),
                box: try SecretBox(masterKey: Array(repeating: 9, count: 32)),
                connectors: [QuickBooksOnlineConnector(limits: limits, findsUncertainWrites: findsUncertainWrites)])
            let app = buildApplication(
                configuration: configuration, components: components, logger: Logger(label: "e2e"))
            var quiet = Logger(label: "e2e.sync")
            quiet.logLevel = .critical
            let engine = SyncEngine(
                database: components.database, connectors: components.connectors, tokens: components.tokens,
                rateLimiters: components.rateLimiters, workerID: "w1", retry: retry,
                limits: .init(concurrency: 16, perIntegration: 4, lease: .seconds(60)), clock: clock, logger: quiet)
            let runner = SyncOperationRunner(
                database: components.database, workerID: "s1",
                platforms: PlatformAccess(
                    connectors: components.connectors, tokens: components.tokens, rateLimiters: components.rateLimiters),
                clock: clock, retry: retry, logger: quiet)
            try await app.test(.live) { client in
                let world = QuickBooksWorld(
                    sandbox: sandbox, components: components, ledgerwire: "http://127.0.0.1:\(client.port!)",
                    emulator: "http://127.0.0.1:\(emulatorClient.port!)", engine: engine, runner: runner,
                    clock: clock)
                _ = try await world.api(
                    "POST", "/webhook-sources", ["source": "billing", "secret": .string(world.signer.secret)])
                _ = try await world.api(
                    "POST", "/webhook-sources", ["source": "quickbooks", "secret": .string(Self.verifierToken)])
                try await body(world)
                try await world.expectEventsKeepTheContract()
            }
        }
    }

    // MARK: Setting up

    /// An integration of `tenant` pointed at the emulator, connected through OAuth to its company `realm`.
    func connect(
        tenant: String = Self.tenant, realm: String = Self.realm, conflictPolicy: String = "last_modified_wins"
    ) async throws -> String {
        await sandbox.registerClient(id: "lw-client", secret: "lw-secret")
        let created = try await api(
            "POST", "/integrations",
            [
                "tenant_id": .string(tenant), "platform": "quickbooks_online", "name": .string("\(tenant) books"),
                "settings": [
                    "client_id": "lw-client", "client_secret": "lw-secret",
                    "redirect_uri": .string(ledgerwire + "/oauth/callback"), "environment": "sandbox",
                    "api_base_url": .string(emulator), "oauth_authorize_url": .string(emulator + "/connect/oauth2"),
                    "oauth_token_url": .string(emulator + "/oauth2/v1/tokens/bearer"),
                    "oauth_revoke_url": .string(emulator + "/v2/oauth2/tokens/revoke"),
                ],
                "sync": ["interval_seconds": 3600, "conflict_policy": .string(conflictPolicy)],
            ])
        let id = try #require(created.json["id"]?.stringValue, "\(created.json)")
        try await authorize(id, realm: realm)
        return id
    }

    /// The consent dance: Ledgerwire → emulator's authorize (the person consenting picks `realm`) → back to
    /// Ledgerwire's callback with code and realmId.
    func authorize(_ integrationID: String, realm: String = Self.realm) async throws {
        await sandbox.setConsentRealm(realm)
        let connect = try await api("GET", "/integrations/\(integrationID)/connect")
        #expect(connect.status == 302)
        let authorize = try #require(connect.headers["location"])
        #expect(try await call("GET", authorize, token: nil).status == 200, "the consent page")
        let form = try #require(QuickBooksConsent(authorizeURL: authorize))
        let consent = try await call(
            "POST", form.action, token: nil, headers: ["Content-Type": QuickBooksConsent.contentType],
            body: Array(form.body.utf8))
        #expect(consent.status == 302)
        let back = try #require(consent.headers["location"])
        #expect(back.hasPrefix(ledgerwire + "/oauth/callback?") && back.contains("realmId=\(realm)"))
        let callback = try await call("GET", back, token: nil)
        #expect(callback.status == 200 && callback.json["status"] == "connected", "\(callback.json)")
    }

    /// Maps billing's codes to the suggestions `remote-accounts` makes.
    func mapAccounts(_ integrationID: String, codes: [String] = ["4000-TUITION", "4100-TRANSPORT"]) async throws
        -> JSONValue
    {
        let chart = try await api(
            "GET", "/integrations/\(integrationID)/remote-accounts?codes=\(codes.joined(separator: ","))")
        #expect(chart.status == 200, "\(chart.json)")
        var accounts: [String: JSONValue] = [:]
        for code in codes {
            accounts[code] = chart.json["suggested_mappings"]?["accounts"]?[code] ?? .null
        }
        let taxCode = chart.json["tax_codes"]?.arrayValue?.first { $0["name"] == "GST 18%" }?["id"] ?? .null
        let item = chart.json["items"]?.arrayValue?.first?["id"] ?? .null
        let bank = chart.json["accounts"]?.arrayValue?.first { $0["name"] == "Checking" }?["id"] ?? .null
        let saved = try await api(
            "PUT", "/integrations/\(integrationID)/mappings",
            [
                "accounts": .object(accounts), "tax_codes": ["GST18": taxCode], "items": ["*": item],
                "deposit_accounts": ["BANK-MAIN": bank],
            ])
        #expect(saved.status == 200, "\(saved.json)")
        return chart.json
    }

    /// Webhook deliveries from the emulator to Ledgerwire, for every change since the last call. Intuit's 3 s
    /// budget is the sender's own test (SandboxTests); here an answer counts however long a busy machine took.
    func sender(_ format: QuickBooksWebhookSender.Format = .legacy) -> QuickBooksWebhookSender {
        QuickBooksWebhookSender(
            url: URL(string: ledgerwire + "/webhooks/quickbooks")!, verifierToken: Self.verifierToken, format: format,
            retryDelays: [.milliseconds(100), .milliseconds(200)], budget: .seconds(10))
    }

    /// A bookkeeper's call to the emulator's API.
    func bookkeeper(_ method: String, _ path: String, _ json: JSONValue? = nil, realm: String = Self.realm)
        async throws -> Answer
    {
        let (access, _) = await sandbox.issueTokens(clientID: "lw-client", realmID: realm)
        return try await call(method, emulator + "/v3/company/\(realm)/\(path)", token: access, json: json)
    }

    func objects(_ entity: String) async -> [[String: JSONValue]] {
        await sandbox.objects(realmID: Self.realm, entity: entity)
    }

    // MARK: The outbound contract

    /// docs/events/: one JSON Schema per outbound event type.
    static let eventSchemas = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../docs/events").standardized

    /// The amounts (`amount`, `total`, `tax_total`, `balance`, `unit_amount`) whose digits after the point are not
    /// their currency's minor unit: the nearest `currency` above them says which.
    static func amountsOutOfPrecision(in value: JSONValue, currency: Currency?) -> [String] {
        switch value {
        case .object(let members):
            let here = members["currency"]?.stringValue.flatMap(Currency.init(code:)) ?? currency
            var wrong: [String] = []
            for (key, member) in members {
                if ["amount", "total", "tax_total", "balance", "unit_amount"].contains(key),
                    let text = member.stringValue, let here
                {
                    let digits = text.split(separator: ".", maxSplits: 1).dropFirst().first?.count ?? 0
                    if digits != here.minorUnitExponent { wrong.append("\(key) \(text) \(here.code)") }
                }
                wrong += amountsOutOfPrecision(in: member, currency: here)
            }
            return wrong
        case .array(let elements):
            return elements.flatMap { amountsOutOfPrecision(in: $0, currency: currency) }
        default:
            return []
        }
    }

    // MARK: Billing's records

    /// When billing last changed the records the tests send, unless a test says otherwise; a later version of a
    /// record says how much later, from here.
    static let billed = Timestamp(rfc3339: "2026-11-03T09:00:00Z")!

    static func customer(_ id: String, name: String, email: String? = nil) -> JSONValue {
        var data: [String: JSONValue] = [
            "id": .string(id), "name": .string(name), "currency": "INR", "updated_at": .string(Timestamp.now().rfc3339),
        ]
        if let email { data["email"] = .string(email) }
        return .object(data)
    }

    /// An invoice of two lines, tuition and a discounted transport line, with GST at 18 %.
    static func invoice(_ id: String, number: String, customer: String, updated: Timestamp = .now()) -> JSONValue {
        [
            "id": .string(id), "number": .string(number), "customer_id": .string(customer), "currency": "INR",
            "issue_date": "2026-11-03", "due_date": "2026-11-17",
            "lines": [
                [
                    "id": "line_1", "description": "Term 2 tuition", "quantity": 1, "unit_amount": "45000.00",
                    "amount": "45000.00", "revenue_account": "4000-TUITION", "tax_code": "GST18",
                    "tax_amount": "8100.00",
                ],
                [
                    "id": "line_2", "description": "School bus", "quantity": 3, "unit_amount": "1500.00",
                    "discount_amount": "500.00", "amount": "4000.00", "revenue_account": "4100-TRANSPORT",
                    "tax_code": "GST18", "tax_amount": "720.00",
                ],
            ],
            "subtotal": "49000.00", "tax_total": "8820.00", "total": "57820.00",
            "updated_at": .string(updated.rfc3339),
        ]
    }
}

/// The workers' clock in the end-to-end world: wall-clock time moved on by hand. Waits pass at once (the clock moves
/// on by them), and its instants never fall behind those the servers write on the real clock (billing's deliveries,
/// QuickBooks' webhooks), so what they queue is due at once.
final class OffsetClock: SyncClock {
    private let offset = Mutex<Int64>(0)

    func now() -> Timestamp {
        Timestamp(microsecondsSinceEpoch: Timestamp.now().microsecondsSinceEpoch + offset.withLock { $0 })
    }

    func advance(by duration: Duration) { offset.withLock { $0 += duration.wholeMicroseconds } }

    /// Moves the clock on to `instant` (never back).
    func advance(to instant: Timestamp) {
        let wall = Timestamp.now().microsecondsSinceEpoch
        offset.withLock { $0 = max($0, instant.microsecondsSinceEpoch - wall) }
    }

    func sleep(for duration: Duration) async throws { advance(by: duration) }
}
