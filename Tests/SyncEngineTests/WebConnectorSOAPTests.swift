import Connectors
import Foundation
import Testing

#if canImport(FoundationXML)
import FoundationXML
#endif

/// The QuickBooks Web Connector's SOAP calls as clients write them (platforms.md §3.2: Intuit's .NET client, the
/// PHP tester's prefixed form), read into calls; `/qbwc`'s answers, faults and WSDL as the Web Connector reads them.
@Suite struct WebConnectorSOAPTests {
    static let qbXMLAnswer = """
        <?xml version="1.0" ?><QBXML><QBXMLMsgsRs><InvoiceAddRs requestID="inv_1" statusCode="0" \
        statusSeverity="Info" statusMessage="Status OK"><InvoiceRet><TxnID>1A-1</TxnID><RefNumber>INV &amp; 1\
        </RefNumber></InvoiceRet></InvoiceAddRs></QBXMLMsgsRs></QBXML>
        """

    static func read(_ text: String) throws(WebConnectorSOAP.ParseError) -> WebConnectorCall {
        try WebConnectorSOAP.read(Data(text.utf8))
    }

    @Test func authenticateAsTheTesterSendsItWithTypedFieldsInTheDefaultNamespace() throws {
        let call = try Self.read(
            """
            <?xml version="1.0" encoding="UTF-8"?>
            <SOAP-ENV:Envelope xmlns:xsd="http://www.w3.org/2001/XMLSchema" \
            xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" \
            xmlns:SOAP-ENC="http://schemas.xmlsoap.org/soap/encoding/" \
            SOAP-ENV:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/" \
            xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/">
            <SOAP-ENV:Body><authenticate xmlns="http://developer.intuit.com/">
            <strUserName xsi:type="xsd:string">greenfield</strUserName>
            <strPassword xsi:type="xsd:string">p&amp;ss &lt;word&gt;</strPassword>
            </authenticate></SOAP-ENV:Body></SOAP-ENV:Envelope>
            """)
        #expect(call == .authenticate(userName: "greenfield", password: "p&ss <word>"))
        #expect(call.operation == "authenticate" && call.ticket == nil)
    }

    @Test func sendRequestXMLWithPrefixedFieldsCarriesTheCompanyAndTheHighestQBXMLVersion() throws {
        let call = try Self.read(
            """
            <SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" \
            xmlns:ns1="http://developer.intuit.com/"><SOAP-ENV:Body><ns1:sendRequestXML>
            <ns1:ticket>6a1c-ticket</ns1:ticket>
            <ns1:strHCPResponse>&lt;QBXML&gt;&lt;/QBXML&gt;</ns1:strHCPResponse>
            <ns1:strCompanyFileName>C:\\Company Files\\Greenfield.QBW</ns1:strCompanyFileName>
            <ns1:qbXMLCountry>US</ns1:qbXMLCountry>
            <ns1:qbXMLMajorVers>16</ns1:qbXMLMajorVers><ns1:qbXMLMinorVers>0</ns1:qbXMLMinorVers>
            </ns1:sendRequestXML></SOAP-ENV:Body></SOAP-ENV:Envelope>
            """)
        guard case .sendRequestXML(let turn) = call else {
            Issue.record("read as \(call)")
            return
        }
        #expect(turn.ticket == "6a1c-ticket" && call.ticket == "6a1c-ticket")
        #expect(turn.hostResponse == "<QBXML></QBXML>")
        #expect(turn.companyFileName == "C:\\Company Files\\Greenfield.QBW")
        #expect(turn.country == "US")
        #expect(turn.qbXMLVersion == QBXMLVersion(major: 16, minor: 0))
    }

    @Test(arguments: [true, false])
    func receiveResponseXMLKeepsQuickBooksAnswerExactlyEscapedOrInCDATA(cdata: Bool) throws {
        var escaped = ""
        for character in Self.qbXMLAnswer {
            switch character {
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "&": escaped += "&amp;"
            default: escaped.append(character)
            }
        }
        let carried = cdata ? "<![CDATA[\(Self.qbXMLAnswer)]]>" : escaped
        let call = try Self.read(
            """
            <soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" \
            xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema">
            <soap:Body><receiveResponseXML xmlns="http://developer.intuit.com/"><ticket>T-1</ticket>\
            <response>\(carried)</response><hresult /><message /></receiveResponseXML></soap:Body></soap:Envelope>
            """)
        #expect(call == .receiveResponseXML(.init(ticket: "T-1", response: Self.qbXMLAnswer)))
    }

