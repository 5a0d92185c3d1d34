import Accounting
import App
import Connectors
import Foundation
import Persistence
import Sandbox
import SyncEngine
import TestSupport
import Testing

/// Ledgerwire on loopback with a `sage_50` integration (no connector: its jobs wait for a file exchange) and a
/// simulated Sage 50 company the test imports files into and types in, as a school's finance manager would.
struct Sage50World: PipelineWorld {
    let components: Components
    let ledgerwire: String
    let engine: SyncEngine
    let runner: SyncOperationRunner
    let clock: OffsetClock
    let signer = Signer()
    let transport = HTTPClientTransport(policy: QuickBooksWorld.loopback)
    let integration: String

    /// Runs `body` with Ledgerwire up and a mapped Sage 50 integration of the school.
    static func run(settings: JSONValue = [:], _ body: @Sendable (Sage50World) async throws -> Void) async throws {
        try await Pipeline.run(connectors: [], transport: HTTPClientTransport(policy: QuickBooksWorld.loopback)) {
            pipeline in
            var world = Sage50World(
                components: pipeline.components, ledgerwire: pipeline.ledgerwire, engine: pipeline.engine,
                runner: pipeline.runner, clock: pipeline.clock, integration: "")
            let created = try await world.api(
                "POST", "/integrations",
                [
                    "tenant_id": .string(Self.tenant), "platform": "sage_50", "name": "Sage 50 accounts",
                    "settings": settings,
                ])
            let id = try #require(created.json["id"]?.stringValue, "\(created.json)")
            world = Sage50World(
                components: pipeline.components, ledgerwire: pipeline.ledgerwire, engine: pipeline.engine,
                runner: pipeline.runner, clock: pipeline.clock, integration: id)
            _ = try await world.api(
                "POST", "/webhook-sources", ["source": "billing", "secret": .string(world.signer.secret)])
            let saved = try await world.api(
                "PUT", "/integrations/\(id)/mappings",
                [
                    "accounts": ["4000-TUITION": "4000", "4100-TRANSPORT": "4001"],
                    "tax_codes": ["VAT20": "T1", "EXEMPT": "T2"], "deposit_accounts": ["BANK-MAIN": "1200"],
                ])
            #expect(saved.status == 200, "\(saved.json)")
            try await body(world)
            try await world.expectEventsKeepTheContract()
        }
    }

    /// The school's Sage 50 company: financial year from April 2026, program date late November.
    static func company() -> Sage50Company {
        Sage50Company(
            name: "Hillside School", financialYearStart: Sage50Date(day: 1, month: 4, year: 2026)!,
            programDate: Sage50Date(day: 30, month: 11, year: 2026)!)
    }

    /// A downloaded export: status, headers and the CSV.
    struct File {
        let status: Int
        let headers: [String: String]
        let text: String
        /// Rows after the header.
        var rows: [String] { Array(text.components(separatedBy: "\r\n").dropFirst().filter { !$0.isEmpty }) }
    }

    func export(_ format: String, _ query: String = "") async throws -> File {
        let response = try await transport.send(
            TransportRequest(
                method: "GET",
                url: URL(string: ledgerwire + "/api/v1/integrations/\(integration)/exports?format=\(format)\(query)")!,
                headers: [("Authorization", "Bearer \(Self.adminToken)")], body: nil))
        return File(
            status: response.status, headers: response.headers, text: String(decoding: response.body, as: UTF8.self))
    }

    func upload(_ csv: String, contentType: String = "text/csv") async throws -> Answer {
        try await call(
            "POST", ledgerwire + "/api/v1/integrations/\(integration)/imports",
            headers: ["Content-Type": contentType], body: Array(csv.utf8))
    }

    /// Each link of the integration's records: status and remote id, by billing's id.
    func links() async throws -> [String: (status: String, remoteID: String?)] {
        var links: [String: (String, String?)] = [:]
        for state in try await components.database.linkStates(integrationID: integration).values {
            links[state.localID] = (state.status, state.remoteID)
        }
        return links
    }

    func jobs(_ status: Job.Status) async throws -> [Job] {
        try await components.database.jobs(status: status, integrationID: integration, page: PageRequest(limit: 500))
            .items
    }

    // MARK: Billing's records (pounds, VAT)

    static let pounds = Currency(code: "GBP")!

    static func customer(_ id: String, name: String) -> JSONValue {
        [
            "id": .string(id), "name": .string(name), "email": .string("\(id)@families.example"),
            "billing_address": [
                "line1": "1 High Street", "city": "Leeds", "postal_code": "LS1 1AA", "country": "GB",
            ],
            "updated_at": "2026-04-01T09:00:00Z",
        ]
    }

    /// Tuition at 20 % VAT and a VAT-exempt transport line.
    static func invoice(_ id: String, number: String, customer: String, tuition: String, vat: String, total: String)
        -> JSONValue
    {
        [
            "id": .string(id), "number": .string(number), "customer_id": .string(customer), "currency": "GBP",
            "issue_date": "2026-09-03", "due_date": "2026-09-30",
            "lines": [
                [
                    "id": "l1", "description": "Autumn term tuition", "quantity": 1, "unit_amount": .string(tuition),
                    "amount": .string(tuition), "revenue_account": "4000-TUITION", "tax_code": "VAT20",
                    "tax_amount": .string(vat),
                ],
                [
                    "id": "l2", "description": "School bus", "quantity": 1, "unit_amount": "300.00",
                    "amount": "300.00", "revenue_account": "4100-TRANSPORT", "tax_code": "EXEMPT",
                    "tax_amount": "0.00",
                ],
            ],
            "subtotal": .string(
                (try! Money(parsing: tuition, currency: Self.pounds)).adding(
                    Money(minorUnits: 30000, currency: Self.pounds))!
                    .decimalString),
            "tax_total": .string(vat), "total": .string(total), "updated_at": "2026-09-03T09:00:00Z",
        ]
    }

    /// A term billed: two families of one name, an invoice each, a part payment, a credit note and its refund.
    func billTheTerm() async throws {
        try await bill("customer.created", Self.customer("cus_a", name: "Smith Family"))
        try await bill("customer.created", Self.customer("cus_b", name: "Smith Family"))
        try await bill(
            "invoice.issued",
            Self.invoice(
                "inv_1", number: "INV-1", customer: "cus_a", tuition: "1000.05", vat: "200.01", total: "1500.06"))
        try await bill(
            "invoice.issued",
            Self.invoice(
                "inv_2", number: "INV-2", customer: "cus_b", tuition: "2000.00", vat: "400.00", total: "2700.00"))
        var payment = XeroWorld.payment("pay_1", invoice: "inv_1", amount: "500.00", customer: "cus_a", currency: "GBP")
        payment = payment.setting([.key("reference")], to: "BACS 1044")
        try await bill("payment.received", payment)
        var note = XeroWorld.creditNote("cn_1", number: "CN-1", invoice: "inv_2", amount: "180.00", customer: "cus_b")
        note = note.setting([.key("currency")], to: "GBP")
        try await bill("credit_note.issued", note)
        var refund = XeroWorld.refund("ref_1", creditNote: "cn_1", amount: "50.00", customer: "cus_b")
        refund = refund.setting([.key("currency")], to: "GBP")
        try await bill("refund.issued", refund)
    }
}
