import Accounting
import Connectors
import Foundation
import Hummingbird
import HummingbirdTesting
import Sandbox
import Synchronization
import TestSupport
import Testing

/// The QuickBooks Online emulator in this process, on loopback, for a real `ledgerwire` process to talk to through
/// a tap: a pass-through proxy in front of the emulator that keeps what the emulator told Ledgerwire that must stay
/// secret (every access and refresh token its token endpoint answered) and the method and path of every call
/// Ledgerwire made, as it arrived (before the emulator answers).
final class QuickBooksTap: Sendable {
    static let clientID = "cli-client"
    let clientSecret = "cli-client-secret-" + UUID().uuidString
    let verifierToken = "cli-verifier-" + UUID().uuidString
    let sandbox: QuickBooksOnlineSandbox
    private let state = Mutex<(base: String, proxy: String, tokens: [String], calls: [String])>(("", "", [], []))
    /// Tests' own calls, to servers on loopback; redirects are not followed.
    static let transport = HTTPClientTransport(
        policy: DestinationPolicy(allowsInsecure: true, allowsPrivateNetworks: true))

    init(sandbox: QuickBooksOnlineSandbox = QuickBooksOnlineSandbox()) {
        self.sandbox = sandbox
    }

    /// The emulator's base URL (a bookkeeper's and a browser's way in).
    var base: String { state.withLock { $0.base } }
    /// The tap's base URL (Ledgerwire's way in).
    var proxy: String { state.withLock { $0.proxy } }
    /// Every token the emulator's token endpoint gave Ledgerwire, access and refresh.
    var issuedTokens: [String] { state.withLock { $0.tokens } }
    /// `"GET /v3/company/…/invoice/…"`: Ledgerwire's calls, each as it arrived.
    var calls: [String] { state.withLock { $0.calls } }

