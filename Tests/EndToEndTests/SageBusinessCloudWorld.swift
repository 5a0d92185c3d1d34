import Accounting
import App
import Connectors
import Foundation
import Hummingbird
import HummingbirdTesting
import Persistence
import Sandbox
import SyncEngine
import TestSupport
import Testing

/// Ledgerwire and the Sage Business Cloud Accounting emulator, both on loopback: billing's webhooks and the admin API
/// go to Ledgerwire over HTTP, Ledgerwire's connector calls the emulator over HTTP through a transport that keeps
/// every exchange, so a test can check each request the connector sent against Sage's v3.1 spec.
struct SageWorld: PipelineWorld {
    static let clientID = "lw-sage-client"
    static let clientSecret = "lw-sage-secret"

    let sandbox: SageBusinessCloudSandbox
    /// The business the tests' consent opens (a UK one in pounds unless the test asked for another country).
    let business: String
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

    /// Runs `body` with both servers up, the connector at `limits` (Sage's own by default), the user's one business
    /// in `country` (`GB` or `IE`).
    static func run(
        country: String = "GB", limits: RateLimitPolicy = SageBusinessCloudConnector.limits,
        sandboxLimits: SageBusinessCloudSandbox.Limits = .init(),
        _ body: @Sendable (SageWorld) async throws -> Void
    ) async throws {
        let sandbox = SageBusinessCloudSandbox(limits: sandboxLimits)
        let business = try #require(await sandbox.addBusiness(name: "Greenfield School", country: country))
        let emulatorApp = Application(
            router: sandbox.router(), configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await emulatorApp.test(.live) { emulatorClient in
            let exchanges = Exchanges(HTTPClientTransport(policy: QuickBooksWorld.loopback))
            try await Pipeline.run(
                connectors: [SageBusinessCloudConnector(limits: limits)], transport: exchanges
            ) { pipeline in
                let world = SageWorld(
                    sandbox: sandbox, business: business, components: pipeline.components,
                    ledgerwire: pipeline.ledgerwire, emulator: "http://127.0.0.1:\(emulatorClient.port!)",
                    engine: pipeline.engine, runner: pipeline.runner, clock: pipeline.clock, exchanges: exchanges)
                _ = try await world.api(
                    "POST", "/webhook-sources", ["source": "billing", "secret": .string(world.signer.secret)])
                try await body(world)
                try await world.expectEventsKeepTheContract()
                world.expectRequestsKeepSagesSpec()
            }
        }
    }

    /// An integration of the school pointed at the emulator, connected through Sage's consent: the callback's
    /// answer.
    func connect() async throws -> (id: String, callback: Answer) {
        // Sage takes only the redirect URIs registered on the app, exactly.
        await sandbox.registerClient(
            id: Self.clientID, secret: Self.clientSecret, redirectURIs: [ledgerwire + "/oauth/callback"])
        let created = try await api(
            "POST", "/integrations",
            [
                "tenant_id": .string(Self.tenant), "platform": "sage_business_cloud", "name": "Greenfield Sage",
                "settings": [
                    "client_id": .string(Self.clientID), "client_secret": .string(Self.clientSecret),
                    "redirect_uri": .string(ledgerwire + "/oauth/callback"),
                    "api_base_url": .string(emulator + "/v3.1"),
                    "oauth_authorize_url": .string(emulator + "/oauth2/auth/central?filter=apiv3.1"),
                    "oauth_token_url": .string(emulator + "/token"),
                ],
                "sync": ["interval_seconds": 3600, "conflict_policy": "last_modified_wins"],
            ])
        let id = try #require(created.json["id"]?.stringValue, "\(created.json)")
        return (id, try await authorize(id))
    }

    /// The consent, once more or for the first time, for `integration`: the callback's answer.
    func authorize(_ integration: String) async throws -> Answer {
        let connect = try await api("GET", "/integrations/\(integration)/connect")
        #expect(connect.status == 302)
        let authorize = try #require(connect.headers["location"])
        #expect(authorize.contains("scope=full_access") && authorize.contains("filter=apiv3.1"), "\(authorize)")
        #expect(try await call("GET", authorize, token: nil).status == 200, "the consent page")
        let form = try #require(SageBusinessCloudConsent(authorizeURL: authorize))
        let consent = try await call(
            "POST", form.action, token: nil, headers: ["Content-Type": SageBusinessCloudConsent.contentType],
            body: Array(form.body.utf8))
        #expect(consent.status == 302)
        let back = try #require(consent.headers["location"])
        #expect(back.hasPrefix(ledgerwire + "/oauth/callback?"))
        return try await call("GET", back, token: nil)
    }

    /// Maps billing's codes to the business's, from the chart Ledgerwire reads (`remote-accounts`): both revenue
    /// accounts to Sales Type A (4000), billing's `VAT` to the region's standard rate, its bank to the current
    /// account.
    func map(_ integrationID: String) async throws {
        let chart = try await api("GET", "/integrations/\(integrationID)/remote-accounts")
        #expect(chart.status == 200, "\(chart.json)")
        let accounts = chart.json["accounts"]?.arrayValue ?? []
        let sales = try #require(await sandbox.ledgerAccountID(businessID: business, nominalCode: 4000))
        let bank = try #require(await sandbox.bankAccountID(businessID: business))
        #expect(accounts.contains { $0["id"]?.stringValue == sales }, "4000 is in the chart: \(accounts)")
        #expect(accounts.contains { $0["id"]?.stringValue == bank }, "the bank account is in the chart")
        let standard = await sandbox.records(businessID: business, resource: "tax_rates").first {
            $0["id"]?.stringValue?.hasSuffix("_STANDARD") == true
        }?["id"]
        let taxes = chart.json["tax_codes"]?.arrayValue ?? []
        #expect(taxes.contains { $0["id"] == standard }, "\(taxes)")
        let saved = try await api(
            "PUT", "/integrations/\(integrationID)/mappings",
            [
                "accounts": ["4000-TUITION": .string(sales), "4100-TRANSPORT": .string(sales)],
                "tax_codes": ["VAT": standard ?? .null], "deposit_accounts": ["BANK-MAIN": .string(bank)],
            ])
        #expect(saved.status == 200, "\(saved.json)")
    }

    func records(_ resource: String) async -> [[String: JSONValue]] {
        await sandbox.records(businessID: business, resource: resource)
    }

    /// The business's sales invoice with billing's `number` as its reference.
    func invoice(_ number: String) async -> [String: JSONValue]? {
        await records("sales_invoices").first { $0["reference"]?.stringValue == number }
    }

    /// Every request Ledgerwire sent to the Accounting API, and every answer it got, keeps Sage's v3.1 spec
    /// (`GET /businesses` is Sage's core API, outside it).
    func expectRequestsKeepSagesSpec() {
        let spec = OpenAPIDocument.sageBusinessCloud
        for (request, response) in exchanges.all
        where request.url.path.hasPrefix("/v3.1/") && !request.url.path.hasPrefix("/v3.1/businesses") {
            let problems = spec.violations(of: request)
            #expect(problems.isEmpty, "\(request.method) \(request.url): \(problems)")
            if let response, (200..<300).contains(response.status), response.status != 204 {
                let answers = spec.violations(of: response, to: request)
                #expect(answers.isEmpty, "answer to \(request.method) \(request.url): \(answers)")
            }
        }
    }

    // MARK: Billing's records

    static func customer(_ id: String, name: String, email: String? = nil, currency: String = "GBP") -> JSONValue {
        var data: [String: JSONValue] = [
            "id": .string(id), "name": .string(name), "currency": .string(currency),
            "updated_at": .string(Timestamp.now().rfc3339),
        ]
        if let email { data["email"] = .string(email) }
        return .object(data)
    }

    /// An invoice of two lines, tuition and a discounted transport line, with VAT at `rate` %: 1 × 1,000.00 and
    /// 3 × 45.50 less 10.00.
    static func invoice(
        _ id: String, number: String, customer: String = "cus_1", currency: String = "GBP", rate: Int = 20,
        exchangeRate: String? = nil
    ) -> JSONValue {
        let tuitionTax = money(Decimal(1000) * Decimal(rate) / 100)
        let busTax = money(Decimal(12650) * Decimal(rate) / 10000)
        let tax = money((Decimal(string: tuitionTax) ?? 0) + (Decimal(string: busTax) ?? 0))
        let total = money((Decimal(string: "1126.50") ?? 0) + (Decimal(string: tax) ?? 0))
        var data: [String: JSONValue] = [
            "id": .string(id), "number": .string(number), "customer_id": .string(customer),
            "currency": .string(currency), "issue_date": "2026-11-03", "due_date": "2026-11-17",
            "lines": [
                [
                    "id": "line_1", "description": "Term 2 tuition", "quantity": 1, "unit_amount": "1000.00",
                    "amount": "1000.00", "revenue_account": "4000-TUITION", "tax_code": "VAT",
                    "tax_amount": .string(tuitionTax),
                ],
                [
                    "id": "line_2", "description": "School bus", "quantity": 3, "unit_amount": "45.50",
                    "discount_amount": "10.00", "amount": "126.50", "revenue_account": "4100-TRANSPORT",
                    "tax_code": "VAT", "tax_amount": .string(busTax),
                ],
            ],
            "subtotal": "1126.50", "tax_total": .string(tax), "total": .string(total),
            "updated_at": .string(Timestamp.now().rfc3339),
        ]
        if let exchangeRate { data["exchange_rate"] = .string(exchangeRate) }
        return .object(data)
    }

    static func payment(_ id: String, invoice: String, amount: String, customer: String = "cus_1") -> JSONValue {
        [
            "id": .string(id), "customer_id": .string(customer), "currency": "GBP", "amount": .string(amount),
            "received_at": "2026-11-20T09:00:00Z", "method": "bank_transfer", "deposit_account": "BANK-MAIN",
            "allocations": [["invoice_id": .string(invoice), "amount": .string(amount)]],
            "updated_at": "2026-11-20T09:00:00Z",
        ]
    }

    /// A one-line credit note of `amount` (no tax), crediting `invoice` when one is named.
    static func creditNote(_ id: String, number: String, invoice: String?, amount: String) -> JSONValue {
        var data: [String: JSONValue] = [
            "id": .string(id), "number": .string(number), "customer_id": "cus_1", "currency": "GBP",
            "issue_date": "2026-11-10",
            "lines": [
                [
                    "id": "line_1", "description": "Sibling scholarship", "quantity": 1, "unit_amount": .string(amount),
                    "amount": .string(amount), "revenue_account": "4000-TUITION",
                ]
            ],
            "subtotal": .string(amount), "tax_total": "0.00", "total": .string(amount), "reason": "Scholarship",
            "updated_at": "2026-11-10T09:00:00Z",
        ]
        if let invoice { data["invoice_id"] = .string(invoice) }
        return .object(data)
    }

    static func refund(_ id: String, creditNote: String, amount: String) -> JSONValue {
        [
            "id": .string(id), "customer_id": "cus_1", "currency": "GBP", "amount": .string(amount),
            "refunded_at": "2026-11-22T09:00:00Z", "method": "bank_transfer", "credit_note_id": .string(creditNote),
            "deposit_account": "BANK-MAIN", "updated_at": "2026-11-22T09:00:00Z",
        ]
    }

    /// An amount to the penny, half up (as billing rounds tax).
    static func money(_ value: Decimal) -> String {
        var value = value
        var rounded = Decimal()
        NSDecimalRound(&rounded, &value, 2, .plain)
        let formatter = NumberFormatter()
        formatter.minimumFractionDigits = 2
        formatter.maximumFractionDigits = 2
        formatter.usesGroupingSeparator = false
        formatter.locale = Locale(identifier: "en_US_POSIX")
        return formatter.string(from: NSDecimalNumber(decimal: rounded)) ?? "\(rounded)"
    }

    static func voided(_ id: String, number: String) -> JSONValue {
        [
            "id": .string(id), "number": .string(number), "reason": "Issued in error",
            "updated_at": .string(Timestamp.now().rfc3339),
        ]
    }

    /// An amount as Sage shows it, as a string (`"1351.8"` and `1351.80` alike give `"1351.80"`).
    static func amount(_ value: JSONValue?) -> String? {
        let text: String
        switch value {
        case .number(let number)?, .string(let number)?: text = number
        default: return nil
        }
        return Decimal(string: text).map(money)
    }
}
