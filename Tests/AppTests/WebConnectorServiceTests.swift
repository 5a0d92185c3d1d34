import Accounting
import Connectors
import Foundation
import HTTPTypes
import Persistence
import SyncEngine
import Testing

@testable import App

/// `/qbwc`'s answers call by call, with no workers running: what the Web Connector is told while jobs have not built
/// their requests yet (`NoOp`, then a run that ends), about old Web Connectors, tickets it was not given, and a second
/// session of one company.
@Suite struct WebConnectorServiceTests {
    /// A QuickBooks Desktop integration with a customer's job queued (no worker will run it), and `/qbwc`'s service.
    static func service() async throws -> (WebConnectorController, password: String, app: TestApp) {
        let app = try TestApp(connectors: [QuickBooksDesktopConnector()])
        let password = try await app.test { client in
            let (_, signer) = try await client.addBillingSecret()
            let created = try await client.call(
                .post, "/api/v1/integrations",
                json: [
                    "tenant_id": "school", "platform": "quickbooks_desktop", "name": "School QB",
                    "settings": ["username": "school-qb"],
                ])
            #expect(created.status == .created, "\(created.json)")
            let delivered = try await client.deliver(
                [
                    "type": "customer.created", "timestamp": .string(Timestamp.now().rfc3339), "tenant_id": "school",
                    "data": ["id": "cus_1", "name": "Asha Rao", "updated_at": .string(Timestamp.now().rfc3339)],
                ],
                signer: signer)
            #expect(delivered.status == .ok, "\(delivered.json)")
            return try #require(created.json["settings"]?["password"]?.stringValue)
        }
        let service = WebConnectorController(
            database: app.components.database, signal: WorkSignal(), now: { Timestamp.now() },
            settleTime: .milliseconds(100))
        return (service, password, app)
    }

    static func turn(_ ticket: String) -> WebConnectorCall {
        .sendRequestXML(
            WebConnectorCall.RequestTurn(
                ticket: ticket, hostResponse: "", companyFileName: "C:\\School.qbw", country: "US",
                qbXMLVersion: QBXMLVersion(major: 13, minor: 0)))
    }

    @Test func whileJobsHaveNotBuiltTheirRequestsTheWebConnectorPausesThenTheRunEnds() async throws {
        let (service, password, _) = try await Self.service()
        guard
            case .authenticate(let strings) = try await service.answer(
                .authenticate(userName: "school-qb", password: password), address: "192.0.2.1")
        else { throw TestFailure("not an authenticate answer") }
        #expect(strings.count == 2 && strings[1] == "", "a session: \(strings)")
        let ticket = strings[0]

        // The first turn reads the lists and the changes.
        guard case .sendRequestXML(let first) = try await service.answer(Self.turn(ticket), address: "192.0.2.1")
        else { throw TestFailure("not a sendRequestXML answer") }
        #expect(first.contains("<?qbxml version=\"13.0\"?>") && first.contains("onError=\"continueOnError\""))
        let requestIDs =
            ["lists-Item", "lists-SalesTaxCode", "lists-Account"]
            + QuickBooksDesktopChanges.kinds.map { "changes-\($0)" }
        for id in requestIDs { #expect(first.contains("requestID=\"\(id)\""), "\(id)") }
        var answers = "<?xml version=\"1.0\" ?><QBXML><QBXMLMsgsRs>"
        for id in requestIDs {
            answers += "<X requestID=\"\(id)\" statusCode=\"1\" statusSeverity=\"Info\" statusMessage=\"none\"/>"
        }
        answers += "</QBXMLMsgsRs></QBXML>"
        let percent = try await service.answer(
            .receiveResponseXML(WebConnectorCall.ResponseTurn(ticket: ticket, response: answers)), address: "x")
        #expect(percent == .receiveResponseXML(50), "the customer's job is still to go: \(percent)")

        // No worker builds the customer's request: NoOp pauses, three of them, then a run that ends.
        for _ in 0..<WebConnectorController.maximumPauses {
            #expect(try await service.answer(Self.turn(ticket), address: "x") == .sendRequestXML(""))
            #expect(try await service.answer(.getLastError(ticket: ticket), address: "x") == .getLastError("NoOp"))
        }
        guard case .sendRequestXML(let last) = try await service.answer(Self.turn(ticket), address: "x") else {
            throw TestFailure("not a sendRequestXML answer")
        }
        #expect(last.contains("<HostQueryRq requestID=\"finish\">"), "\(last)")
        let finished = try await service.answer(
            .receiveResponseXML(
                WebConnectorCall.ResponseTurn(
                    ticket: ticket,
                    response: "<QBXML><QBXMLMsgsRs><HostQueryRs requestID=\"finish\" statusCode=\"0\" "
                        + "statusSeverity=\"Info\" statusMessage=\"Status OK\"/></QBXMLMsgsRs></QBXML>")),
            address: "x")
        #expect(finished == .receiveResponseXML(100))
        guard case .closeConnection = try await service.answer(.closeConnection(ticket: ticket), address: "x") else {
            throw TestFailure("not a closeConnection answer")
        }
        // The ticket opens nothing after the session.
        #expect(
            try await service.answer(.getLastError(ticket: ticket), address: "x")
                == .getLastError(WebConnectorController.invalidTicket))
        #expect(try await service.answer(Self.turn(ticket), address: "x") == .sendRequestXML(""))
    }

