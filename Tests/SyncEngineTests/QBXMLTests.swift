import Connectors
import Testing

/// qbXML request documents as QuickBooks reads them, and its answers (the shapes of platforms.md §3.4, from Intuit's
/// and the qbwc project's samples) read back.
@Suite struct QBXMLTests {
    static func leaf(_ name: String, _ text: String) -> XMLNode { XMLNode(name: name, text: text) }

    @Test func aRequestDocumentKeepsTheOrderItWasGivenAndEscapesTheText() throws {
        let customer = XMLNode(
            name: "CustomerAddRq", attributes: ["requestID": "cus_1"],
            children: [
                XMLNode(
                    name: "CustomerAdd",
                    children: [
                        Self.leaf("Name", "Rao & Sons <Bengaluru>"), Self.leaf("CompanyName", "Rao & Sons"),
                        XMLNode(
                            name: "BillAddress",
                            children: [Self.leaf("Addr1", "12 MG Road"), Self.leaf("City", "Bengaluru")]),
                        Self.leaf("Email", "asha@example.com"),
                    ])
            ])
        let query = XMLNode(
            name: "InvoiceQueryRq", attributes: ["requestID": "q\"1", "iterator": "Start"],
            children: [Self.leaf("MaxReturned", "100")])
        let document = QBXML.requestDocument(
            [customer, query], version: try #require(QBXMLVersion(major: 13, minor: 0)), onError: .continueOnError)
        #expect(
            document == "<?xml version=\"1.0\" encoding=\"utf-8\"?><?qbxml version=\"13.0\"?><QBXML>"
                + "<QBXMLMsgsRq onError=\"continueOnError\"><CustomerAddRq requestID=\"cus_1\"><CustomerAdd>"
                + "<Name>Rao &amp; Sons &lt;Bengaluru&gt;</Name><CompanyName>Rao &amp; Sons</CompanyName>"
                + "<BillAddress><Addr1>12 MG Road</Addr1><City>Bengaluru</City></BillAddress>"
                + "<Email>asha@example.com</Email></CustomerAdd></CustomerAddRq>"
                + "<InvoiceQueryRq iterator=\"Start\" requestID=\"q&quot;1\"><MaxReturned>100</MaxReturned>"
                + "</InvoiceQueryRq></QBXMLMsgsRq></QBXML>")
    }

    @Test func answersAreReadInOrderWithTheirStatusAndWhatTheyReturned() throws {
        let responses = try QBXML.responses(
            in: """
                <?xml version="1.0" ?>
                <QBXML><QBXMLMsgsRs>
                <CustomerAddRs requestID="15" statusCode="0" statusSeverity="Info" statusMessage="Status OK">
                <CustomerRet><ListID>F540000-1197683154</ListID><EditSequence>1197683154</EditSequence>
                <Name>20706 - Eastern XYZ University</Name></CustomerRet></CustomerAddRs>
                <CustomerAddRs requestID="16" statusCode="3180" statusSeverity="Error" statusMessage="There was an \
                error when saving a Customer list, element &quot;Newcastle Tenants Federation&quot;. QuickBooks error \
                message: This list has been modified by another user." />
                <InvoiceQueryRs requestID="17" statusCode="0" statusSeverity="Info" statusMessage="Status OK" \
                retCount="1" iteratorRemainingCount="1999" iteratorID="{1A2B}">
                <InvoiceRet><TxnID>12006-1196864828</TxnID><RefNumber>9668</RefNumber></InvoiceRet></InvoiceQueryRs>
                <CustomerQueryRs requestID="18" statusCode="1" statusSeverity="Info" \
                statusMessage="A query request did not find a matching object in QuickBooks" />
                </QBXMLMsgsRs></QBXML>
                """)
        #expect(responses.map(\.type) == ["CustomerAddRs", "CustomerAddRs", "InvoiceQueryRs", "CustomerQueryRs"])
        #expect(responses.map(\.requestID) == ["15", "16", "17", "18"])
        #expect(responses.map(\.statusCode) == [0, 3180, 0, 1])
        #expect(responses.map(\.failed) == [false, true, false, false])
        let customer = try #require(responses[0].returned.first)
        #expect(customer.name == "CustomerRet" && customer.value("ListID") == "F540000-1197683154")
        #expect(customer.value("EditSequence") == "1197683154")
        #expect(responses[1].message.hasSuffix("This list has been modified by another user."))
        #expect(responses[1].message.contains("\"Newcastle Tenants Federation\""))
        #expect(responses[2].iteratorID == "{1A2B}" && responses[2].iteratorRemainingCount == 1999)
        #expect(responses[2].retCount == 1 && responses[2].returned.first?.value("RefNumber") == "9668")
        #expect(responses[3].returned.isEmpty)
    }

    @Test(arguments: [
        ("<QBXML><QBXMLMsgsRq/></QBXML>", "not a qbXML response"),
        ("<Envelope/>", "not a qbXML response"),
        ("<QBXML><QBXMLMsgsRs><InvoiceAddRs requestID=\"1\"/></QBXMLMsgsRs></QBXML>", "no statusCode"),
        ("<QBXML><QBXMLMsgsRs><InvoiceAddRs statusCode=\"99999999999\"/></QBXMLMsgsRs></QBXML>", "no statusCode"),
        ("<!DOCTYPE x [<!ENTITY a \"b\">]><QBXML/>", "document type"),
        ("<QBXML><QBXMLMsgsRs>", "not well-formed"),
    ])
    func whatIsNotAnAnswerIsRefusedSayingWhy(document: String, reason: String) {
        #expect {
            try QBXML.responses(in: document)
        } throws: { error in
            (error as? XMLTree.ParseError)?.message.contains(reason) == true
        }
    }

    @Test func countsQuickBooksCouldNotHaveWrittenAreLeftOut() throws {
        let responses = try QBXML.responses(
            in: "<QBXML><QBXMLMsgsRs><InvoiceQueryRs statusCode=\"0\" iteratorRemainingCount=\"-4\" "
                + "retCount=\"99999999999999999999\"/></QBXMLMsgsRs></QBXML>")
        #expect(responses.first?.iteratorRemainingCount == nil && responses.first?.retCount == nil)
    }
}
