import Accounting
import App
import Connectors
import Foundation
import Persistence
import Sandbox
import SyncEngine
import TestSupport
import Testing

/// Ledgerwire on loopback and a school's QuickBooks Desktop behind its fake Web Connector: billing's webhooks and the
/// admin API go to Ledgerwire over HTTP; the Web Connector loads the `.qwc` Ledgerwire serves and drives `/qbwc` run
/// by run, handing each qbXML document to the fake company. Ledgerwire's workers run in the background, as in
/// service, so a run's percent loop sees the jobs its answers wake build their next requests.
struct QuickBooksDesktopWorld: PipelineWorld {
    let components: Components
    let ledgerwire: String
    let engine: SyncEngine
    let runner: SyncOperationRunner
    let clock: OffsetClock
    let signer = Signer()
    let transport = HTTPClientTransport(policy: QuickBooksWorld.loopback)
    let company: QuickBooksDesktopCompany
    let lists: Lists

    /// The company's lists, as its accountant set them up.
    struct Lists: Sendable {
        let tuition: String
        let transport: String
        let taxable: String
        let nonTaxable: String
        let salesTax: String
        let bank: String
    }

    static func run(
        country: String = "US", _ body: @Sendable (QuickBooksDesktopWorld) async throws -> Void
    ) async throws {
        let company = QuickBooksDesktopCompany(country: country)
        let lists = Lists(
            tuition: company.addItem("Tuition"), transport: company.addItem("School bus"),
            taxable: company.addTaxCode(country == "US" ? "Tax" : "S", taxable: true),
            nonTaxable: company.addTaxCode(country == "US" ? "Non" : "Z", taxable: false),
            salesTax: company.addSalesTaxItem(rateBasisPoints: 825), bank: company.addAccount("Checking", type: "Bank"))
        try await Pipeline.run(
            connectors: [QuickBooksDesktopConnector()],
            transport: HTTPClientTransport(policy: QuickBooksWorld.loopback),
            serverOnWorkersClock: true
        ) { pipeline in
            let world = QuickBooksDesktopWorld(
                components: pipeline.components, ledgerwire: pipeline.ledgerwire, engine: pipeline.engine,
                runner: pipeline.runner, clock: pipeline.clock, company: company, lists: lists)
            _ = try await world.api(
                "POST", "/webhook-sources", ["source": "billing", "secret": .string(world.signer.secret)])
            // The workers, as `serve` runs them: jobs as they come due, and the changes heard from the books.
            let workers = Task {
                while !Task.isCancelled {
                    let ran = (try? await pipeline.engine.runDueJobs()) ?? 0
                    let handled = (try? await pipeline.runner.processLedgerChanges()) ?? 0
                    if ran + handled == 0 { try? await Task.sleep(for: .milliseconds(5)) }
                }
            }
            do {
                try await body(world)
            } catch {
                workers.cancel()
                throw error
            }
            workers.cancel()
            _ = await workers.result
            try await world.expectEventsKeepTheContract()
        }
    }

    /// A QuickBooks Desktop integration of the school, with the password Ledgerwire made for it.
    func createIntegration(username: String = "greenfield-qb") async throws -> (id: String, password: String) {
        let created = try await api(
            "POST", "/integrations",
            [
                "tenant_id": .string(Self.tenant), "platform": "quickbooks_desktop", "name": "Greenfield QuickBooks",
                "settings": [
                    "username": .string(username), "sales_tax_item": .string(lists.salesTax), "run_every_minutes": 5,
                ],
            ])
        #expect(created.status == 201, "\(created.json)")
        let id = try #require(created.json["id"]?.stringValue, "\(created.json)")
        let password = try #require(created.json["settings"]?["password"]?.stringValue, "\(created.json)")
        return (id, password)
    }