    @Test func oneSessionPerCompanyAndForgedTicketsOpenNothing() async throws {
        let (service, password, _) = try await Self.service()
        guard
            case .authenticate(let first) = try await service.answer(
                .authenticate(userName: "school-qb", password: password), address: "x")
        else { throw TestFailure("not an authenticate answer") }
        #expect(first[1] == "")
        #expect(
            try await service.answer(.authenticate(userName: "school-qb", password: password), address: "x")
                .authenticateStatus == "busy")
        #expect(
            try await service.answer(.authenticate(userName: "school-qb", password: "wrong-password-1"), address: "x")
                .authenticateStatus == "nvu")
        #expect(
            try await service.answer(.authenticate(userName: "nobody", password: password), address: "x")
                .authenticateStatus == "nvu")
        let forged = UUID().uuidString
        #expect(
            try await service.answer(
                .receiveResponseXML(WebConnectorCall.ResponseTurn(ticket: forged, response: "<QBXML/>")), address: "x")
                == .receiveResponseXML(-1))
        #expect(
            try await service.answer(
                .connectionError(ticket: forged, hresult: "0x80040408", message: "x"), address: "x")
                == .connectionError("done"))
    }

    @Test func aWebConnectorUserNameNamesOneIntegration() async throws {
        let (_, _, app) = try await Self.service()
        try await app.test { client in
            let twin = try await client.call(
                .post, "/api/v1/integrations",
                json: [
                    "tenant_id": "other", "platform": "quickbooks_desktop", "name": "Other QB",
                    "settings": ["username": "school-qb", "password": "short"],
                ])
            #expect(twin.status == .unprocessableContent)
            let fields = (twin.json["errors"]?.arrayValue ?? []).compactMap { $0["field"]?.stringValue }
            #expect(fields.sorted() == ["settings.password", "settings.username"], "\(twin.json)")
        }
    }

    @Test func oldWebConnectorsAreWarnedOrRefused() {
        #expect(WebConnectorController.clientVersionAnswer("2.3.0.215") == "")
        #expect(WebConnectorController.clientVersionAnswer("2.2.0.71").hasPrefix("W:"))
        #expect(WebConnectorController.clientVersionAnswer("1.5.0.1") == "O:2.1.0.30")
        #expect(WebConnectorController.clientVersionAnswer("") == "O:2.1.0.30")
        #expect(WebConnectorController.clientVersionAnswer("99999999999999999999.1") == "")
    }
}

extension WebConnectorAnswer {
    /// `authenticate`'s second string.
    fileprivate var authenticateStatus: String? {
        if case .authenticate(let strings) = self, strings.count > 1 { return strings[1] }
        return nil
    }
}
