import Accounting
import App
import Connectors
import Foundation
import Persistence
import Sandbox
import SyncEngine
import Synchronization
import Testing

/// `GET /integrations/{id}/exports?format=tally-xml`, end to end: the file a school downloads while Ledgerwire cannot
/// reach its Tally, loaded by hand into Tally, makes the same books as the connector would have, and the connector's
/// own writes afterwards alter those vouchers instead of duplicating them.
@Suite struct TallyExportTests {
    /// The school's billing while Tally is away: two families (one in Karnataka, one registered in Maharashtra), an
    /// intra-state and an inter-state invoice, a part payment, a credit note.
    static func billTheTerm(_ world: TallyWorld, drainEachStep: Bool) async throws {
        func step() async throws { if drainEachStep { try await world.drain() } }
        try await world.bill("customer.created", TallyWorld.customer("cus_a", name: "Asha Rao", state: "KA"))
        try await world.bill(
            "customer.created",
            TallyWorld.customer("cus_b", name: "Ravi Kumar", state: "Maharashtra", gstin: "27AAPFU0939F1ZV"))
        try await step()
        try await world.bill(
            "invoice.issued",
            TallyWorld.invoice(
                "inv_1", number: "INV-1", customer: "cus_a", tuition: "1000.05", tax: "180.01", transport: "500.00",
                total: "1680.06"))
        try await world.bill(
            "invoice.issued",
            TallyWorld.invoice(
                "inv_2", number: "INV-2", customer: "cus_b", tuition: "2000.00", tax: "360.00", total: "2360.00"))
        try await step()
        try await world.bill(
            "payment.received", XeroWorld.payment("pay_1", invoice: "inv_1", amount: "500.00", customer: "cus_a"))
        try await world.bill(
            "credit_note.issued",
            XeroWorld.creditNote("cn_1", number: "CN-1", invoice: "inv_2", amount: "180.00", customer: "cus_b"))
        try await step()
    }

