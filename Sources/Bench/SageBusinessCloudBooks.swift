import Accounting
import Foundation
import Sandbox

/// The Sage Business Cloud bench's part of the world: billing's history in pounds, the integration connected and
/// mapped, and the books read, through the Sage Business Cloud Accounting emulator.
struct SageBusinessCloudBooks: Sendable {
    let world: BenchWorld
    let sandbox: SageBusinessCloudSandbox
    /// The user's one business (UK, pounds, VAT).
    let business: String
    /// The Accounting API calls the emulator answered, by method.
    let calls: SageCalls

    typealias Failure = BenchWorld.Failure

    /// Billing's invoice numbers: this and the invoice's index.
    static let numberPrefix = "SB-"
    static let clientID = "bench-client"
    static let clientSecret = "bench-secret"
    /// Each invoice's total: 1 × 1,000.00 and 3 × 45.50 less 10.00, with VAT at 20 % on each line.
    static let invoiceTotal = Decimal(string: "1351.80") ?? 0

    // MARK: Billing's history

    /// Each customer, then each invoice (numbered `numberPrefix` and its index, of customer `index % customers + 1`),
    /// as signed webhooks from `lanes` senders at once.
    func bill(invoices: Int, customers: Int, lanes: Int) async throws {
        let key = try await world.billingKey()
        let now = ISO8601DateFormatter().string(from: Date())
        try await world.sendEach(count: customers, lanes: lanes, key: key) { Self.customer($0, at: now) }
        try await world.sendEach(count: invoices, lanes: lanes, key: key) {
            Self.invoice($0, customer: $0 % customers + 1, at: now)
        }
    }

    static func customer(_ index: Int, at now: String) -> JSONValue {
        [
            "type": "customer.created", "timestamp": .string(now), "tenant_id": .string(BenchWorld.tenant),
            "data": [
                "id": .string("cus_\(index)"), "name": .string("Family \(index)"),
                "email": .string("family.\(index)@example.co.uk"), "currency": "GBP", "updated_at": .string(now),
            ],
        ]
    }

    /// A pound invoice of two lines at 20 % VAT, tuition and a discounted transport line: 1,351.80 in all.
    static func invoice(_ index: Int, customer: Int, at now: String) -> JSONValue {
        [
            "type": "invoice.issued", "timestamp": .string(now), "tenant_id": .string(BenchWorld.tenant),
            "data": [
                "id": .string("inv_\(index)"), "number": .string(numberPrefix + String(index)),
                "customer_id": .string("cus_\(customer)"), "currency": "GBP", "issue_date": "2026-11-03",
                "due_date": "2026-11-17",
                "lines": [
                    [
                        "id": "l1", "description": "Term 2 tuition", "quantity": 1, "unit_amount": "1000.00",
                        "amount": "1000.00", "revenue_account": "4000-TUITION", "tax_code": "VAT",
                        "tax_amount": "200.00",
                    ],
                    [
                        "id": "l2", "description": "School bus", "quantity": 3, "unit_amount": "45.50",
                        "discount_amount": "10.00", "amount": "126.50", "revenue_account": "4100-TRANSPORT",
                        "tax_code": "VAT", "tax_amount": "25.30",
                    ],
                ],
                "subtotal": "1126.50", "tax_total": "225.30", "total": "1351.80", "updated_at": .string(now),
            ],
        ]
    }

    // MARK: The integration

    /// An integration pointed at the emulator, connected to the business through Sage's consent.
    func connect() async throws -> String {
        let callback = world.ledgerwire + "/oauth/callback"
        // Sage takes only the redirect URIs registered on the app, exactly.
        await sandbox.registerClient(id: Self.clientID, secret: Self.clientSecret, redirectURIs: [callback])
        let emulator = world.emulator
        return try await world.connect(
            platform: "sage_business_cloud",
            settings: [
                "client_id": .string(Self.clientID), "client_secret": .string(Self.clientSecret),
                "redirect_uri": .string(callback), "api_base_url": .string(emulator + "/v3.1"),
                "oauth_authorize_url": .string(emulator + "/oauth2/auth/central?filter=apiv3.1"),
                "oauth_token_url": .string(emulator + "/token"),
            ],
            consent: { authorizeURL in
                SageBusinessCloudConsent(authorizeURL: authorizeURL).map {
                    ($0.action, SageBusinessCloudConsent.contentType, $0.body)
                }
            })
    }