    /// The Web Connector on the school's PC, with the `.qwc` downloaded from Ledgerwire loaded into it.
    func webConnector(_ integrationID: String, password: String, pause: Duration = .milliseconds(50)) async throws
        -> WebConnector
    {
        let response = try await transport.send(
            TransportRequest(
                method: "GET", url: URL(string: ledgerwire + "/api/v1/integrations/\(integrationID)/qwc")!,
                headers: [("Authorization", "Bearer \(Self.adminToken)")]))
        #expect(response.status == 200)
        #expect(response.headers["content-disposition"]?.contains(".qwc") == true)
        return try WebConnector(
            qwc: String(decoding: response.body, as: UTF8.self), password: password, company: company,
            transport: HTTPClientTransport(policy: QuickBooksWorld.loopback), pause: pause)
    }

    /// An integration whose Web Connector has made its first run (the company recorded, its lists read) and whose
    /// codes are mapped: ready for billing's records.
    func connected() async throws -> (id: String, webConnector: WebConnector) {
        let (id, password) = try await createIntegration()
        let webConnector = try await self.webConnector(id, password: password)
        let first = try await webConnector.run()
        #expect(first.percents.last == 100, "\(first)")
        try await map(id)
        return (id, webConnector)
    }

    /// Billing's codes mapped to the company's lists, checked against what the first run read.
    func map(_ integrationID: String) async throws {
        let saved = try await api(
            "PUT", "/integrations/\(integrationID)/mappings",
            [
                "items": ["*": .string(lists.tuition), "BUS": .string(lists.transport)],
                "tax_codes": ["TAX": .string(lists.taxable), "NON": .string(lists.nonTaxable)],
                "deposit_accounts": ["BANK-MAIN": .string(lists.bank)],
            ])
        #expect(saved.status == 200, "\(saved.json)")
        #expect(saved.json["validated"] == true, "\(saved.json)")
    }

    /// Waits (in real time: the workers run in the background) until `done` holds.
    func eventually(
        _ what: String, timeout: Duration = .seconds(20), sourceLocation: SourceLocation = #_sourceLocation,
        _ done: () async throws -> Bool
    ) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await done() { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        Issue.record("still not so after \(timeout): \(what)", sourceLocation: sourceLocation)
    }

    /// Handles every change heard from QuickBooks that is still waiting (the background workers may be at it too):
    /// afterwards, what billing is told of them is told.
    func handleChangesHeard() async throws {
        while try await runner.processLedgerChanges() > 0 {}
    }

    func job(_ type: String, _ localID: String) async throws -> Job? {
        try await components.database.jobs(page: PageRequest(limit: 500)).items.first {
            $0.recordType == type && $0.localID == localID
        }
    }

    // MARK: Billing's records (a US school)

    static func customer(_ id: String, name: String) -> JSONValue {
        [
            "id": .string(id), "name": .string(name), "email": .string("\(id)@families.example"), "currency": "USD",
            "billing_address": [
                "line1": "12 Elm Street", "city": "Springfield", "region": "IL", "postal_code": "62701",
                "country": "US",
            ],
            "updated_at": .string(Timestamp.now().rfc3339),
        ]
    }

    /// Tuition (taxable at the company's 8.25 %) and a discounted bus line (not taxable): 4,900.00 + 371.25 tax.
    static func invoice(_ id: String, number: String, customer: String) -> JSONValue {
        [
            "id": .string(id), "number": .string(number), "customer_id": .string(customer), "currency": "USD",
            "issue_date": "2026-11-03", "due_date": "2026-11-17",
            "lines": [
                [
                    "id": "line_1", "description": "Term 2 tuition", "quantity": 1, "unit_amount": "4500.00",
                    "amount": "4500.00", "revenue_account": "4000-TUITION", "tax_code": "TAX",
                    "tax_amount": "371.25",
                ],
                [
                    "id": "line_2", "description": "School bus", "course_id": "BUS", "quantity": 3,
                    "unit_amount": "150.00", "discount_amount": "50.00", "amount": "400.00",
                    "revenue_account": "4100-TRANSPORT", "tax_code": "NON", "tax_amount": "0.00",
                ],
            ],
            "subtotal": "4900.00", "tax_total": "371.25", "total": "5271.25",
            "updated_at": .string(Timestamp.now().rfc3339),
        ]
    }
}
