import Accounting
import App
import Connectors
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Persistence
import Sandbox
import SyncEngine
import Synchronization
import TestSupport
import Testing

/// Ledgerwire and the Xero emulator, both on loopback: billing's webhooks and the admin API go to Ledgerwire over
/// HTTP, Ledgerwire's connector calls the emulator over HTTP through a transport that keeps every exchange, so a test
/// can check each request the connector sent against `xero_accounting.yaml`.
struct XeroWorld: PipelineWorld {
    static let clientID = "lw-xero-client"
    static let clientSecret = "lw-xero-secret"

    let sandbox: XeroSandbox
    /// The organisation the tests' consent grants first (INR, India).
    let organisation: String
    let components: Components
    let ledgerwire: String
    let emulator: String
    let engine: SyncEngine
    let runner: SyncOperationRunner
    let clock: OffsetClock
    let signer = Signer()
    let transport = HTTPClientTransport(policy: QuickBooksWorld.loopback)
    /// Every exchange Ledgerwire had with the emulator.
    let exchanges: Exchanges

    /// Runs `body` with both servers up, the connector at `limits` (Xero's own by default).
    /// `limiterClock`: what the connector's rate limits are measured in (a test that moves through a day passes one
    /// it moves by hand).
    static func run(
        limits: RateLimitPolicy = XeroConnector.limits, sandboxLimits: XeroSandbox.Limits = .init(),
        limiterClock: any Clock<Duration> = ContinuousClock(),
        engineLimits: SyncEngine.Limits = .init(concurrency: 16, perIntegration: 5, lease: .seconds(60)),
        _ body: @Sendable (XeroWorld) async throws -> Void
    ) async throws {
        let sandbox = XeroSandbox(limits: sandboxLimits)
        let organisation = await sandbox.addOrganisation(
            name: "Greenfield School", baseCurrency: "INR", countryCode: "IN")
        let emulatorApp = Application(
            router: sandbox.router(), configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await emulatorApp.test(.live) { emulatorClient in
            let exchanges = Exchanges(HTTPClientTransport(policy: QuickBooksWorld.loopback))
            try await Pipeline.run(
                connectors: [XeroConnector(limits: limits)], transport: exchanges, limiterClock: limiterClock,
                limits: engineLimits
            ) { pipeline in
                let world = XeroWorld(
                    sandbox: sandbox, organisation: organisation, components: pipeline.components,
                    ledgerwire: pipeline.ledgerwire, emulator: "http://127.0.0.1:\(emulatorClient.port!)",
                    engine: pipeline.engine, runner: pipeline.runner, clock: pipeline.clock, exchanges: exchanges)
                _ = try await world.api(
                    "POST", "/webhook-sources", ["source": "billing", "secret": .string(world.signer.secret)])
                try await body(world)
                try await world.expectEventsKeepTheContract()
                world.expectRequestsKeepXerosSpec()
            }
        }
    }

    /// An integration of the school pointed at the emulator, connected through OAuth to the organisations `grant`
    /// (the world's own by default).
    func connect(grant: [String]? = nil) async throws -> (id: String, callback: Answer) {
        // Xero takes only the redirect URIs registered on the app, exactly.
        await sandbox.registerClient(
            id: Self.clientID, secret: Self.clientSecret, redirectURIs: [ledgerwire + "/oauth/callback"])
        let id = try await createIntegration()
        let connect = try await api("GET", "/integrations/\(id)/connect")
        #expect(connect.status == 302)
        let authorize = try #require(connect.headers["location"])
        #expect(authorize.contains("offline_access"), "refresh tokens need offline_access")
        #expect(try await call("GET", authorize, token: nil).status == 200, "the consent page")
        let form = try #require(XeroConsent(authorizeURL: authorize, tenantIDs: grant ?? [organisation]))
        let consent = try await call(
            "POST", form.action, token: nil, headers: ["Content-Type": XeroConsent.contentType],
            body: Array(form.body.utf8))
        #expect(consent.status == 302)
        let back = try #require(consent.headers["location"])
        #expect(back.hasPrefix(ledgerwire + "/oauth/callback?"))
        return (id, try await call("GET", back, token: nil))
    }

    /// A Xero integration of the school pointed at the emulator, not connected yet.
    func createIntegration(name: String = "Greenfield Xero") async throws -> String {
        let created = try await api(
            "POST", "/integrations",
            [
                "tenant_id": .string(Self.tenant), "platform": "xero", "name": .string(name),
                "settings": [
                    "client_id": .string(Self.clientID), "client_secret": .string(Self.clientSecret),
                    "redirect_uri": .string(ledgerwire + "/oauth/callback"),
                    "api_base_url": .string(emulator + "/api.xro/2.0"),
                    "connections_url": .string(emulator + "/connections"),
                    "oauth_authorize_url": .string(emulator + "/identity/connect/authorize"),
                    "oauth_token_url": .string(emulator + "/connect/token"),
                    "oauth_revoke_url": .string(emulator + "/connect/revocation"),
                ],
                "sync": ["interval_seconds": 3600, "conflict_policy": "last_modified_wins"],
            ])
        return try #require(created.json["id"]?.stringValue, "\(created.json)")
    }

    /// Maps billing's codes to the organisation's: both revenue accounts to Sales (200), GST 18 % to its tax rate,
    /// the bank account 090.
    func map(_ integrationID: String) async throws {
        let chart = try await api("GET", "/integrations/\(integrationID)/remote-accounts")
        #expect(chart.status == 200, "\(chart.json)")
        let taxes = chart.json["tax_codes"]?.arrayValue ?? []
        let gst = try #require(taxes.first { $0["name"]?.stringValue?.contains("18") == true }?["id"], "\(taxes)")
        let saved = try await api(
            "PUT", "/integrations/\(integrationID)/mappings",
            [
                "accounts": ["4000-TUITION": "200", "4100-TRANSPORT": "200"], "tax_codes": ["GST18": gst],
                "deposit_accounts": ["BANK-MAIN": "090"],
            ])
        #expect(saved.status == 200, "\(saved.json)")
    }

    func objects(_ collection: String, organisation: String? = nil) async -> [[String: JSONValue]] {
        await sandbox.objects(tenantID: organisation ?? self.organisation, collection: collection)
    }

    /// Every request Ledgerwire sent to the Accounting API, and every answer it got, keeps `xero_accounting.yaml`.
    func expectRequestsKeepXerosSpec() {
        let spec = OpenAPIDocument.xeroAccounting
        for (request, response) in exchanges.all where request.url.path.contains("/api.xro/2.0/") {
            let problems = spec.violations(of: request)
            #expect(problems.isEmpty, "\(request.method) \(request.url): \(problems)")
            if let response, response.status == 200 {
                let answers = spec.violations(of: response, to: request)
                #expect(answers.isEmpty, "answer to \(request.method) \(request.url): \(answers)")
            }
        }
    }
}

/// A transport that keeps every exchange it carries.
final class Exchanges: HTTPTransport, Sendable {
    private let inner: any HTTPTransport
    private let kept = Mutex<[(TransportRequest, TransportResponse?)]>([])

    init(_ inner: any HTTPTransport) { self.inner = inner }

    var all: [(TransportRequest, TransportResponse?)] { kept.withLock { $0 } }

    func send(_ request: TransportRequest) async throws(TransportError) -> TransportResponse {
        do {
            let response = try await inner.send(request)
            kept.withLock { $0.append((request, response)) }
            return response
        } catch {
            kept.withLock { $0.append((request, nil)) }
            throw error
        }
    }
}
