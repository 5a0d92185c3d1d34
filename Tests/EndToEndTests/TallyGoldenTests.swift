import Accounting
import Connectors
import Foundation
import Sandbox
import Synchronization
import Testing

/// Golden files of exactly what Ledgerwire sends Tally and what Tally answers (`tally/<dialect>/`, described in
/// `tally/README.md`): the real pipeline (billing's webhooks, the jobs, the connector) drives the emulator on loopback,
/// one billing record at a time, and the world's `Exchanges` transport keeps every request and answer. Each is
/// compared, after `GoldenExchange.normalised`, with its file; `LEDGERWIRE_REGENERATE_GOLDEN=1` rewrites the files.
@Suite struct TallyGoldenTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../tally").standardized
    static let regenerate = ProcessInfo.processInfo.environment["LEDGERWIRE_REGENERATE_GOLDEN"] == "1"

    @Test(arguments: [
        (TallySandbox.Version.prime, TallyEncoding.utf8, "prime-utf8"),
        (TallySandbox.Version.erp9, TallyEncoding.utf16, "erp9-utf16"),
    ])
    func whatLedgerwireSendsTallyAndTallyAnswersMatchTheGoldenFiles(
        version: TallySandbox.Version, encoding: TallyEncoding, dialect: String
    ) async throws {
        try await TallyWorld.run(version: version) { world in
            let guid = try #require(await world.sandbox.company(TallyWorld.company)?.guid)
            let steps = GoldenSteps(world: world)
            let integration = try await steps.step("company-list") {
                try await world.connect(encoding: encoding, version: version)
            }
            try await steps.step("chart") { try await world.map(integration) }
            try await steps.step("first-poll") { try await world.poll(integration) }
            try await steps.bill(
                "customer-ledger", "customer.created", TallyWorld.customer("cus_a", name: "Asha Rao", state: "KA"))
            try await steps.bill(
                "customer-ledger-registered", "customer.created",
                TallyWorld.customer("cus_b", name: "Ravi Kumar", state: "Maharashtra", gstin: "27AAPFU0939F1ZV"))
            // A name in Devanagari: in the UTF-16 files, the bytes of each character as Tally.ERP 9 takes them.
            try await steps.bill(
                "customer-ledger-devanagari", "customer.created",
                TallyWorld.customer("cus_c", name: "अनन्या शर्मा", state: "KA"))
            try await steps.bill(
                "sales-intra-state", "invoice.issued",
                TallyWorld.invoice(
                    "inv_1", number: "INV-1", customer: "cus_a", tuition: "1000.05", tax: "180.01", transport: "500.00",
                    total: "1680.06"))
            try await steps.bill(
                "sales-inter-state", "invoice.issued",
                TallyWorld.invoice(
                    "inv_2", number: "INV-2", customer: "cus_b", tuition: "2000.00", tax: "360.00", total: "2360.00"))
            try await steps.bill(
                "sales-to-void", "invoice.issued",
                TallyWorld.invoice(
                    "inv_3", number: "INV-3", customer: "cus_a", tuition: "1000.00", tax: "180.00", total: "1180.00"))
            try await steps.bill(
                "receipt", "payment.received",
                XeroWorld.payment("pay_1", invoice: "inv_1", amount: "500.00", customer: "cus_a"))
            try await steps.bill(
                "credit-note", "credit_note.issued",
                XeroWorld.creditNote("cn_1", number: "CN-1", invoice: "inv_2", amount: "180.00", customer: "cus_b"))
            try await steps.bill(
                "payment-refund", "refund.issued",
                XeroWorld.refund("ref_1", creditNote: "cn_1", amount: "180.00", customer: "cus_b"))
            try await steps.bill(
                "void-cancellation", "invoice.voided",
                [
                    "id": "inv_3", "number": "INV-3", "reason": "Issued in error",
                    "updated_at": "2026-11-25T09:00:00Z",
                ])
            try await steps.step("poll") { try await world.poll(integration) }
            try await world.expectEveryJobSucceeded()

            let named = steps.named()
            #expect(!named.isEmpty)
            let folder = Self.directory.appendingPathComponent(dialect)
            if Self.regenerate {
                try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
                for file in try FileManager.default.contentsOfDirectory(atPath: folder.path)
                where file.hasSuffix(".xml") {
                    try FileManager.default.removeItem(at: folder.appendingPathComponent(file))
                }
            }
            var expected: Set<String> = []
            for (name, exchange) in named {
                for (suffix, bytes, sent) in [
                    ("request", exchange.request, true), ("answer", exchange.answer, false),
                ] {
                    let file = "\(name).\(suffix).xml"
                    expected.insert(file)
                    let golden = try #require(
                        GoldenExchange.normalised(bytes, encoding: encoding, companyGUID: guid),
                        "\(dialect)/\(file): the \(sent ? "request" : "answer") is not \(encoding.rawValue) text")
                    let url = folder.appendingPathComponent(file)
                    if Self.regenerate {
                        try golden.write(to: url)
                    } else {
                        Self.compare(golden, with: url, encoding: encoding, file: "tally/\(dialect)/\(file)")
                    }
                }
                #expect(
                    exchange.contentType == encoding.contentType,
                    "\(dialect)/\(name): sent as \(exchange.contentType ?? "no Content-Type")")
            }
            let kept = Set(
                try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".xml") })
            let stale = kept.subtracting(expected).sorted()
            #expect(
                stale.isEmpty,
                "tally/\(dialect): files no exchange made today: \(stale) (LEDGERWIRE_REGENERATE_GOLDEN=1)")
        }
    }

    /// Fails naming the file and its first line that differs, XML broken into a line per tag (`GoldenExchange.lines`).
    static func compare(_ actual: Data, with url: URL, encoding: TallyEncoding, file: String) {
        guard let stored = try? Data(contentsOf: url) else {
            Issue.record("\(file) is missing (LEDGERWIRE_REGENERATE_GOLDEN=1 writes it)")
            return
        }
        guard stored != actual else { return }
        let want = GoldenExchange.lines(encoding.decode(stored) ?? "")
        let got = GoldenExchange.lines(encoding.decode(actual) ?? "")
        let line =
            zip(want, got).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(want.count, got.count)
        let expected = line < want.count ? want[line] : "(end of file)"
        let found = line < got.count ? got[line] : "(end of file)"
        Issue.record(
            "\(file) differs first at line \(line + 1) (a line per tag): the file has \(expected), today's is \(found)")
    }
}