    @Test func everyOperationOfTheServiceIsRead() throws {
        func envelope(_ operation: String, _ fields: String = "") -> String {
            """
            <s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>\
            <\(operation) xmlns="http://developer.intuit.com/">\(fields)</\(operation)></s:Body></s:Envelope>
            """
        }
        #expect(try Self.read(envelope("serverVersion")) == .serverVersion)
        #expect(
            try Self.read(envelope("clientVersion", "<strVersion>2.3.0.36</strVersion>")) == .clientVersion("2.3.0.36"))
        #expect(
            try Self.read(
                envelope(
                    "connectionError",
                    "<ticket>T</ticket><hresult>0x80040408</hresult><message>Could not start QuickBooks.</message>"))
                == .connectionError(ticket: "T", hresult: "0x80040408", message: "Could not start QuickBooks."))
        #expect(try Self.read(envelope("getLastError", "<ticket>T</ticket>")) == .getLastError(ticket: "T"))
        #expect(try Self.read(envelope("closeConnection", "<ticket>T</ticket>")) == .closeConnection(ticket: "T"))
        // A first call before QuickBooks reported a version: no version, not a refusal.
        #expect(
            try Self.read(envelope("sendRequestXML", "<ticket>T</ticket><qbXMLMajorVers/><qbXMLMinorVers/>"))
                == .sendRequestXML(.init(ticket: "T")))
    }

    /// A body that is not a call, and what its refusal says.
    struct Refusal: Sendable, CustomTestStringConvertible {
        let body: String
        let reason: String

        var testDescription: String { reason }
    }

    static let open = "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body>"
    static let close = "</s:Body></s:Envelope>"

    static let refusals: [Refusal] = {
        var refusals: [Refusal] = []
        let laughs = "<?xml version=\"1.0\"?><!DOCTYPE lol [<!ENTITY lol \"lol\"><!ENTITY lol2 \"&lol;&lol;\">]>"
        refusals.append(Refusal(body: laughs + open + "&lol2;" + close, reason: "document type declaration"))
        refusals.append(
            Refusal(
                body: "<s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\"><s:Body/></s:Envelope>",
                reason: "SOAP 1.1"))
        refusals.append(Refusal(body: "<Envelope><Body/></Envelope>", reason: "SOAP 1.1"))
        refusals.append(
            Refusal(body: "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"/>", reason: "no Body"))
        refusals.append(Refusal(body: open + close, reason: "no operation"))
        refusals.append(
            Refusal(
                body: open + "<authenticate xmlns=\"http://example.com/\"/>" + close, reason: "not in the namespace"))
        refusals.append(
            Refusal(
                body: open + "<dropTables xmlns=\"http://developer.intuit.com/\"/>" + close,
                reason: "no operation dropTables"))
        for (major, minor) in [("1000", "0"), ("13", "x"), ("0", "0")] {
            let fields = "<qbXMLMajorVers>\(major)</qbXMLMajorVers><qbXMLMinorVers>\(minor)</qbXMLMinorVers>"
            refusals.append(
                Refusal(
                    body: open + "<sendRequestXML xmlns=\"http://developer.intuit.com/\">" + fields
                        + "</sendRequestXML>" + close,
                    reason: "must be a qbXML version"))
        }
        let deep = String(repeating: "<a>", count: 40) + String(repeating: "</a>", count: 40)
        refusals.append(Refusal(body: deep, reason: "deeper than 16"))
        refusals.append(Refusal(body: open, reason: "not well-formed"))
        return refusals
    }()

    @Test(arguments: refusals)
    func whatIsNotACallIsRefusedSayingWhy(_ refusal: Refusal) {
        #expect {
            try Self.read(refusal.body)
        } throws: { error in
            (error as? WebConnectorSOAP.ParseError)?.message.contains(refusal.reason) == true
        }
    }

    /// Found by FuzzWebConnectorSOAP: a name that is not UTF-8 trapped inside Foundation's parser.
    @Test(arguments: [
        Data("<?xml version=\"1.0\" encoding=\"utf-8\"?><soap".utf8) + Data([0xC1])
            + Data("Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\"/>".utf8),
        Data(Self.open.utf8) + Data([0xFF, 0xFE]) + Data(Self.close.utf8),
    ])
    func bytesThatAreNotUTF8AreRefusedBeforeTheParserSeesThem(body: Data) {
        #expect {
            try WebConnectorSOAP.read(body)
        } throws: { error in
            (error as? WebConnectorSOAP.ParseError)?.message == "the document is not UTF-8 text"
        }
    }

    @Test func aDeclarationNamingAnotherEncodingDoesNotChangeHowTheBytesAreRead() throws {
        let call = try Self.read(
            "<?xml version=\"1.0\" encoding=\"utf-16\"?>" + Self.open
                + "<clientVersion xmlns=\"http://developer.intuit.com/\"><strVersion>2.3.0.36 — é</strVersion>"
                + "</clientVersion>" + Self.close)
        #expect(call == .clientVersion("2.3.0.36 — é"))
    }

    @Test func aBodyPastTheLimitIsRefusedUnread() {
        let body = Data(count: WebConnectorSOAP.maximumBodyBytes + 1)
        #expect {
            try WebConnectorSOAP.read(body)
        } throws: { error in
            (error as? WebConnectorSOAP.ParseError)?.message == "the request is larger than 16777216 bytes"
        }
    }

    @Test func answersAreTheOperationsResponseElementsInTheServiceNamespace() throws {
        let prefix =
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\""
            + " xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\">"
            + "<soap:Body>"
        let suffix = "</soap:Body></soap:Envelope>"
        func text(_ answer: WebConnectorAnswer) -> String {
            String(decoding: WebConnectorSOAP.envelope(answer), as: UTF8.self)
        }
        #expect(
            text(.authenticate(["6a1c-ticket", "none"])) == prefix
                + "<authenticateResponse xmlns=\"http://developer.intuit.com/\"><authenticateResult>"
                + "<string>6a1c-ticket</string><string>none</string></authenticateResult></authenticateResponse>"
                + suffix)
        #expect(
            text(.receiveResponseXML(45)) == prefix
                + "<receiveResponseXMLResponse xmlns=\"http://developer.intuit.com/\">"
                + "<receiveResponseXMLResult>45</receiveResponseXMLResult></receiveResponseXMLResponse>" + suffix)
        // A qbXML request goes escaped, and reads back exactly as the Web Connector will hand it to QuickBooks.
        let request =
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><?qbxml version=\"13.0\"?><QBXML>"
            + "<QBXMLMsgsRq onError=\"continueOnError\"><CustomerQueryRq requestID=\"1\"><FullName>Asha &amp; Co"
            + "</FullName></CustomerQueryRq></QBXMLMsgsRq></QBXML>"
        let answered = try ResultReader.result(of: WebConnectorSOAP.envelope(.sendRequestXML(request)))
        #expect(answered == ["sendRequestXMLResult": request])
        #expect(
            try ResultReader.result(of: WebConnectorSOAP.envelope(.getLastError("NoOp"))) == [
                "getLastErrorResult": "NoOp"
            ])
    }

    @Test func aFaultSaysWhoIsAtFaultAndWhy() {
        let text = String(decoding: WebConnectorSOAP.fault("the ticket <T> is not valid"), as: UTF8.self)
        #expect(
            text.contains(
                "<soap:Body><soap:Fault><faultcode>soap:Client</faultcode>"
                    + "<faultstring>the ticket &lt;T&gt; is not valid</faultstring></soap:Fault></soap:Body>"))
        #expect(String(decoding: WebConnectorSOAP.fault("down", client: false), as: UTF8.self).contains("soap:Server"))
    }

    @Test func theWSDLIsWellFormedAndBindsEveryOperationToItsSOAPAction() throws {
        let wsdl = WebConnectorSOAP.wsdl(location: "https://ledgerwire.example.com/qbwc?a=1&b=2")
        let reader = ResultReader()
        let parser = XMLParser(data: Data(wsdl.utf8))
        parser.delegate = reader
        #expect(parser.parse(), "the WSDL is not well-formed: \(String(describing: parser.parserError))")
        let operations = [
            "serverVersion", "clientVersion", "authenticate", "sendRequestXML", "receiveResponseXML",
            "connectionError", "getLastError", "closeConnection",
        ]
        #expect(reader.soapActions == operations.map { "http://developer.intuit.com/\($0)" })
        #expect(reader.location == "https://ledgerwire.example.com/qbwc?a=1&b=2")
        #expect(wsdl.contains("name=\"receiveResponseXMLResult\" type=\"s:int\""))
        #expect(wsdl.contains("name=\"authenticateResult\" type=\"tns:ArrayOfString\""))
    }
}

private struct NotWellFormed: Error {}

/// Reads what a SOAP client would: each `…Result` element's text, the WSDL's `soapAction`s and address.
private final class ResultReader: NSObject, XMLParserDelegate {
    var results: [String: String] = [:]
    var soapActions: [String] = []
    var location: String?
    private var current: String?

    static func result(of data: Data) throws -> [String: String] {
        let reader = ResultReader()
        let parser = XMLParser(data: data)
        parser.delegate = reader
        guard parser.parse() else { throw NotWellFormed() }
        return reader.results
    }

    func parser(
        _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName: String?,
        attributes: [String: String] = [:]
    ) {
        if elementName.hasSuffix("Result") {
            current = elementName
            results[elementName] = ""
        }
        if elementName == "soap:operation", let action = attributes["soapAction"] { soapActions.append(action) }
        if elementName == "soap:address" { location = attributes["location"] }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        if let current { results[current, default: ""] += string }
    }

    func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName: String?) {
        if elementName == current { current = nil }
    }
}