    @Test(arguments: [(TallySandbox.Version.prime, TallyEncoding.utf8), (.erp9, .utf16)])
    func theExportImportsIntoAFreshCompanyAsTheConnectorsVouchersAndLaterWritesAlterThem(
        version: TallySandbox.Version, encoding: TallyEncoding
    ) async throws {
        // The books the connector makes when Tally is there all along.
        let reference = Mutex<TallyBooks?>(nil)
        try await TallyWorld.run(version: version) { world in
            let integration = try await world.connect(encoding: encoding, version: version)
            try await world.map(integration)
            try await Self.billTheTerm(world, drainEachStep: true)
            try await world.expectEveryJobSucceeded()
            let books = await TallyBooks(world.sandbox)
            reference.withLock { $0 = books }
        }
        let expected = try #require(reference.withLock { $0 })
        #expect(expected.vouchers.count == 4, "\(expected.vouchers)")

        try await TallyWorld.run(version: version) { world in
            let integration = try await world.connect(encoding: encoding, version: version)
            try await world.map(integration)
            await world.sandbox.stopListening()
            try await Self.billTheTerm(world, drainEachStep: false)
            for _ in 0..<3 {
                _ = try await world.engine.runDueJobs()
                if let due = try await world.engine.nextJobDue() { world.clock.advance(to: due) }
            }
            #expect(
                try await world.components.database.jobs(status: .succeeded, page: PageRequest(limit: 10)).items.isEmpty
            )

            let file = try await Self.download(world, integration)
            #expect(file.status == 200)
            #expect(Self.header(file, "Content-Type") == encoding.contentType, "\(file.headers)")
            #expect(Self.header(file, "Ledgerwire-Left-Out") == nil, "\(file.headers)")
            let written = try Self.objects(in: file.body)
            #expect(written == ["LEDGER": 2, "VOUCHER": 4], "\(written)")

            // A fresh company with only the school's chart takes the file as it is, without an error.
            let (freshResult, loaded) = try await Self.loadIntoAFreshCompany(file, version: version, world)
            #expect(freshResult["ERRORS"] == "0" && freshResult["CREATED"] == "6", "\(freshResult)")
            #expect(loaded.ledgers == expected.ledgers)
            #expect(loaded.vouchers == expected.vouchers)

            // The school's own Tally comes back with the file loaded by hand; the jobs then run, and alter.
            await world.sandbox.startListening()
            let result = try await Self.load(file, into: world.tally, world)
            #expect(result["ERRORS"] == "0" && result["CREATED"] == "6", "\(result)")
            try await world.drain()
            try await world.expectEveryJobSucceeded()
            let after = await TallyBooks(world.sandbox)
            #expect(after.vouchers == expected.vouchers, "no voucher duplicated, each as the connector makes it")
            #expect(after.ledgers == expected.ledgers)
            #expect(Set(await world.vouchers().map(\.guid)).count == 4)
            #expect(await world.sandbox.overlappingRequests == 0)
        }
    }

    @Test func anInvoiceIssuedAndVoidedWhileTallyIsAwayIsACancelledVoucherInTheFile() async throws {
        let reference = Mutex<TallyBooks?>(nil)
        try await TallyWorld.run { world in
            let integration = try await world.connect()
            try await world.map(integration)
            await world.sandbox.stopListening()
            try await Self.billAndVoid(world)
            await world.sandbox.startListening()
            try await world.drain()
            try await world.expectEveryJobSucceeded()
            let books = await TallyBooks(world.sandbox)
            reference.withLock { $0 = books }
        }
        let expected = try #require(reference.withLock { $0 })
        try await TallyWorld.run { world in
            let integration = try await world.connect()
            try await world.map(integration)
            await world.sandbox.stopListening()
            try await Self.billAndVoid(world)
            let file = try await Self.download(world, integration)
            #expect(Self.header(file, "Ledgerwire-Left-Out") == nil, "\(file.headers)")
            let (freshResult, loaded) = try await Self.loadIntoAFreshCompany(file, version: .prime, world)
            #expect(freshResult["ERRORS"] == "0", "\(freshResult)")
            #expect(loaded.vouchers == expected.vouchers)
            #expect(loaded.ledgers == expected.ledgers)

            // Loaded into the school's Tally, then the jobs run: still one voucher, cancelled.
            await world.sandbox.startListening()
            let result = try await Self.load(file, into: world.tally, world)
            #expect(result["ERRORS"] == "0" && result["CANCELLED"] == "1", "\(result)")
            try await world.drain()
            try await world.expectEveryJobSucceeded()
            let after = await TallyBooks(world.sandbox)
            #expect(after.vouchers == expected.vouchers)
            #expect(after.ledgers == expected.ledgers)
        }
    }

    @Test func twoFamiliesOfOneNameAreTwoLedgersInTheFileAsTheConnectorNamesThem() async throws {
        let reference = Mutex<TallyBooks?>(nil)
        try await TallyWorld.run { world in
            let integration = try await world.connect()
            try await world.map(integration)
            try await Self.billTwoOfOneName(world, drainEach: true)
            try await world.expectEveryJobSucceeded()
            let books = await TallyBooks(world.sandbox)
            reference.withLock { $0 = books }
        }
        let expected = try #require(reference.withLock { $0 })
        #expect(expected.ledgers.filter { $0.name.hasPrefix("Asha Rao") }.count == 2, "\(expected.ledgers)")
        try await TallyWorld.run { world in
            let integration = try await world.connect()
            try await world.map(integration)
            await world.sandbox.stopListening()
            try await Self.billTwoOfOneName(world)
            let file = try await Self.download(world, integration)
            let (freshResult, loaded) = try await Self.loadIntoAFreshCompany(file, version: .prime, world)
            #expect(freshResult["ERRORS"] == "0", "\(freshResult)")
            #expect(loaded.ledgers == expected.ledgers)
            #expect(loaded.vouchers == expected.vouchers)
        }
    }

    /// A family already in Tally under a name set apart from another family's keeps that name in the file: its
    /// later invoice names its own ledger, and a change billing made to the family alters that ledger, not the other.
    /// Loaded into the company, the file lands on the right ledgers.
    @Test func aLaterInvoiceOfTheFamilyNamedApartNamesItsOwnLedger() async throws {
        try await TallyWorld.run { world in
            let integration = try await world.connect()
            try await world.map(integration)
            for id in ["cus_a", "cus_b"] {
                try await world.bill("customer.created", TallyWorld.customer(id, name: "Asha Rao", state: "KA"))
                try await world.drain()
            }
            let apart = "Asha Rao (cus_b@families.example)"
            #expect(await world.ledger(apart) != nil, "the connector's name for cus_b")
            await world.sandbox.stopListening()
            try await world.bill(
                "invoice.issued",
                TallyWorld.invoice(
                    "inv_2", number: "INV-2", customer: "cus_b", tuition: "1000.00", tax: "180.00", total: "1180.00"))
            let onlyTheInvoice = TallyEncoding.utf8.decode(try await Self.download(world, integration).body) ?? ""
            #expect(onlyTheInvoice.contains("<PARTYLEDGERNAME>\(apart)</PARTYLEDGERNAME>"))
            #expect(!onlyTheInvoice.contains("<PARTYLEDGERNAME>Asha Rao</PARTYLEDGERNAME>"))

            var moved = TallyWorld.customer("cus_b", name: "Asha Rao", state: "KA").objectValue ?? [:]
            var address = moved["billing_address"]?.objectValue ?? [:]
            address["line1"] = "40 Residency Road"
            moved["billing_address"] = .object(address)
            moved["updated_at"] = "2026-04-02T09:00:00Z"
            try await world.bill("customer.updated", .object(moved))
            let file = try await Self.download(world, integration)
            let text = TallyEncoding.utf8.decode(file.body) ?? ""
            #expect(text.contains("<NAME>\(apart)</NAME>"), "the ledger keeps its name")
            #expect(text.contains("<PARTYLEDGERNAME>\(apart)</PARTYLEDGERNAME>"))

            await world.sandbox.startListening()
            _ = try await Self.load(file, into: world.tally, world)
            func street(_ name: String) async -> String? {
                let ledger = await world.ledger(name)
                return ledger?.fields.first { $0.name == "ADDRESS.LIST" }?.child("ADDRESS")?.text
            }
            #expect(await street(apart) == "40 Residency Road")
            #expect(await street("Asha Rao") == "12 MG Road", "the other family's ledger is untouched")
            #expect(try await world.voucher(number: "INV-2").entries.first { $0.isPartyLedger }?.ledger == apart)
        }
    }

    static func billTwoOfOneName(_ world: TallyWorld, drainEach: Bool = false) async throws {
        for id in ["cus_a", "cus_b"] {
            try await world.bill("customer.created", TallyWorld.customer(id, name: "Asha Rao", state: "KA"))
            if drainEach { try await world.drain() }
        }
        for (id, number, customer) in [("inv_1", "INV-1", "cus_a"), ("inv_2", "INV-2", "cus_b")] {
            try await world.bill(
                "invoice.issued",
                TallyWorld.invoice(
                    id, number: number, customer: customer, tuition: "1000.00", tax: "180.00", total: "1180.00"))
        }
        if drainEach { try await world.drain() }
    }

    static func billAndVoid(_ world: TallyWorld) async throws {
        try await world.bill("customer.created", TallyWorld.customer("cus_a", name: "Asha Rao", state: "KA"))
        try await world.bill(
            "invoice.issued",
            TallyWorld.invoice(
                "inv_1", number: "INV-1", customer: "cus_a", tuition: "1000.00", tax: "180.00", total: "1180.00"))
        try await world.bill(
            "invoice.voided",
            ["id": "inv_1", "number": "INV-1", "reason": "Issued in error", "updated_at": "2026-04-05T09:00:00Z"])
        for _ in 0..<3 {
            _ = try await world.engine.runDueJobs()
            if let due = try await world.engine.nextJobDue() { world.clock.advance(to: due) }
        }
    }

    @Test func theExportChecksItsFormatItsCallerAndItsWindowAndIsAudited() async throws {
        try await TallyWorld.run { world in
            let integration = try await world.connect()
            try await world.map(integration)
            try await world.bill("customer.created", TallyWorld.customer("cus_a", name: "Asha Rao", state: "KA"))
            try await world.bill(
                "invoice.issued",
                TallyWorld.invoice(
                    "inv_1", number: "INV-1", customer: "cus_a", tuition: "1000.00", tax: "180.00", total: "1180.00"))
            try await world.drain()

            // Everything is in Tally: the file of what is not has nothing in it; `since` takes what changed since.
            #expect(try Self.objects(in: try await Self.download(world, integration).body).isEmpty)
            let all = try await Self.download(world, integration, "&since=2000-01-01T00:00:00Z")
            #expect(try Self.objects(in: all.body) == ["LEDGER": 1, "VOUCHER": 1])
            let none = try await Self.download(world, integration, "&since=2100-01-01T00:00:00Z")
            #expect(try Self.objects(in: none.body).isEmpty)
            try await world.bill(
                "invoice.issued",
                TallyWorld.invoice(
                    "inv_2", number: "INV-2", customer: "cus_a", tuition: "1000.00", tax: "180.00", total: "1180.00"))
            let pending = try await Self.download(world, integration)
            #expect(try Self.objects(in: pending.body) == ["VOUCHER": 1])
            #expect(Self.header(pending, "Ledgerwire-Left-Out") == nil)
            // A record the file cannot hold (a revenue code mapped to no ledger) is left out, and the header says why.
            try await world.bill(
                "invoice.issued",
                [
                    "id": "inv_3", "number": "INV-3", "customer_id": "cus_a", "currency": "INR",
                    "issue_date": "2026-04-03", "due_date": "2026-04-30",
                    "lines": [
                        [
                            "id": "l1", "description": "Library", "quantity": 1, "unit_amount": "100.00",
                            "amount": "100.00", "revenue_account": "4900-LIBRARY", "tax_code": "EXEMPT",
                            "tax_amount": "0.00",
                        ]
                    ],
                    "subtotal": "100.00", "tax_total": "0.00", "total": "100.00",
                    "updated_at": "2026-04-03T09:00:00Z",
                ])
            let partial = try await Self.download(world, integration)
            #expect(try Self.objects(in: partial.body) == ["VOUCHER": 1])
            let leftOut = Self.header(partial, "Ledgerwire-Left-Out") ?? ""
            #expect(leftOut.hasPrefix("inv_3: ") && leftOut.contains("4900-LIBRARY"), "\(leftOut)")
            let badSince = try await world.api("GET", "/integrations/\(integration)/exports?format=tally-xml&since=May")
            #expect(badSince.status == 422 && Self.fields(badSince) == ["since"], "\(badSince.json)")

            let wrong = try await world.api("GET", "/integrations/\(integration)/exports?format=csv")
            #expect(wrong.status == 422 && Self.fields(wrong) == ["format"], "\(wrong.json)")
            let missing = try await world.api("GET", "/integrations/\(integration)/exports")
            #expect(missing.status == 422 && Self.fields(missing) == ["format"], "\(missing.json)")
            let xero = try await world.api(
                "POST", "/integrations", ["tenant_id": .string(TallyWorld.tenant), "platform": "xero", "name": "Xero"])
            let xeroID = try #require(xero.json["id"]?.stringValue, "\(xero.json)")
            let notTally = try await world.api("GET", "/integrations/\(xeroID)/exports?format=tally-xml")
            #expect(notTally.status == 422 && Self.fields(notTally) == ["format"], "\(notTally.json)")

            let key = try await world.api("POST", "/api-keys", ["name": "viewer", "role": "viewer"])
            let viewer = try #require(key.json["token"]?.stringValue, "\(key.json)")
            let refused = try await world.call(
                "GET", world.ledgerwire + "/api/v1/integrations/\(integration)/exports?format=tally-xml", token: viewer)
            #expect(refused.status == 403)

            // Every download is audited, with what it held; refusals are not downloads.
            let audit = try await world.api("GET", "/audit?integration_id=\(integration)")
            let exported = (audit.json["items"]?.arrayValue ?? []).filter {
                $0["action"]?.stringValue == "integration.exported"
            }
            #expect(exported.count == 5, "\(audit.json)")
        }
    }

    // MARK: Helpers

    /// The file as downloaded, bytes untouched.
    static func download(_ world: TallyWorld, _ integration: String, _ query: String = "") async throws
        -> TransportResponse
    {
        try await world.transport.send(
            TransportRequest(
                method: "GET",
                url: URL(
                    string: world.ledgerwire + "/api/v1/integrations/\(integration)/exports?format=tally-xml" + query)!,
                headers: [("Authorization", "Bearer \(TallyWorld.adminToken)")], body: nil))
    }

    /// A fresh company with only the school's chart (`TallyWorld.seedLedgers`) in a Tally of its own: the file posted
    /// to it as it is; its IMPORTRESULT and the books it then holds.
    static func loadIntoAFreshCompany(_ file: TransportResponse, version: TallySandbox.Version, _ world: TallyWorld)
        async throws -> ([String: String], TallyBooks)
    {
        let fresh = TallySandbox(version: version)
        await fresh.addCompany(TallyWorld.company, stateName: "Karnataka")
        try await TallyWorld.seedLedgers(fresh)
        let result = try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await fresh.run(port: 0) }
            let port = await fresh.port()
            defer { tasks.cancelAll() }
            return try await load(file, into: "http://127.0.0.1:\(port)", world)
        }
        return (result, await TallyBooks(fresh))
    }

    /// The file posted as it is to the Tally at `url`, as Tally's XML server takes an import; its IMPORTRESULT.
    static func load(_ file: TransportResponse, into url: String, _ world: TallyWorld) async throws -> [String: String]
    {
        let answer = try await world.transport.send(
            TransportRequest(
                method: "POST", url: URL(string: url + "/")!,
                headers: [("Content-Type", header(file, "Content-Type") ?? "")], body: file.body))
        let encoding = TallyEncoding.of(answer.body, contentType: header(answer, "Content-Type"))
        let root = try TallyXML.parse(answer.body, encoding: encoding)
        // TallyPrime answers `ENVELOPE/…/IMPORTRESULT`; Tally.ERP 9 `RESPONSE` with the counters in it.
        var lineErrors: [String] = []
        func collect(_ element: TallyElement) {
            if element.name == "LINEERROR" { lineErrors.append(element.text) }
            element.children.forEach(collect)
        }
        collect(root)
        #expect(lineErrors.isEmpty, "\(lineErrors)")
        let result = root.descendant("IMPORTRESULT") ?? root
        return Dictionary(result.children.map { ($0.name, $0.text) }) { first, _ in first }
    }

    /// How many objects of each kind the import file holds.
    static func objects(in file: Data) throws -> [String: Int] {
        let root = try TallyXML.parse(file, encoding: TallyEncoding.of(file, contentType: nil))
        var counts: [String: Int] = [:]
        func count(_ element: TallyElement) {
            if element.name == "TALLYMESSAGE" {
                for object in element.children { counts[object.name, default: 0] += 1 }
            } else {
                element.children.forEach(count)
            }
        }
        count(root)
        return counts
    }

    static func header(_ response: TransportResponse, _ name: String) -> String? {
        response.headers.first { $0.key.lowercased() == name.lowercased() }?.value
    }

    static func fields(_ answer: WorldAnswer) -> [String] {
        (answer.json["errors"]?.arrayValue ?? []).compactMap { $0["field"]?.stringValue }
    }
}