/// The test's steps: each runs, then drains the jobs, and the exchanges with Tally it made are named after it.
final class GoldenSteps: Sendable {
    let world: TallyWorld
    private let taken = Mutex<[(name: String, exchanges: [GoldenExchange])]>([])
    private let seen = Mutex(0)

    init(world: TallyWorld) { self.world = world }

    @discardableResult
    func step<T>(_ name: String, _ body: () async throws -> T) async throws -> T {
        let value = try await body()
        try await world.drain()
        let all = world.exchanges.all
        let start = seen.withLock { count in
            defer { count = all.count }
            return count
        }
        let made = all[start...].compactMap { request, response -> GoldenExchange? in
            guard request.url.absoluteString.hasPrefix(world.tally), let body = request.body, let response else {
                return nil
            }
            let contentType = request.headers.first { $0.name.lowercased() == "content-type" }?.value
            return GoldenExchange(request: body, answer: response.body, contentType: contentType)
        }
        taken.withLock { $0.append((name, made)) }
        return value
    }

    func bill(_ name: String, _ type: String, _ data: JSONValue) async throws {
        try await step(name) { try await world.bill(type, data) }
    }

    /// Every exchange with a name: the step's own when it made one, else the step's followed by what each asked
    /// (`import`, `ledgers`, `vouchers`, …), numbered when a step asked the same twice.
    func named() -> [(String, GoldenExchange)] {
        var named: [(String, GoldenExchange)] = []
        for (name, exchanges) in taken.withLock({ $0 }) {
            if exchanges.count == 1 {
                named.append((name, exchanges[0]))
                continue
            }
            var counts: [String: Int] = [:]
            for exchange in exchanges {
                let kind = exchange.kind
                counts[kind, default: 0] += 1
                let total = exchanges.filter { $0.kind == kind }.count
                named.append((name + "." + kind + (total > 1 ? "-\(counts[kind]!)" : ""), exchange))
            }
        }
        return named
    }
}

/// One request to Tally and its answer, as sent and received.
struct GoldenExchange: Sendable {
    let request: Data
    let answer: Data
    let contentType: String?

    /// What the request asks: `import`, or the collection it exports in lower case and plural (`ledgers`).
    var kind: String {
        let encoding = TallyEncoding.of(request, contentType: contentType)
        guard let root = try? TallyXML.parse(request, encoding: encoding) else { return "unreadable" }
        if root.descendant("TALLYMESSAGE") != nil { return "import" }
        if let type = root.descendant("COLLECTION")?.value("TYPE")?.lowercased() {
            return type == "company" ? "companies" : type + "s"
        }
        return (root.descendant("ID")?.text ?? root.descendant("REPORTNAME")?.text ?? "export")
            .lowercased().replacingOccurrences(of: " ", with: "-")
    }

    /// The normalisation (tally/README.md): the only value that changes from run to run, the GUID the emulator gives
    /// the school's company (and every GUID and `VCHKEY` made from it), becomes `GoldenExchange.companyGUID`.
    /// Everything else (billing's ids, dates, Ledgerwire's `REMOTEID`s, MASTERIDs and ALTERIDs) is the same every run.
    /// The bytes stay in the exchange's encoding; `nil` when they are not text in it.
    static func normalised(_ bytes: Data, encoding: TallyEncoding, companyGUID: String) -> Data? {
        guard let text = encoding.decode(bytes), encoding.encode(text) == bytes else { return nil }
        return encoding.encode(text.replacingOccurrences(of: companyGUID, with: Self.companyGUID))
    }

    static let companyGUID = "00000000-0000-4000-8000-000000000017"

    /// `text` with a line break before every tag that follows a tag: Tally's one-line XML made comparable by line.
    static func lines(_ text: String) -> [String] {
        text.replacingOccurrences(of: "><", with: ">\n<").split(separator: "\n", omittingEmptySubsequences: false)
            .map(String.init)
    }
}
