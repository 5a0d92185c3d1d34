import Accounting
import Foundation
import TestSupport
import Testing

/// The check that holds the Xero emulator and connector to Xero's own spec (specs/xero/xero_accounting.yaml): what
/// the spec documents passes, and each kind of mistake is named where it is.
@Suite struct OpenAPIDocumentTests {
    let spec = OpenAPIDocument.xeroAccounting

    /// The spec's own example request for `createInvoices` (PUT /Invoices).
    var example: JSONValue {
        get throws {
            try #require(
                spec.root["paths"]?["/Invoices"]?["put"]?["requestBody"]?["content"]?["application/json"]?["example"])
        }
    }

    /// The example with one member of its first invoice (or of that invoice's first line) replaced.
    func example(invoice key: String, _ value: JSONValue?, line: Bool = false) throws -> Data {
        guard case .object(var root) = try example, case .array(var invoices) = root["Invoices"],
            case .object(var invoice) = invoices.first
        else { throw OpenAPIDocumentError(message: "the example's shape changed") }
        if line {
            guard case .array(var lines) = invoice["LineItems"], case .object(var first) = lines.first else {
                throw OpenAPIDocumentError(message: "the example's shape changed")
            }
            first[key] = value
            lines[0] = .object(first)
            invoice["LineItems"] = .array(lines)
        } else {
            invoice[key] = value
        }
        invoices[0] = .object(invoice)
        root["Invoices"] = .array(invoices)
        return Data(JSONValue.object(root).canonicalBytes)
    }

    func put(_ body: Data, path: String = "/Invoices") -> [String] {
        spec.violations(request: "PUT", path: path, body: body)
    }

    /// An answer to `GET /Invoices` as Xero gives it, envelope included, with `date` as the invoice's `Date`.
    func answer(date: String) -> Data {
        let body: JSONValue = [
            "Id": "ccece84a-075c-4fcd-9073-149d4f7a91cf", "Status": "OK", "ProviderName": "Ledgerwire",
            "DateTimeUTC": "/Date(1552327126164)/",
            "Invoices": [
                [
                    "Type": "ACCREC", "InvoiceID": "ed255415-e141-4150-aab7-89c3bbbb851c", "InvoiceNumber": "INV-0007",
                    "Date": .string(date), "Status": "AUTHORISED", "Total": .number("40.00"),
                    "UpdatedDateUTC": "/Date(1552327126117+0000)/",
                ]
            ],
        ]
        return Data(body.canonicalBytes)
    }

    @Test func theSpecsOwnCreateInvoicesExamplePasses() throws {
        #expect(put(Data(try example.canonicalBytes)) == [])
        #expect(
            spec.violations(request: "PUT", path: "/api.xro/2.0/Invoices", body: Data(try example.canonicalBytes)) == []
        )
    }

    @Test func namesAMisspeltField() throws {
        let body = try example(invoice: "TaxTyp", "NONE", line: true)
        #expect(put(body) == ["$.Invoices[0].LineItems[0].TaxTyp: not a property of LineItem"])
    }

    @Test func refusesAValueOutsideTheEnum() throws {
        let violations = put(try example(invoice: "Status", "AUTHORIZED"))
        #expect(violations.count == 1)
        #expect(
            violations.first?.hasPrefix(#"$.Invoices[0].Status: "AUTHORIZED" (a string) is not one of DRAFT,"#) == true)
    }

    @Test func refusesAWrongType() throws {
        #expect(
            put(try example(invoice: "UnitAmount", "20", line: true)) == [
                #"$.Invoices[0].LineItems[0].UnitAmount: "20" (a string) is not a number"#
            ])
        #expect(put(try example(invoice: "LineItems", ["Description": "x"])).first?.contains("is not an array") == true)
    }

    @Test func refusesAStringOverMaxLength() throws {
        let body = try example(invoice: "InvoiceNumber", .string(String(repeating: "9", count: 256)))
        #expect(put(body) == ["$.Invoices[0].InvoiceNumber: 256 characters, more than the 255 allowed"])
        #expect(put(try example(invoice: "InvoiceNumber", .string(String(repeating: "9", count: 255)))) == [])
    }

    @Test func refusesAMalformedUUID() throws {
        let body = try example(invoice: "Contact", ["ContactID": "430fa14a-f945-44d3-9f97"])
        #expect(put(body) == [#"$.Invoices[0].Contact.ContactID: "430fa14a-f945-44d3-9f97" (a string) is not a UUID"#])
    }

    @Test func refusesAReadOnlyFieldInARequest() throws {
        #expect(
            put(try example(invoice: "Total", .number("40"))) == [
                "$.Invoices[0].Total: read-only, not accepted in a request"
            ])
    }

    @Test func refusesUnknownPathsMethodsAndStatuses() {
        #expect(
            spec.violations(request: "PUT", path: "/Invoicez", body: nil) == ["PUT /Invoicez: not a path of the spec"])
        #expect(
            spec.violations(request: "PATCH", path: "/Invoices", body: nil) == [
                "PATCH /Invoices: /Invoices takes no PATCH (it takes GET, POST, PUT)"
            ])
        #expect(
            spec.violations(response: "GET", path: "/Invoices", status: 201, body: nil) == [
                "GET /Invoices answers no 201 in the spec (it documents 200)"
            ])
        #expect(
            spec.violations(request: "GET", path: "/Invoices/INV-0007", body: nil) == [
                #"path parameter InvoiceID: "INV-0007" (a string) is not a UUID"#
            ])
        #expect(
            spec.violations(request: "GET", path: "/Invoices/ed255415-e141-4150-aab7-89c3bbbb851c", body: nil) == [])
    }

    @Test func refusesUndeclaredQueryParameters() {
        #expect(
            spec.violations(
                request: "GET", path: "/api.xro/2.0/Invoices?page=2&Statuses=AUTHORISED,PAID",
                query: [("IDs", "ed255415-e141-4150-aab7-89c3bbbb851c")], body: nil) == [])
        let violations = spec.violations(request: "GET", path: "/Invoices?pages=2&page=two", body: nil)
        #expect(violations.count == 2)
        #expect(violations.first?.hasPrefix("query parameter pages: not a parameter of GET /Invoices") == true)
        #expect(violations.last == #"query parameter page: "two" (a string) is not an integer"#)
        #expect(
            spec.violations(request: "PUT", path: "/Invoices", query: [("summarizeErrors", "maybe")], body: nil) == [
                #"query parameter summarizeErrors: "maybe" (a string) is not a boolean"#,
                "PUT /Invoices needs a request body",
            ])
    }

    @Test func answersMustGiveMicrosoftDates() throws {
        #expect(
            spec.violations(
                response: "GET", path: "/Invoices", status: 200, body: answer(date: "/Date(1552262400000+0000)/")) == []
        )
        #expect(
            spec.violations(response: "GET", path: "/Invoices", status: 200, body: answer(date: "2019-03-11")) == [
                #"$.Invoices[0].Date: "2019-03-11" is not a /Date(milliseconds)/ date"#
            ])
        // A request may give the date as YYYY-MM-DD (the spec's own example does), but not any text.
        #expect(put(try example(invoice: "Date", "11/03/2019")).first?.contains("neither YYYY-MM-DD nor /Date") == true)
    }

    @Test func answersKeepToTheirSchemaToo() {
        let body: JSONValue = [
            "Id": "ccece84a-075c-4fcd-9073-149d4f7a91cf", "Status": "OK", "Invoices": [["InvoiceNumbr": "INV-1"]],
        ]
        #expect(
            spec.violations(response: "GET", path: "/Invoices", status: 200, body: Data(body.canonicalBytes)) == [
                "$.Invoices[0].InvoiceNumbr: not a property of Invoice"
            ])
        #expect(
            spec.violations(response: "GET", path: "/Invoices", status: 200, body: Data("{".utf8)).first?.hasPrefix(
                "$: the body is not JSON") == true)
    }

    @Test func aKeywordTheCheckDoesNotKnowFailsLoudly() throws {
        let document = try OpenAPIDocument(root: [
            "openapi": "3.0.0",
            "paths": [
                "/Things": [
                    "put": [
                        "requestBody": [
                            "content": ["application/json": ["schema": ["type": "string", "minLength": 3]]]
                        ],
                        "responses": ["200": ["description": "ok"]],
                    ]
                ]
            ],
        ])
        #expect(
            document.violations(request: "PUT", path: "/Things", body: Data(#""abcd""#.utf8)) == [
                "$: the schema uses minLength, which this check does not know"
            ])
    }
}
