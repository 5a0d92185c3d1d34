import Accounting
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import TestSupport
import Testing

@testable import Sandbox

/// A Xero emulator with app `client-1` connected to one organisation, and calls to it as a client makes them.
struct XeroHarness {
    struct Answer {
        let status: HTTPResponse.Status
        let json: JSONValue
        let headers: HTTPFields
        var text = ""

        /// The first element of the answer's collection.
        func first(_ collection: String) -> JSONValue? { json[collection]?.arrayValue?.first }

        /// Every `ValidationErrors` message of the answer's elements.
        var messages: [String] {
            let elements = json["Elements"]?.arrayValue ?? json.objectValue?.values.compactMap(\.arrayValue).first ?? []
            return elements.flatMap {
                ($0["ValidationErrors"]?.arrayValue ?? []).compactMap { $0["Message"]?.stringValue }
            }
        }
    }

    static let redirect = "https://ledgerwire.test/oauth/callback"
    static let basic = "Basic " + Data("client-1:secret-1".utf8).base64EncodedString()

    let sandbox: XeroSandbox
    let client: any TestClientProtocol
    let tenant: String
    let token: String

    /// Runs `body` against a sandbox whose app `client-1` holds a token for one organisation (`name`, `currency`,
    /// `country`).
    static func run(
        _ sandbox: XeroSandbox = XeroSandbox(), name: String = "Cognify School", currency: String = "GBP",
        country: String = "GB", _ body: @Sendable (XeroHarness) async throws -> Void
    ) async throws {
        await sandbox.registerClient(id: "client-1", secret: "secret-1", redirectURIs: [redirect], name: "Ledgerwire")
        let tenant = await sandbox.addOrganisation(name: name, baseCurrency: currency, countryCode: country)
        let (access, _) = await sandbox.issueTokens(clientID: "client-1", tenantIDs: [tenant])
        let application = Application(router: sandbox.router())
        try await application.test(.router) { client in
            try await body(XeroHarness(sandbox: sandbox, client: client, tenant: tenant, token: access))
        }
    }

    /// One call; an Accounting API request (unless `spec` is false, for what is meant to break it) and its 200 or
    /// 400 answer are checked against Xero's official spec (`OpenAPIDocument.xeroAccounting`).
    func call(
        _ method: HTTPRequest.Method, _ uri: String, token: String?? = .none, tenant: String?? = .none,
        json: JSONValue? = nil, text: String? = nil, headers extra: HTTPFields = [:], spec: Bool = true
    ) async throws -> Answer {
        var headers = extra
        if let token = token ?? self.token { headers[.authorization] = "Bearer \(token)" }
        if let tenant = tenant ?? self.tenant { headers[HTTPField.Name("xero-tenant-id")!] = tenant }
        if json != nil { headers[.contentType] = "application/json" }
        let body = json.map { ByteBuffer(string: $0.canonicalString) } ?? text.map { ByteBuffer(string: $0) }
        let answer = try await client.execute(uri: uri, method: method, headers: headers, body: body) { response in
            let bytes = Array(response.body.readableBytesView)
            return Answer(
                status: response.status, json: (try? JSONValue(parsing: bytes)) ?? .null, headers: response.headers,
                text: String(decoding: bytes, as: UTF8.self))
        }
        if spec, uri.hasPrefix("/api.xro/2.0/") {
            let document = OpenAPIDocument.xeroAccounting
            let sent = body.map { Data($0.readableBytesView) }
            let request = document.violations(request: method.rawValue, path: uri, body: sent)
            #expect(request.isEmpty, "\(method) \(uri) breaks the spec: \(request)")
            // The spec documents no 400 for reads (Xero answers QueryParseException to them all the same); and its
            // `Element` schema is narrower than its own example of a 400, where the element is echoed whole (as Xero
            // does): an echo is checked as far as the schema goes.
            if answer.status == .ok || (answer.status == .badRequest && method != .get) {
                var checked = answer.json
                if case .object(var members) = checked, let elements = members["Elements"]?.arrayValue {
                    let kept: Set<String> = ["ValidationErrors", "ContactID", "InvoiceID", "CreditNoteID", "ItemID"]
                    members["Elements"] = .array(
                        elements.map { .object(($0.objectValue ?? [:]).filter { kept.contains($0.key) }) })
                    checked = .object(members)
                }
                let response = document.violations(
                    response: method.rawValue, path: uri, status: answer.status.code,
                    body: Data(checked.canonicalString.utf8))
                #expect(
                    response.isEmpty, "\(method) \(uri) answered \(answer.status.code) against the spec: \(response)")
            }
        }
        return answer
    }

    /// `PUT /api.xro/2.0/{collection}` with `{collection: elements}`.
    func put(
        _ collection: String, _ elements: [JSONValue], query: String = "", headers: HTTPFields = [:],
        spec: Bool = true
    ) async throws -> Answer {
        try await call(
            .put, "/api.xro/2.0/\(collection)\(query)", json: [collection: .array(elements)], headers: headers,
            spec: spec)
    }

    func post(_ path: String, _ body: JSONValue, query: String = "", headers: HTTPFields = [:]) async throws -> Answer {
        try await call(.post, "/api.xro/2.0/\(path)\(query)", json: body, headers: headers)
    }

    func get(_ path: String, headers: HTTPFields = [:]) async throws -> Answer {
        try await call(.get, "/api.xro/2.0/\(path)", headers: headers)
    }

    /// A contact, created: its id.
    func contact(_ name: String, number: String? = nil) async throws -> String {
        var element: [String: JSONValue] = ["Name": .string(name)]
        if let number { element["ContactNumber"] = .string(number) }
        let answer = try await put("Contacts", [.object(element)])
        #expect(answer.status == .ok, "\(answer.json)")
        return try #require(answer.first("Contacts")?["ContactID"]?.stringValue)
    }

    /// An ACCREC invoice for `contactID` with `lines` (each `[quantity, unit, tax type]`), authorised unless said.
    static func invoice(
        contactID: String, number: String? = nil, lines: [(String, String, String)], status: String = "AUTHORISED",
        currency: String? = nil, extra: [String: JSONValue] = [:]
    ) -> JSONValue {
        var invoice: [String: JSONValue] = [
            "Type": "ACCREC", "Contact": ["ContactID": .string(contactID)], "Date": "2026-11-21",
            "DueDate": "2026-12-21", "LineAmountTypes": "Exclusive", "Status": .string(status),
            "LineItems": .array(
                lines.map { quantity, unit, tax in
                    [
                        "Description": "Term 2 tuition", "Quantity": .number(quantity), "UnitAmount": .number(unit),
                        "AccountCode": "200", "TaxType": .string(tax),
                    ]
                }),
        ]
        if let number { invoice["InvoiceNumber"] = .string(number) }
        if let currency { invoice["CurrencyCode"] = .string(currency) }
        for (key, value) in extra { invoice[key] = value }
        return .object(invoice)
    }
}
