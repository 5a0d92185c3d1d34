import Accounting
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import TestSupport
import Testing

@testable import Sandbox

/// A Sage Business Cloud Accounting emulator with app `client-1`, one business (the lead) and a `full_access`
/// token, and calls to it as a client makes them.
struct SageBusinessCloudHarness {
    struct Answer {
        let status: HTTPResponse.Status
        let json: JSONValue
        let headers: HTTPFields
        var text = ""

        /// The first error's `$dataCode`, `$message` and `$source`.
        var error: (dataCode: String, message: String, source: String)? {
            guard let first = json.arrayValue?.first else { return nil }
            return (
                first["$dataCode"]?.stringValue ?? "", first["$message"]?.stringValue ?? "",
                first["$source"]?.stringValue ?? ""
            )
        }

        /// The ids of a list's `$items`.
        var ids: [String] { (json["$items"]?.arrayValue ?? []).compactMap { $0["id"]?.stringValue } }
    }

    static let redirect = "https://ledgerwire.test/oauth/callback"

    let sandbox: SageBusinessCloudSandbox
    let client: any TestClientProtocol
    let business: String
    let token: String

    /// Runs `body` against a sandbox whose app `client-1` holds a token for the user's one business (`name`,
    /// `country`).
    static func run(
        _ sandbox: SageBusinessCloudSandbox = SageBusinessCloudSandbox(), name: String = "Cognify School",
        country: String = "GB", _ body: @Sendable (SageBusinessCloudHarness) async throws -> Void
    ) async throws {
        await sandbox.registerClient(id: "client-1", secret: "secret-1", redirectURIs: [redirect], name: "Ledgerwire")
        let business = try #require(await sandbox.addBusiness(name: name, country: country))
        let (access, _) = await sandbox.issueTokens(clientID: "client-1")
        let application = Application(router: sandbox.router())
        try await application.test(.router) { client in
            try await body(
                SageBusinessCloudHarness(sandbox: sandbox, client: client, business: business, token: access))
        }
    }

    /// One call. An API request (unless `spec` is false, for what is meant to break it) and its answer are checked
    /// against Sage's spec (`OpenAPIDocument.sageBusinessCloud`, with the envelope and error array Sage documents
    /// beside it).
    func call(
        _ method: HTTPRequest.Method, _ uri: String, token: String?? = .none, business: String?? = .none,
        json: JSONValue? = nil, text: String? = nil, headers extra: HTTPFields = [:], spec: Bool = true
    ) async throws -> Answer {
        var headers = extra
        if let token = token ?? self.token { headers[.authorization] = "Bearer \(token)" }
        if let business = business ?? self.business { headers[HTTPField.Name("X-Business")!] = business }
        if json != nil { headers[.contentType] = "application/json" }
        let body = json.map { ByteBuffer(string: $0.canonicalString) } ?? text.map { ByteBuffer(string: $0) }
        let answer = try await client.execute(uri: uri, method: method, headers: headers, body: body) { response in
            let bytes = Array(response.body.readableBytesView)
            return Answer(
                status: response.status, json: (try? JSONValue(parsing: bytes)) ?? .null, headers: response.headers,
                text: String(decoding: bytes, as: UTF8.self))
        }
        if spec, uri.hasPrefix("/v3.1/"), !uri.hasPrefix("/v3.1/businesses") {
            let document = OpenAPIDocument.sageBusinessCloud
            let sent = body.map { Data($0.readableBytesView) }
            let request = document.violations(request: method.rawValue, path: uri, body: sent)
            #expect(request.isEmpty, "\(method) \(uri) breaks the spec: \(request)")
            if answer.status != .noContent {
                let response = document.violations(
                    response: method.rawValue, path: uri, status: answer.status.code,
                    body: Data(answer.text.utf8))
                #expect(
                    response.isEmpty, "\(method) \(uri) answered \(answer.status.code) against the spec: \(response)")
            }
        }
        return answer
    }

    /// The same harness with a fresh access token (for tests that move the clock past five minutes).
    func renewed() async -> SageBusinessCloudHarness {
        let (access, _) = await sandbox.issueTokens(clientID: "client-1")
        return SageBusinessCloudHarness(sandbox: sandbox, client: client, business: business, token: access)
    }

    /// `POST /v3.1/{resource}` with `{singular: entity}`.
    func post(_ resource: String, _ singular: String, _ entity: JSONValue, spec: Bool = true) async throws -> Answer {
        try await call(.post, "/v3.1/\(resource)", json: [singular: entity], spec: spec)
    }

    func get(_ path: String, business: String?? = .none) async throws -> Answer {
        try await call(.get, "/v3.1/\(path)", business: business)
    }

    /// A customer, created: its id.
    func customer(_ name: String, reference: String? = nil) async throws -> String {
        var contact: [String: JSONValue] = ["name": .string(name), "contact_type_ids": ["CUSTOMER"]]
        if let reference { contact["reference"] = .string(reference) }
        let answer = try await post("contacts", "contact", .object(contact))
        #expect(answer.status == .created, "\(answer.json)")
        return try #require(answer.json["id"]?.stringValue)
    }

    /// The business's ledger account with a nominal code.
    func ledger(_ code: Int = 4000) async throws -> String {
        try #require(await sandbox.ledgerAccountID(businessID: business, nominalCode: code))
    }

    func bank() async throws -> String { try #require(await sandbox.bankAccountID(businessID: business)) }

    /// A sales invoice (or credit note, with `linesKey: "credit_note_lines"`) for `contactID` with `lines` (each
    /// `[quantity, unit price, tax rate id]`) on ledger account `ledger`.
    static func artefact(
        contactID: String, ledger: String, lines: [(String, String, String)], linesKey: String = "invoice_lines",
        extra: [String: JSONValue] = [:]
    ) -> JSONValue {
        var artefact: [String: JSONValue] = [
            "contact_id": .string(contactID), "date": "2026-11-21",
            linesKey: .array(
                lines.map { quantity, price, tax in
                    [
                        "description": "Term 2 tuition", "ledger_account_id": .string(ledger),
                        "quantity": .number(quantity), "unit_price": .number(price), "tax_rate_id": .string(tax),
                    ]
                }),
        ]
        for (key, value) in extra { artefact[key] = value }
        return .object(artefact)
    }

    /// A sales invoice created for a new customer: its id and the customer's.
    func invoice(lines: [(String, String, String)] = [("1", "100.00", "GB_STANDARD")]) async throws -> (
        invoice: String, contact: String
    ) {
        let contact = try await customer("Ada Lovelace")
        let answer = try await post(
            "sales_invoices", "sales_invoice",
            Self.artefact(contactID: contact, ledger: try await ledger(), lines: lines))
        #expect(answer.status == .created, "\(answer.json)")
        return (try #require(answer.json["id"]?.stringValue), contact)
    }
}
