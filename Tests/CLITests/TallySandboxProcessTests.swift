import Connectors
import Foundation
import TestSupport
import Testing

/// `ledgerwire sandbox tally` run as a developer runs it.
@Suite struct TallySandboxProcessTests {
    @Test func takesAUTF16ImportAndAnswersAnExport() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let sandbox = try await ServerProcess(
            [
                "sandbox", "tally", "--port", "0", "--company", "Vidya School", "--company", "विद्या निकेतन",
                "--version", "prime", "--state", "Kerala",
            ],
            announcing: "Tally sandbox on ", directory: directory.url)
        defer { sandbox.signal(SIGTERM) }
        let output = (try? String(contentsOf: sandbox.output, encoding: .utf8)) ?? ""
        #expect(output.contains("(companies Vidya School, विद्या निकेतन, version prime)"))

        let party = "आशा राव"
        let envelope =
            "<ENVELOPE><HEADER><VERSION>1</VERSION><TALLYREQUEST>Import</TALLYREQUEST><TYPE>Data</TYPE>"
            + "<ID>All Masters</ID></HEADER><BODY><DESC><STATICVARIABLES><SVCURRENTCOMPANY>विद्या निकेतन"
            + "</SVCURRENTCOMPANY></STATICVARIABLES></DESC><DATA><TALLYMESSAGE xmlns:UDF=\"TallyUDF\">"
            + "<LEDGER NAME=\"\(party)\" ACTION=\"Create\"><NAME.LIST><NAME>\(party)</NAME></NAME.LIST>"
            + "<PARENT>Sundry Debtors</PARENT></LEDGER></TALLYMESSAGE></DATA></BODY></ENVELOPE>"
        let imported = try #require(
            await sandbox.call(
                "POST", "/", headers: ["content-type": TallyEncoding.utf16.contentType],
                body: Array(TallyEncoding.utf16.encode(envelope))))
        #expect(imported.0 == 200)
        let result = try TallyXML.parse(imported.1, encoding: .utf16)
        #expect(result.descendant("IMPORTRESULT")?.value("CREATED") == "1")
        #expect(result.child("HEADER")?.value("STATUS") == "1")

        let export =
            "<ENVELOPE><HEADER><VERSION>1</VERSION><TALLYREQUEST>Export</TALLYREQUEST><TYPE>Collection</TYPE>"
            + "<ID>Ledgerwire Companies</ID></HEADER><BODY><DESC><STATICVARIABLES><SVEXPORTFORMAT>$$SysName:XML"
            + "</SVEXPORTFORMAT></STATICVARIABLES><TDL><TDLMESSAGE><COLLECTION NAME=\"Ledgerwire Companies\">"
            + "<TYPE>Company</TYPE><FETCH>Name,GUID,AltMstId,AltVchId,StateName</FETCH></COLLECTION></TDLMESSAGE>"
            + "</TDL></DESC></BODY></ENVELOPE>"
        let exported = try #require(
            await sandbox.call(
                "POST", "/", headers: ["content-type": TallyEncoding.utf8.contentType], body: Array(export.utf8)))
        let companies = try TallyXML.parse(exported.1, encoding: .utf8).descendant("COLLECTION")?.children ?? []
        #expect(companies.map { $0.value("NAME") } == ["Vidya School", "विद्या निकेतन"])
        #expect(companies.allSatisfy { $0.value("STATENAME") == "Kerala" })
        #expect(Int(companies.last?.value("ALTMSTID") ?? "") ?? 0 > Int(companies.first?.value("ALTMSTID") ?? "") ?? 0)

        sandbox.signal(SIGTERM)
        #expect(try await sandbox.waitForExit().status == 0)
    }
}