/// A company's books as a person compares them: every ledger with what it was made with and its balance, every
/// voucher entry for entry, with its bills. Tally's own numbering (MASTERID, ALTERID, a ledger's GUID) is left out: it
/// counts the order things arrived in, not what they are.
struct TallyBooks: Sendable, Equatable {
    struct Ledger: Sendable, Hashable {
        let name: String
        let parent: String
        let remoteID: String?
        let fields: [TallyElement]
        let closingBalance: String
    }

    struct Voucher: Sendable, Hashable {
        let guid: String
        let type: String
        let number: String
        let date: Int
        let party: String?
        let narration: String
        let reference: String
        let placeOfSupply: String?
        let isCancelled: Bool
        let entries: [TallyEntry]
    }

    let ledgers: [Ledger]
    let vouchers: [Voucher]

    init(_ sandbox: TallySandbox) async {
        ledgers = await sandbox.ledgers(company: TallyWorld.company).map {
            Ledger(
                name: $0.name, parent: $0.parent, remoteID: $0.remoteID, fields: $0.fields,
                closingBalance: "\($0.closingBalance)")
        }.sorted { $0.name < $1.name }
        vouchers = await sandbox.vouchers(company: TallyWorld.company).map {
            Voucher(
                guid: $0.guid, type: $0.type, number: $0.number, date: $0.date, party: $0.partyLedger,
                narration: $0.narration, reference: $0.reference, placeOfSupply: $0.placeOfSupply,
                isCancelled: $0.isCancelled, entries: $0.entries)
        }.sorted { $0.guid < $1.guid }
    }
}
