import Connectors
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@testable import Sandbox

/// A Tally emulator with one loaded company, and requests to it as the connector sends them.
struct TallyHarness {
    /// An answer: its root element (Tally's `&#4;` dropped by the reader), its text, and its `Content-Type`.
    struct Answer {
        let root: TallyElement
        let text: String
        let contentType: String?
        let bytes: Data

        /// The import counters (`CREATED`, `ERRORS`, …) of either answer form.
        var counters: [String: Int] {
            let holder = root.descendant("IMPORTRESULT") ?? root
            var counters: [String: Int] = [:]
            for child in holder.children where Int(child.text) != nil { counters[child.name] = Int(child.text) }
            return counters
        }

        var lineErrors: [String] {
            (root.descendant("DATA") ?? root).children("LINEERROR").map(\.text)
        }

        var status: String? { root.child("HEADER")?.value("STATUS") }

        /// The objects of an exported collection.
        var objects: [TallyElement] { root.descendant("COLLECTION")?.children ?? [] }
    }

    static let company = "Vidya School"

    let sandbox: TallySandbox
    let client: any TestClientProtocol

    static func run(
        version: TallySandbox.Version = .prime, _ body: @Sendable (TallyHarness) async throws -> Void
    ) async throws {
        let sandbox = TallySandbox(version: version)
        await sandbox.addCompany(company, guid: "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0")
        try await Application(router: sandbox.router()).test(.router) { client in
            try await body(TallyHarness(sandbox: sandbox, client: client))
        }
    }

    /// Posts `xml` in `encoding` with Tally's `Content-Type`.
    func post(_ xml: String, encoding: TallyEncoding = .utf8) async throws -> Answer {
        try await post(bytes: encoding.encode(xml), contentType: encoding.contentType)
    }

    func post(bytes: Data, contentType: String?) async throws -> Answer {
        var headers: HTTPFields = [:]
        if let contentType { headers[.contentType] = contentType }
        return try await client.execute(uri: "/", method: .post, headers: headers, body: ByteBuffer(bytes: bytes)) {
            response in
            let data = Data(response.body.readableBytesView)
            let type = response.headers[.contentType]
            let encoding = TallyEncoding.of(data, contentType: type)
            let root = try TallyXML.parse(data, encoding: encoding)
            return Answer(root: root, text: encoding.decode(data) ?? "", contentType: type, bytes: data)
        }
    }

    /// Imports `objects` (XML of `LEDGER`, `GROUP`, `VOUCHER`) in one `TALLYMESSAGE`.
    @discardableResult
    func importing(
        _ objects: [String], legacy: Bool = false, company: String = company, encoding: TallyEncoding = .utf8
    ) async throws -> Answer {
        try await post(Self.importEnvelope(objects, legacy: legacy, company: company), encoding: encoding)
    }

    func collection(_ type: String, formulae: [String] = [], company: String? = company) async throws -> Answer {
        try await post(Self.collection(type, formulae: formulae, company: company))
    }

    static func importEnvelope(_ objects: [String], legacy: Bool, company: String) -> String {
        let message = "<TALLYMESSAGE xmlns:UDF=\"TallyUDF\">\(objects.joined())</TALLYMESSAGE>"
        let variables = "<STATICVARIABLES><SVCURRENTCOMPANY>\(escape(company))</SVCURRENTCOMPANY></STATICVARIABLES>"
        if legacy {
            return "<ENVELOPE><HEADER><TALLYREQUEST>Import Data</TALLYREQUEST></HEADER><BODY><IMPORTDATA><REQUESTDESC>"
                + "<REPORTNAME>Vouchers</REPORTNAME>\(variables)</REQUESTDESC><REQUESTDATA>\(message)</REQUESTDATA>"
                + "</IMPORTDATA></BODY></ENVELOPE>"
        }
        return "<ENVELOPE><HEADER><VERSION>1</VERSION><TALLYREQUEST>Import</TALLYREQUEST><TYPE>Data</TYPE>"
            + "<ID>Vouchers</ID></HEADER><BODY><DESC>\(variables)</DESC><DATA>\(message)</DATA></BODY></ENVELOPE>"
    }

    static func collection(_ type: String, formulae: [String], company: String?) -> String {
        let names = formulae.indices.map { "LedgerwireFilter\($0 + 1)" }
        let filter = names.isEmpty ? "" : "<FILTER>\(names.joined(separator: ","))</FILTER>"
        let systems = zip(names, formulae).map { "<SYSTEM TYPE=\"Formulae\" NAME=\"\($0)\">\(escape($1))</SYSTEM>" }
        let current = company.map { "<SVCURRENTCOMPANY>\(escape($0))</SVCURRENTCOMPANY>" } ?? ""
        return "<ENVELOPE><HEADER><VERSION>1</VERSION><TALLYREQUEST>Export</TALLYREQUEST><TYPE>Collection</TYPE>"
            + "<ID>Ledgerwire \(type)s</ID></HEADER><BODY><DESC><STATICVARIABLES>\(current)"
            + "<SVEXPORTFORMAT>$$SysName:XML</SVEXPORTFORMAT></STATICVARIABLES><TDL><TDLMESSAGE>"
            + "<COLLECTION NAME=\"Ledgerwire \(type)s\"><TYPE>\(type)</TYPE><FETCH>*</FETCH>\(filter)</COLLECTION>"
            + systems.joined() + "</TDLMESSAGE></TDL></DESC></BODY></ENVELOPE>"
    }