    /// Both revenue accounts to Sales Type A (4000), billing's `VAT` to the standard rate, the bank to the current
    /// account: all read from the chart Ledgerwire gives (`remote-accounts`).
    func map(_ integrationID: String) async throws {
        let chart = try await world.api("GET", "/integrations/\(integrationID)/remote-accounts")
        guard let sales = await sandbox.ledgerAccountID(businessID: business, nominalCode: 4000),
            let bank = await sandbox.bankAccountID(businessID: business),
            chart["accounts"]?.arrayValue?.contains(where: { $0["id"]?.stringValue == sales }) == true
        else { throw Failure(description: "no sales account 4000 or bank account in the chart: \(chart)") }
        let taxes = chart["tax_codes"]?.arrayValue ?? []
        guard let standard = taxes.first(where: { $0["id"]?.stringValue?.hasSuffix("_STANDARD") == true })?["id"]
        else { throw Failure(description: "no standard VAT rate among \(taxes)") }
        try await world.api(
            "PUT", "/integrations/\(integrationID)/mappings",
            [
                "accounts": ["4000-TUITION": .string(sales), "4100-TRANSPORT": .string(sales)],
                "tax_codes": ["VAT": standard], "deposit_accounts": ["BANK-MAIN": .string(bank)],
            ])
    }

    // MARK: The books

    /// The business's sales invoices and contacts (a list of references to the emulator's records: cheap enough to
    /// read every 100 ms).
    func count() async -> BooksCount {
        BooksCount(
            invoices: await sandbox.records(businessID: business, resource: "sales_invoices").count,
            customers: await sandbox.records(businessID: business, resource: "contacts").count)
    }

    func stats() async -> (requests: Int, writes: Int, reads: Int, violations: Int, refreshGrants: Int) {
        let byMethod = calls.all
        return (
            await sandbox.requestCounts[business] ?? 0,
            (byMethod["PUT"] ?? 0) + (byMethod["POST"] ?? 0) + (byMethod["DELETE"] ?? 0), byMethod["GET"] ?? 0,
            await sandbox.limitViolations, await sandbox.refreshGrants
        )
    }

    /// Each billing invoice once in the books (by `reference`, billing's number), with billing's total to the penny;
    /// each contact once (by `reference`, billing's id).
    func verify(invoices: Int, customers: Int) async throws -> String {
        let books = await sandbox.records(businessID: business, resource: "sales_invoices")
        let numbers = Set(books.compactMap { $0["reference"]?.stringValue })
        let expected = Set((1...invoices).map { Self.numberPrefix + String($0) })
        guard books.count == invoices, numbers == expected else {
            throw Failure(
                description: "the books hold \(books.count) invoices with \(numbers.count) distinct numbers,"
                    + " \(expected.subtracting(numbers).count) of billing's missing")
        }
        let wrongTotals = books.filter { Self.decimal($0["total_amount"]) != Self.invoiceTotal }
        guard wrongTotals.isEmpty else {
            throw Failure(description: "\(wrongTotals.count) invoices without billing's total, e.g. \(wrongTotals[0])")
        }
        let families = await sandbox.records(businessID: business, resource: "contacts")
            .filter { $0["name"]?.stringValue?.hasPrefix("Family ") == true }
        let references = Set(families.compactMap { $0["reference"]?.stringValue })
        guard families.count == customers, references == Set((1...customers).map { "cus_\($0)" }) else {
            throw Failure(description: "the books hold \(families.count) of billing's \(customers) contacts")
        }
        return "\(invoices) invoices, each once, each totalling 1,351.80; \(customers) contacts, each once"
    }

    /// An amount as Sage answers it, a number or a string.
    static func decimal(_ value: JSONValue?) -> Decimal? {
        switch value {
        case .number(let text)?, .string(let text)?: Decimal(string: text)
        default: nil
        }
    }
}
