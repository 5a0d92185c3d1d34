import Connectors
import Foundation
import Testing

@testable import Sandbox

/// The two encodings and the two import dialects, and what hostile bodies get.
@Suite struct TallyDialectTests {
    typealias H = TallyHarness

    @Test func utf16RequestsAreAnsweredInUTF16AndNamesSurviveByteForByte() async throws {
        try await H.run { tally in
            let name = "श्री गणेश विद्यालय"
            let answer = try await tally.importing(
                [H.ledger(name, parent: "Sundry Debtors")], encoding: .utf16)
            #expect(answer.contentType == "text/xml;charset=utf-16")
            #expect(answer.bytes.count % 2 == 0 && answer.bytes.first == UInt8(ascii: "<") && answer.bytes[1] == 0)
            #expect(answer.counters["CREATED"] == 1)
            let export = try await tally.post(
                H.collection("Ledger", formulae: ["$Name = \"\(name)\""], company: H.company), encoding: .utf16)
            #expect(export.contentType == "text/xml;charset=utf-16")
            #expect(export.objects.map { $0[attribute: "NAME"] } == [name])
            let utf8 = try await tally.collection("Ledger", formulae: ["$Name = \"\(name)\""])
            #expect(utf8.contentType == "text/xml;charset=utf-8")
            #expect(utf8.objects.first?.child("NAME.LIST")?.value("NAME") == name)
        }
    }

    @Test func theVersionedImportIsAnsweredWithImportResultAndStatus() async throws {
        try await H.run { tally in
            let answer = try await tally.importing([
                H.ledger("Tuition Fees", parent: "Sales Accounts"), H.ledger("Bad", parent: "Nowhere"),
            ])
            #expect(answer.root.name == "ENVELOPE" && answer.status == "0")
            #expect(answer.root.child("HEADER")?.value("VERSION") == "1")
            let result = try #require(answer.root.descendant("IMPORTRESULT"))
            #expect(
                result.children.map(\.name) == [
                    "CREATED", "ALTERED", "DELETED", "LASTVCHID", "LASTMID", "COMBINED", "IGNORED", "ERRORS",
                    "CANCELLED", "EXCEPTIONS",
                ])
            #expect(answer.root.descendant("DATA")?.children.first?.name == "LINEERROR")
            let clean = try await tally.importing([H.ledger("HDFC Bank", parent: "Bank Accounts")])
            #expect(clean.status == "1")
        }
    }

    @Test func theLegacyImportIsAnsweredWithAResponse() async throws {
        try await H.run { tally in
            let answer = try await tally.importing(
                [H.ledger("Tuition Fees", parent: "Sales Accounts"), H.ledger("Bad", parent: "Nowhere")],
                legacy: true)
            #expect(answer.root.name == "RESPONSE")
            #expect(answer.root.children.first?.name == "LINEERROR")
            #expect(answer.counters["CREATED"] == 1 && answer.counters["ERRORS"] == 1)
            #expect(answer.root.children.map(\.name).suffix(10).first == "CREATED")
        }
    }

    @Test func tallyERP9RefusesTheVersionedImportAndTakesTheLegacyOne() async throws {
        try await H.run(version: .erp9) { tally in
            let versioned = try await tally.importing([H.ledger("Tuition Fees", parent: "Sales Accounts")])
            #expect(versioned.root.name == "RESPONSE")
            #expect(versioned.lineErrors == ["Unknown Request, cannot be processed"])
            #expect(versioned.counters["CREATED"] == 0)
            let legacy = try await tally.importing(
                [H.ledger("Tuition Fees", parent: "Sales Accounts")], legacy: true)
            #expect(legacy.counters["CREATED"] == 1)
            #expect(try await tally.collection("Ledger").objects.count == 3, "collections are read in both versions")
        }
    }

    @Test func severalMessagesPerRequestAreAppliedInOrder() async throws {
        try await H.run { tally in
            let two =
                "<TALLYMESSAGE>\(H.ledger("Term Fees Ledger", parent: "Sales Accounts"))</TALLYMESSAGE>"
                + "<TALLYMESSAGE>\(H.ledger("Term Fees Ledger", parent: "Sales Accounts", action: "Alter", extra: "<EMAIL>x@y.in</EMAIL>"))</TALLYMESSAGE>"
            let envelope =
                "<ENVELOPE><HEADER><VERSION>1</VERSION><TALLYREQUEST>Import</TALLYREQUEST><TYPE>Data</TYPE>"
                + "<ID>All Masters</ID></HEADER><BODY><DESC><STATICVARIABLES><SVCURRENTCOMPANY>\(H.company)"
                + "</SVCURRENTCOMPANY></STATICVARIABLES></DESC><DATA>\(two)</DATA></BODY></ENVELOPE>"
            let answer = try await tally.post(envelope)
            #expect(answer.counters["CREATED"] == 1 && answer.counters["ALTERED"] == 1)
        }
    }

    @Test func hostileBodiesGetTallysErrorAnswersNeverACrash() async throws {
        try await H.run { tally in
            let bodies: [(Data, String?)] = [
                (Data("not xml at all".utf8), "text/xml;charset=utf-8"),
                (Data("<ENVELOPE><HEADER>".utf8), "text/xml;charset=utf-8"),
                (Data("<RESPONSE>hi</RESPONSE>".utf8), nil),
                (Data([0x3C, 0x00, 0x45]), "text/xml;charset=utf-16"),
                (Data([0xFF, 0xFE, 0x00, 0xD8, 0x41, 0x00]), "text/xml;charset=utf-16"),
                (Data([0xC3, 0x28]), "text/xml;charset=utf-8"),
                (Data(("<!DOCTYPE x [<!ENTITY a \"b\">]>" + "<ENVELOPE/>").utf8), nil),
                (Data((String(repeating: "<A>", count: 200) + String(repeating: "</A>", count: 200)).utf8), nil),
                (Data(), nil),
                (Data("<ENVELOPE><HEADER><VERSION>1</VERSION></HEADER></ENVELOPE>".utf8), nil),
            ]
            for (body, type) in bodies {
                let answer = try await tally.post(bytes: body, contentType: type)
                let refused =
                    answer.root.name == "RESPONSE" && answer.root.text == "Unknown Request, cannot be processed"
                    || answer.status == "0"
                #expect(refused, "\(String(decoding: body, as: UTF8.self)) → \(answer.text)")
            }
            let missing = try await tally.importing(["<VOUCHER/>", "<LEDGER/>", "<STOCKITEM NAME=\"x\"/>"])
            #expect(missing.counters["ERRORS"] == 3 && missing.lineErrors.count == 3)
            #expect(await tally.sandbox.requestCount == bodies.count + 1)
        }
    }
}