    /// Runs `body` while the emulator and the tap listen.
    func run(_ body: @Sendable (QuickBooksTap) async throws -> Void) async throws {
        await sandbox.registerClient(id: Self.clientID, secret: clientSecret)
        let emulator = Application(
            router: sandbox.router(), configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await emulator.test(.live) { emulatorClient in
            let router = Router()
            router.add(middleware: Recorder(tap: self))
            router.get("**") { request, _ in try await self.forward(request) }
            router.post("**") { request, _ in try await self.forward(request) }
            try await Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
                .test(.live) { proxyClient in
                    self.state.withLock {
                        $0.base = "http://127.0.0.1:\(emulatorClient.port!)"
                        $0.proxy = "http://127.0.0.1:\(proxyClient.port!)"
                    }
                    try await body(self)
                }
        }
    }

    /// The request passed on to the emulator as it came, and its answer back; a token endpoint's answer is kept.
    private func forward(_ request: Request) async throws -> Response {
        let body = try await request.body.collect(upTo: 1 << 20)
        let headers = request.headers.filter { [.authorization, .contentType, .accept].contains($0.name) }
            .map { (name: $0.name.rawName, value: $0.value) }
        let answer = try await Self.transport.send(
            TransportRequest(
                method: request.method.rawValue, url: URL(string: base + request.uri.string)!, headers: headers,
                body: body.readableBytes > 0 ? Data(body.readableBytesView) : nil))
        if request.uri.path == "/oauth2/v1/tokens/bearer", let json = try? JSONValue(parsing: answer.body) {
            let tokens = ["access_token", "refresh_token"].compactMap { json[$0]?.stringValue }
            state.withLock { $0.tokens += tokens }
        }
        return Response(
            status: .init(code: answer.status),
            headers: [.contentType: answer.header("content-type") ?? "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: Array(answer.body))))
    }

    struct Recorder: RouterMiddleware {
        typealias Context = BasicRequestContext
        let tap: QuickBooksTap

        func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
            async throws -> Response
        {
            tap.state.withLock { $0.calls.append("\(request.method.rawValue) \(request.uri.path)") }
            return try await next(request, context)
        }
    }

    // MARK: Driving a ledgerwire process

    /// An admin API call to `server`.
    @discardableResult
    static func api(_ server: ServerProcess, _ method: String, _ path: String, _ json: JSONValue? = nil) async throws
        -> (status: Int, json: JSONValue)
    {
        let answer = try await call(
            method, server.baseURL + "/api/v1" + path, token: ServerProcess.adminToken, json: json)
        return (answer.status, (try? JSONValue(parsing: answer.body)) ?? .null)
    }

    static func call(_ method: String, _ url: String, token: String? = nil, json: JSONValue? = nil) async throws
        -> TransportResponse
    {
        var headers: [(name: String, value: String)] = []
        if let token { headers.append(("Authorization", "Bearer \(token)")) }
        if json != nil { headers.append(("Content-Type", "application/json")) }
        return try await transport.send(
            TransportRequest(
                method: method, url: URL(string: url)!, headers: headers, body: json.map { Data($0.canonicalBytes) }))
    }

    /// Registers the billing secret and this emulator's verifier token with `server`.
    func registerWebhookSecrets(on server: ServerProcess, billing signer: Signer) async throws {
        for (source, secret) in [("billing", signer.secret), ("quickbooks", verifierToken)] {
            let answer = try await Self.api(
                server, "POST", "/webhook-sources", ["source": .string(source), "secret": .string(secret)])
            #expect(answer.status == 201, "\(answer.json)")
        }
    }

    /// A signed billing event of tenant `default`, to `server`.
    static func bill(_ server: ServerProcess, signer: Signer, _ type: String, _ data: JSONValue) async throws {
        let bytes = JSONValue.object([
            "type": .string(type), "timestamp": .string(ISO8601DateFormatter().string(from: Date())), "data": data,
        ])
        .canonicalBytes
        var headers = signer.headers(for: bytes)
        headers["content-type"] = "application/json"
        let answer = await server.call("POST", "/webhooks/billing", headers: headers, body: bytes)
        #expect(
            answer.map { (200..<300).contains($0.0) } == true, "billing event refused: \(String(describing: answer))")
    }

    /// An integration of `server` pointed at the emulator through the tap, connected to
    /// `realm` through the consent dance, with billing's codes mapped to the company's accounts.
    func connect(_ server: ServerProcess, realm: String, intervalSeconds: Int = 3600) async throws -> String {
        let created = try await Self.api(
            server, "POST", "/integrations",
            [
                "platform": "quickbooks_online", "name": "Books",
                "settings": [
                    "client_id": .string(Self.clientID), "client_secret": .string(clientSecret),
                    "redirect_uri": .string(server.baseURL + "/oauth/callback"), "environment": "sandbox",
                    "api_base_url": .string(proxy), "oauth_authorize_url": .string(base + "/connect/oauth2"),
                    "oauth_token_url": .string(proxy + "/oauth2/v1/tokens/bearer"),
                    "oauth_revoke_url": .string(proxy + "/v2/oauth2/tokens/revoke"),
                ],
                "sync": ["interval_seconds": .number(String(intervalSeconds))],
            ])
        let id = try #require(created.json["id"]?.stringValue, "\(created.json)")
        await sandbox.setConsentRealm(realm)
        let connect = try await Self.call(
            "GET", server.baseURL + "/api/v1/integrations/\(id)/connect",
            token: ServerProcess.adminToken)
        let authorize = try #require(connect.header("location"))
        #expect(try await Self.call("GET", authorize).status == 200, "the consent page")
        let form = try #require(QuickBooksConsent(authorizeURL: authorize))
        let consent = try await Self.transport.send(
            TransportRequest(
                method: "POST", url: try #require(URL(string: form.action)),
                headers: [("Content-Type", QuickBooksConsent.contentType)], body: Data(form.body.utf8)))
        let callback = try await Self.call("GET", try #require(consent.header("location")))
        #expect(callback.status == 200, "\(String(decoding: callback.body, as: UTF8.self))")

        let codes = ["4000-TUITION", "4100-TRANSPORT"]
        let chart = try await Self.api(
            server, "GET", "/integrations/\(id)/remote-accounts?codes=\(codes.joined(separator: ","))")
        #expect(chart.status == 200, "\(chart.json)")
        var accounts: [String: JSONValue] = [:]
        for code in codes { accounts[code] = chart.json["suggested_mappings"]?["accounts"]?[code] ?? .null }
        // The code QuickBooksWorld maps too: "GST 18%".
        let taxCodes = chart.json["tax_codes"]?.arrayValue ?? []
        let taxCode =
            taxCodes.first { $0["name"] == "GST 18%" }
            ?? taxCodes.first { $0["name"]?.stringValue?.contains("18") == true }
        let bank = chart.json["accounts"]?.arrayValue?.first { $0["name"] == "Checking" }
        let saved = try await Self.api(
            server, "PUT", "/integrations/\(id)/mappings",
            [
                "accounts": .object(accounts), "tax_codes": ["GST18": taxCode?["id"] ?? .null],
                "items": ["*": chart.json["items"]?.arrayValue?.first?["id"] ?? .null],
                "deposit_accounts": ["BANK-MAIN": bank?["id"] ?? .null],
            ])
        #expect(saved.status == 200, "\(saved.json)")
        return id
    }

    /// Waits, up to `limit`, for `condition`; records an issue naming `what` if it never holds.
    static func eventually(
        _ what: String, within limit: Duration = .seconds(30), _ condition: () async throws -> Bool
    ) async throws -> Bool {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("\(what): not within \(limit)")
        return false
    }

    /// Delivers every change the emulator made since the last call to `server`'s QuickBooks webhook, signed;
    /// answers the HTTP statuses.
    func announce(to server: ServerProcess) async -> [Int?] {
        let sender = QuickBooksWebhookSender(
            url: URL(string: server.baseURL + "/webhooks/quickbooks")!, verifierToken: verifierToken, retryDelays: [],
            patience: .seconds(30))
        var statuses: [Int?] = []
        for (realm, notifications) in await sandbox.takeNotifications() {
            let report = await sender.send(QuickBooksWebhookSender.body(realmID: realm, notifications, format: .legacy))
            statuses.append(report.attempts.last?.status)
        }
        return statuses
    }

    /// An invoice of billing (tenant `default`) as `QuickBooksWorld.invoice` has it: two lines with GST at 18 %.
    static func invoice(_ id: String, number: String, customer: String) -> JSONValue {
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
            "updated_at": "2026-11-03T09:00:00Z",
        ]
    }

    static func customer(_ id: String, name: String) -> JSONValue {
        [
            "id": .string(id), "name": .string(name), "email": "asha.rao@example.com", "currency": "INR",
            "updated_at": "2026-11-03T09:00:00Z",
        ]
    }
}