    static func report(_ id: String, variables: [String: String] = [:], company: String = company) -> String {
        let extra = variables.sorted { $0.key < $1.key }.map { "<\($0)>\(escape($1))</\($0)>" }.joined()
        return "<ENVELOPE><HEADER><VERSION>1</VERSION><TALLYREQUEST>Export</TALLYREQUEST><TYPE>Data</TYPE>"
            + "<ID>\(id)</ID></HEADER><BODY><DESC><STATICVARIABLES><SVCURRENTCOMPANY>\(escape(company))"
            + "</SVCURRENTCOMPANY>\(extra)</STATICVARIABLES></DESC></BODY></ENVELOPE>"
    }

    static func ledger(
        _ name: String, parent: String, action: String = "Create", remoteID: String? = nil, extra: String = ""
    ) -> String {
        let remote = remoteID.map { " REMOTEID=\"\(escape($0))\"" } ?? ""
        return "<LEDGER NAME=\"\(escape(name))\" ACTION=\"\(action)\"\(remote)><NAME.LIST><NAME>\(escape(name))"
            + "</NAME></NAME.LIST><PARENT>\(escape(parent))</PARENT>\(extra)</LEDGER>"
    }

    /// A ledger entry: `amount` negative for a debit.
    static func entry(
        _ ledger: String, _ amount: String, party: Bool = false, deemed: String? = nil,
        bills: [(String, String, String)] = []
    ) -> String {
        let positive = deemed ?? (amount.hasPrefix("-") ? "Yes" : "No")
        let allocations = bills.map {
            "<BILLALLOCATIONS.LIST><NAME>\(escape($0.0))</NAME><BILLTYPE>\($0.1)</BILLTYPE><AMOUNT>\($0.2)</AMOUNT>"
                + "</BILLALLOCATIONS.LIST>"
        }
        return "<ALLLEDGERENTRIES.LIST><LEDGERNAME>\(escape(ledger))</LEDGERNAME><ISDEEMEDPOSITIVE>\(positive)"
            + "</ISDEEMEDPOSITIVE><ISPARTYLEDGER>\(party ? "Yes" : "No")</ISPARTYLEDGER><AMOUNT>\(amount)</AMOUNT>"
            + allocations.joined() + "</ALLLEDGERENTRIES.LIST>"
    }

    static func voucher(
        _ type: String = "Sales", remoteID: String? = nil, action: String = "Create", date: String? = "20261121",
        number: String? = nil, party: String? = nil, narration: String? = nil, attributes: String = "",
        entries: [String]
    ) -> String {
        var xml = "<VOUCHER"
        if let remoteID { xml += " REMOTEID=\"\(escape(remoteID))\"" }
        xml += " VCHTYPE=\"\(type)\" ACTION=\"\(action)\" OBJVIEW=\"Accounting Voucher View\"\(attributes)>"
        if let date { xml += "<DATE>\(date)</DATE>" }
        xml += "<VOUCHERTYPENAME>\(type)</VOUCHERTYPENAME>"
        if let number { xml += "<VOUCHERNUMBER>\(escape(number))</VOUCHERNUMBER>" }
        if let party { xml += "<PARTYLEDGERNAME>\(escape(party))</PARTYLEDGERNAME>" }
        if let narration { xml += "<NARRATION>\(escape(narration))</NARRATION>" }
        return xml + entries.joined() + "</VOUCHER>"
    }

    /// A Sales voucher: `party` debited `total` with a `New Ref` bill `number`, `Tuition Fees` credited.
    static func sale(_ remoteID: String, number: String, party: String = "Asha Rao", total: String = "1180.00")
        -> String
    {
        voucher(
            remoteID: remoteID, number: number, party: party, narration: "Term 2 fees",
            entries: [
                entry(party, "-\(total)", party: true, bills: [(number, "New Ref", "-\(total)")]),
                entry("Tuition Fees", total),
            ])
    }

    /// The ledgers most tests need: a party under Sundry Debtors, an income ledger, and a bank.
    func seedLedgers() async throws {
        let answer = try await importing([
            Self.ledger("Asha Rao", parent: "Sundry Debtors", extra: "<PARTYGSTIN>29ABCDE1234F1Z5</PARTYGSTIN>"),
            Self.ledger("Tuition Fees", parent: "Sales Accounts"),
            Self.ledger("HDFC Bank", parent: "Bank Accounts"),
        ])
        #expect(answer.counters["CREATED"] == 3, "\(answer.text)")
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
