import Accounting
import App
import Connectors
import Foundation
import Persistence
import Sandbox
import Testing

/// What the documents stories need beside the world: billing's other records, Xero's webhooks to Ledgerwire, a
/// person's view of the dashboard, and an organisation in pounds.
extension XeroWorld {
    /// The webhook key of the app's subscription in Xero (the Xero developer portal shows it once).
    static let webhookKey = "y2QHJg1zWuQEDNw9ndJ6cTUELU8oYcZtlN/d3I5jSFmbnFc1dwTJN3sLdVomM+0L5uTLk1D1oIDmYYKUHbVzOw=="

    // MARK: Billing's records

    /// A payment of `amount` against one invoice, into billing's main bank account.
    static func payment(
        _ id: String, invoice: String, amount: String, customer: String = "cus_1", currency: String = "INR"
    ) -> JSONValue {
        [
            "id": .string(id), "customer_id": .string(customer), "currency": .string(currency),
            "amount": .string(amount), "received_at": "2026-11-20T09:00:00Z", "method": "upi",
            "deposit_account": "BANK-MAIN",
            "allocations": [["invoice_id": .string(invoice), "amount": .string(amount)]],
            "updated_at": "2026-11-20T09:00:00Z",
        ]
    }

    /// A one-line credit note of `amount` (no tax), crediting `invoice` when one is named.
    static func creditNote(
        _ id: String, number: String, invoice: String?, amount: String, customer: String = "cus_1"
    ) -> JSONValue {
        var data: [String: JSONValue] = [
            "id": .string(id), "number": .string(number), "customer_id": .string(customer), "currency": "INR",
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

    /// A refund of `amount` paid out of billing's main bank account against a credit note.
    static func refund(_ id: String, creditNote: String, amount: String, customer: String = "cus_1") -> JSONValue {
        [
            "id": .string(id), "customer_id": .string(customer), "currency": "INR", "amount": .string(amount),
            "refunded_at": "2026-11-22T09:00:00Z", "method": "bank_transfer", "credit_note_id": .string(creditNote),
            "deposit_account": "BANK-MAIN", "updated_at": "2026-11-22T09:00:00Z",
        ]
    }

    /// A void, billing's latest word on the invoice.
    static func voided(_ id: String, number: String) -> JSONValue {
        [
            "id": .string(id), "number": .string(number), "reason": "Issued in error",
            "updated_at": .string(Timestamp.now().rfc3339),
        ]
    }

    /// A one-line tuition invoice in `currency` with billing's `tax` under `taxCode`, at billing's exchange `rate`
    /// (home currency per unit of `currency`) when one is given.
    static func invoice(
        _ id: String, number: String, customer: String, currency: String, rate: String?, amount: String, tax: String,
        total: String, taxCode: String
    ) -> JSONValue {
        var data: [String: JSONValue] = [
            "id": .string(id), "number": .string(number), "customer_id": .string(customer),
            "currency": .string(currency), "issue_date": "2026-11-03", "due_date": "2026-11-17",
            "lines": [
                [
                    "id": "line_1", "description": "Term 2 tuition", "quantity": 1, "unit_amount": .string(amount),
                    "amount": .string(amount), "revenue_account": "4000-TUITION", "tax_code": .string(taxCode),
                    "tax_amount": .string(tax),
                ]
            ],
            "subtotal": .string(amount), "tax_total": .string(tax), "total": .string(total),
            "updated_at": "2026-11-03T09:00:00Z",
        ]
        if let rate { data["exchange_rate"] = .string(rate) }
        return .object(data)
    }

    // MARK: Xero's webhooks

    /// Registers the app's webhook key as webhook source `xero`, as the contract says, and checks Xero's
    /// intent-to-receive passes.
    func subscribeToXerosWebhooks() async throws {
        let source = try await api("POST", "/webhook-sources", ["source": "xero", "secret": .string(Self.webhookKey)])
        #expect(source.status < 300, "\(source.json)")
        let verification = await webhookSender.intentToReceive()
        #expect(verification.isVerified, "\(verification.checks.map(\.problem))")
    }

    /// Xero's sender, pointed at Ledgerwire's `/webhooks/xero`, its events' `resourceUrl`s under the emulator.
    var webhookSender: XeroWebhookSender {
        XeroWebhookSender(
            url: URL(string: ledgerwire + "/webhooks/xero")!, webhookKey: Self.webhookKey,
            apiBase: URL(string: emulator + "/api.xro/2.0")!, retryDelays: [],
            // Xero's 5 s is the sender's own test; here an answer counts however long a busy machine takes.
            budget: .seconds(120), patience: .seconds(120))
    }

    /// Delivers the webhooks of every change in the emulator since the last delivery, then lets Ledgerwire fetch
    /// and handle what they announce.
    @discardableResult
    func deliverWebhooks(sourceLocation: SourceLocation = #_sourceLocation) async throws -> [XeroWebhookEvent] {
        let events = await sandbox.takeWebhookEvents()
        let reports = await webhookSender.deliver(events)
        #expect(
            reports.allSatisfy { $0.delivered && $0.attempts.count == 1 }, "\(reports.map(\.attempts))",
            sourceLocation: sourceLocation)
        try await hearFromTheBooks()
        return events
    }

    // MARK: A person in Xero

    /// A bookkeeper types billing's usual two-line invoice (tuition, and the school bus with a discount, GST 18 %:
    /// 57,820.00 in all) into the world's organisation by hand, numbered `number`, for `contact`.
    func typeInvoice(_ number: String, contact: JSONValue) async throws -> Answer {
        let gst = try #require(await objects("TaxRates").first { $0["Name"] == "GST 18%" }?["TaxType"])
        let (token, _) = await sandbox.issueTokens(clientID: Self.clientID, tenantIDs: [organisation])
        return try await call(
            "PUT", emulator + "/api.xro/2.0/Invoices", token: token,
            json: [
                "Invoices": [
                    [
                        "Type": "ACCREC", "Contact": contact, "InvoiceNumber": .string(number), "Date": "2026-11-03",
                        "DueDate": "2026-11-17", "Status": "AUTHORISED", "LineAmountTypes": "Exclusive",
                        "LineItems": [
                            [
                                "Description": "Term 2 tuition", "Quantity": 1, "UnitAmount": 45000,
                                "AccountCode": "200",
                                "TaxType": gst,
                            ],
                            [
                                "Description": "School bus", "Quantity": 3, "UnitAmount": 1500, "DiscountAmount": 500,
                                "AccountCode": "200", "TaxType": gst,
                            ],
                        ],
                    ]
                ]
            ],
            headers: ["xero-tenant-id": organisation])
    }

    // MARK: A person's view

    /// The failed jobs, as the API lists them.
    func failedJobs() async throws -> [JSONValue] {
        try await api("GET", "/jobs?status=failed").json["items"]?.arrayValue ?? []
    }

    /// A dashboard page's HTML, as the school's finance manager signed in sees it.
    func dashboard(_ path: String) async throws -> (status: Int, text: String) {
        let email = "asha@greenfield.test"
        let password = "correct horse battery staple"
        if try await components.database.user(email: email) == nil {
            _ = try await components.database.addUser(
                email: email, name: "Asha Iyer", role: .financeManager, tenantID: Self.tenant, password: password,
                actor: "test")
        }
        let session = try #require(try await components.database.signIn(email: email, password: password, now: .now()))
        let response = try await transport.send(
            TransportRequest(
                method: "GET", url: URL(string: ledgerwire + path)!,
                headers: [(name: "Cookie", value: "lw_session=\(session.token)")], body: nil))
        return (response.status, String(decoding: response.body, as: UTF8.self))
    }

    // MARK: An organisation in pounds

    /// Connects the school to a new UK organisation (GBP, VAT) and maps billing's codes to its own: tuition to
    /// Sales (200), VAT 20 % to `OUTPUT2`, the bank account 090. Other currencies are added at Xero's `rates`
    /// (units of each for one pound).
    func connectUK(rates: [String: Decimal]) async throws -> (integration: String, organisation: String) {
        let uk = await sandbox.addOrganisation(name: "Greenfield School UK", baseCurrency: "GBP", countryCode: "GB")
        for (code, rate) in rates { await sandbox.addCurrency(tenantID: uk, code: code, rate: rate) }
        let (integration, callback) = try await connect(grant: [uk])
        #expect(callback.json["xero_tenant_id"]?.stringValue == uk, "\(callback.json)")
        let saved = try await api(
            "PUT", "/integrations/\(integration)/mappings",
            [
                "accounts": ["4000-TUITION": "200"], "tax_codes": ["VAT20": "OUTPUT2"],
                "deposit_accounts": ["BANK-MAIN": "090"],
            ])
        #expect(saved.status == 200, "\(saved.json)")
        return (integration, uk)
    }
}
