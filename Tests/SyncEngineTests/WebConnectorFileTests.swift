import Connectors
import Foundation
import Testing

#if canImport(FoundationXML)
import FoundationXML
#endif

/// The `.qwc` file, read as the Web Connector reads it when a person adds the application.
@Suite struct WebConnectorFileTests {
    static let owner = WebConnectorFile.guid(from: "ledgerwire")
    static let company = WebConnectorFile.guid(from: "int_greenfield")

    static func file(
        url: String = "https://ledgerwire.example.com/qbwc", support: String = "https://ledgerwire.example.com/qbwc",
        name: String = "Ledgerwire (Greenfield & Co)", user: String = "greenfield", every: Int = 5
    ) throws(WebConnectorFile.Refusal) -> WebConnectorFile {
        try WebConnectorFile(
            appName: name, appURL: URL(string: url)!, supportURL: URL(string: support)!, userName: user,
            ownerID: owner, fileID: company, runEveryMinutes: every, appDescription: "Cognify billing <-> QuickBooks")
    }

    @Test func theFileHoldsWhatTheWebConnectorNeedsInItsOrder() throws {
        let reader = QWCReader()
        let parser = XMLParser(data: Data(try Self.file().xml.utf8))
        parser.delegate = reader
        #expect(parser.parse(), "not well-formed: \(String(describing: parser.parserError))")
        #expect(
            reader.order == [
                "QBWCXML", "AppName", "AppID", "AppURL", "AppDescription", "AppSupport", "UserName", "OwnerID",
                "FileID", "QBType", "Scheduler", "RunEveryNMinutes", "IsReadOnly",
            ])
        #expect(reader.values["AppName"] == "Ledgerwire (Greenfield & Co)")
        #expect(reader.values["AppURL"] == "https://ledgerwire.example.com/qbwc")
        #expect(reader.values["AppDescription"] == "Cognify billing <-> QuickBooks")
        #expect(reader.values["UserName"] == "greenfield")
        #expect(reader.values["QBType"] == "QBFS")
        #expect(reader.values["RunEveryNMinutes"] == "5")
        #expect(reader.values["IsReadOnly"] == "false")
        for key in ["OwnerID", "FileID"] {
            let value = try #require(reader.values[key])
            // A GUID in braces, as the Web Connector reads it.
            #expect(
                value.hasPrefix("{") && value.hasSuffix("}")
                    && UUID(uuidString: String(value.dropFirst().dropLast())) != nil)
        }
    }

    @Test func theGUIDsAreTheSameEachTimeAndApartForEachSeed() {
        #expect(WebConnectorFile.guid(from: "int_greenfield") == Self.company)
        #expect(WebConnectorFile.guid(from: "int_riverside") != Self.company)
        // A name-based GUID: version 5, RFC 4122 variant.
        let text = Self.company.uuidString
        #expect(Array(text)[14] == "5" && "89AB".contains(Array(text)[19]))
    }

    @Test(arguments: [
        ("http://ledgerwire.example.com/qbwc", "https://ledgerwire.example.com/qbwc", "app_url"),
        ("ftp://ledgerwire.example.com/qbwc", "https://ledgerwire.example.com/qbwc", "app_url"),
        ("https://ledgerwire.example.com/qbwc", "https://elsewhere.example.com/help", "support_url"),
        ("https://ledgerwire.example.com/qbwc", "http://ledgerwire.example.com/help", "support_url"),
    ])
    func aServerTheWebConnectorWouldNotPollIsRefusedNamingTheSetting(url: String, support: String, field: String) {
        #expect {
            try Self.file(url: url, support: support)
        } throws: { error in
            (error as? WebConnectorFile.Refusal)?.field == field
        }
    }

    @Test func plainHTTPIsTakenForThisMachineOnly() throws {
        let local = try Self.file(url: "http://localhost:8080/qbwc", support: "http://localhost:8080/qbwc")
        #expect(local.xml.contains("<AppURL>http://localhost:8080/qbwc</AppURL>"))
    }

    @Test(arguments: [0, -5, 1_441])
    func aScheduleOutsideOneMinuteToADayIsRefused(every: Int) {
        #expect {
            try Self.file(every: every)
        } throws: { error in
            (error as? WebConnectorFile.Refusal)?.field == "run_every_minutes"
        }
    }

    @Test func anEmptyNameOrUserIsRefused() {
        #expect(throws: WebConnectorFile.Refusal.self) { try Self.file(name: "  ") }
        #expect(throws: WebConnectorFile.Refusal.self) { try Self.file(user: "") }
    }
}

/// The elements of a `.qwc` in document order, and each one's text.
private final class QWCReader: NSObject, XMLParserDelegate {
    var order: [String] = []
    var values: [String: String] = [:]
    private var current: String?

    func parser(
        _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName: String?,
        attributes: [String: String] = [:]
    ) {
        order.append(elementName)
        current = elementName
        values[elementName] = ""
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        if let current { values[current, default: ""] += string }
    }

    func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName: String?) {
        current = nil
    }
}
