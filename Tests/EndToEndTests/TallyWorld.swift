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
import TestSupport
import Testing

/// Ledgerwire and the Tally emulator, both on loopback: billing's webhooks and the admin API go to Ledgerwire over
/// HTTP, Ledgerwire's Tally connector posts XML to the emulator's port, which a test can close ("Tally not running").
/// The school's company is in Karnataka and keeps the ledgers a school's accountant would have made.
struct TallyWorld: PipelineWorld {
    static let company = "Vidya Vikas School"

    let sandbox: TallySandbox
    let components: Components
    let ledgerwire: String
    let tally: String
    let engine: SyncEngine
    let runner: SyncOperationRunner
    let clock: OffsetClock
    let signer = Signer()
    let transport = HTTPClientTransport(policy: QuickBooksWorld.loopback)
    let exchanges: Exchanges

    /// Runs `body` with Ledgerwire and a Tally (`version`) up; afterwards, Tally never had two requests at once.
    /// `retry`: the workers' waits (short ones by default, so a test's clock need not move far).
    static func run(
        version: TallySandbox.Version = .prime, retry: RetryStrategy? = nil,
        _ body: @Sendable (TallyWorld) async throws -> Void
    ) async throws {
        let sandbox = TallySandbox(version: version)
        await sandbox.addCompany(company, stateName: "Karnataka")
        try await seedLedgers(sandbox)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await sandbox.run(port: 0) }
            let port = await sandbox.port()
            let exchanges = Exchanges(HTTPClientTransport(policy: QuickBooksWorld.loopback))
            try await Pipeline.run(
                connectors: [TallyConnector()], transport: exchanges, retry: retry ?? Pipeline.quickRetry
            ) { pipeline in
                let world = TallyWorld(
                    sandbox: sandbox, components: pipeline.components, ledgerwire: pipeline.ledgerwire,
                    tally: "http://127.0.0.1:\(port)", engine: pipeline.engine, runner: pipeline.runner,
                    clock: pipeline.clock, exchanges: exchanges)
                _ = try await world.api(
                    "POST", "/webhook-sources", ["source": "billing", "secret": .string(world.signer.secret)])
                try await body(world)
                try await world.expectEventsKeepTheContract()
                #expect(await sandbox.overlappingRequests == 0, "Tally was sent a request while answering another")
                #expect(await sandbox.mostInFlight <= 1)
            }
            tasks.cancelAll()
        }
    }

    /// The ledgers the school's accountant made: income, GST at 18 % (9 + 9, or 18 integrated) and 5 %, the bank,
    /// round-off.
    static func seedLedgers(_ sandbox: TallySandbox) async throws {
        func duty(_ head: String, _ rate: String) -> [TallyElement] {
            [.leaf("TAXTYPE", "GST"), .leaf("GSTDUTYHEAD", head), .leaf("RATEOFTAXCALCULATION", rate)]
        }
        let ledgers: [(String, String, [TallyElement])] = [
            ("Tuition Fees", "Sales Accounts", []), ("Transport Fees", "Sales Accounts", []),
            ("Output CGST 9%", "Duties & Taxes", duty("Central Tax", "9")),
            ("Output SGST 9%", "Duties & Taxes", duty("State Tax", "9")),
            ("Output IGST 18%", "Duties & Taxes", duty("Integrated Tax", "18")),
            ("HDFC Bank", "Bank Accounts", []), ("Round Off", "Indirect Expenses", []),
        ]
        for (name, parent, fields) in ledgers {
            try await sandbox.createLedger(company: company, name: name, parent: parent, fields: fields)
        }
    }

    /// A Tally integration of the school, checked (connected when the company is loaded).
    @discardableResult
    func connect(
        encoding: TallyEncoding = .utf8, version: TallySandbox.Version = .prime, url: String? = nil
    ) async throws -> String {
        let id = try await createIntegration(encoding: encoding, version: version, url: url)
        let checked = try await api("POST", "/integrations/\(id)/connect-check")
        #expect(checked.json["status"]?.stringValue == "connected", "\(checked.json)")
        return id
    }

    /// A Tally integration of the school, not checked yet.
    func createIntegration(
        encoding: TallyEncoding = .utf8, version: TallySandbox.Version = .prime, url: String? = nil,
        connection: String = "direct"
    ) async throws -> String {
        let created = try await api(
            "POST", "/integrations",
            [
                "tenant_id": .string(Self.tenant), "platform": "tally", "name": "Vidya Tally",
                "settings": [
                    "url": .string(url ?? tally), "company": .string(Self.company),
                    "version": .string(version.rawValue), "encoding": .string(encoding.rawValue),
                    "state": "Karnataka", "connection": .string(connection),
                ],
                "sync": ["interval_seconds": 300, "conflict_policy": "last_modified_wins"],
            ])
        return try #require(created.json["id"]?.stringValue, "\(created.json)")
    }

    /// Billing's codes mapped to the school's ledgers, from the suggestions `remote-accounts` makes.
    func map(_ integrationID: String) async throws {
        let chart = try await api("GET", "/integrations/\(integrationID)/remote-accounts?codes=GST18")
        #expect(chart.status == 200, "\(chart.json)")
        let gst = try #require(chart.json["suggested_mappings"]?["tax_codes"]?["GST18"], "\(chart.json)")
        #expect(
            gst == ["cgst": "Output CGST 9%", "sgst": "Output SGST 9%", "igst": "Output IGST 18%"],
            "GST 18 % is suggested as its three ledgers")
        let saved = try await api(
            "PUT", "/integrations/\(integrationID)/mappings",
            [
                "accounts": ["4000-TUITION": "Tuition Fees", "4100-TRANSPORT": "Transport Fees"],
                "tax_codes": ["GST18": gst, "EXEMPT": [:]], "deposit_accounts": ["BANK-MAIN": "HDFC Bank"],
            ])
        #expect(saved.status == 200, "\(saved.json)")
        #expect(saved.json["validated"] == true, "\(saved.json)")
    }

    // MARK: Billing's records

    static func customer(_ id: String, name: String, state: String?, gstin: String? = nil) -> JSONValue {
        var data: [String: JSONValue] = [
            "id": .string(id), "name": .string(name), "email": .string("\(id)@families.example"),
            "updated_at": "2026-04-01T09:00:00Z",
        ]
        if let state {
            data["billing_address"] = [
                "line1": "12 MG Road", "city": "Bengaluru", "region": .string(state), "postal_code": "560001",
                "country": "IN",
            ]
        }
        if let gstin { data["tax_id"] = .string(gstin) }
        return .object(data)
    }

    /// A tuition invoice taxed at 18 % (and a tax-free transport line when `transport` is given).
    static func invoice(
        _ id: String, number: String, customer: String, tuition: String, tax: String, transport: String? = nil,
        total: String
    ) -> JSONValue {
        var lines: [JSONValue] = [
            [
                "id": "l1", "description": "Term 1 tuition", "quantity": 1, "unit_amount": .string(tuition),
                "amount": .string(tuition), "revenue_account": "4000-TUITION", "tax_code": "GST18",
                "tax_amount": .string(tax),
            ]
        ]
        var subtotal = try! Money(parsing: tuition, currency: Currency(code: "INR")!)
        if let transport {
            lines.append(
                [
                    "id": "l2", "description": "School bus", "quantity": 1, "unit_amount": .string(transport),
                    "amount": .string(transport), "revenue_account": "4100-TRANSPORT", "tax_code": "EXEMPT",
                    "tax_amount": "0.00",
                ])
            subtotal = subtotal.adding(try! Money(parsing: transport, currency: subtotal.currency))!
        }
        return [
            "id": .string(id), "number": .string(number), "customer_id": .string(customer), "currency": "INR",
            "issue_date": "2026-04-03", "due_date": "2026-04-30", "lines": .array(lines),
            "subtotal": .string(subtotal.decimalString), "tax_total": .string(tax), "total": .string(total),
            "updated_at": "2026-04-03T09:00:00Z",
        ]
    }

    /// No job failed, died or waits: every record is in the books.
    func expectEveryJobSucceeded(sourceLocation: SourceLocation = #_sourceLocation) async throws {
        for status in Job.Status.allCases where status != .succeeded {
            let jobs = try await components.database.jobs(status: status, page: PageRequest(limit: 50)).items
            #expect(
                jobs.isEmpty, "\(status.rawValue): \(jobs.map { "\($0.localID) \($0.lastError?.message ?? "")" })",
                sourceLocation: sourceLocation)
        }
    }

    func vouchers() async -> [TallyVoucher] { await sandbox.vouchers(company: Self.company) }

    func voucher(number: String) async throws -> TallyVoucher {
        let matching = await vouchers().filter { $0.number == number }
        #expect(matching.count == 1, "vouchers numbered \(number): \(matching.count)")
        return try #require(matching.first)
    }

    func ledger(_ name: String) async -> TallyLedger? {
        await sandbox.ledgers(company: Self.company).first { $0.name == name }
    }
}
