import Accounting
import App
import Connectors
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Synchronization
import TestSupport
import Testing

/// A Tally stand-in connector that asks its books over HTTP as the Tally connector does: to `settings.url`, or with
/// `settings.connection: "agent"` to `agent://<integration id>/`, through the transport the server gives it.
final class AgentAddressedConnector: Connector {
    let platform = Platform.tally
    var capabilities: ConnectorCapabilities {
        ConnectorCapabilities(webhooks: false, maximumBatchSize: 1, changeFeed: false)
    }

    func authentication(settings: JSONValue) -> AuthenticationScheme { .none }

    func checkConnection(context: ConnectorContext) async throws(ConnectorError) -> ConnectionCheck {
        let url =
            context.settings["connection"]?.stringValue == "agent"
            ? AgentRoutingTransport.url(integrationID: context.integrationID)
            : context.settings["url"]?.stringValue.flatMap(URL.init(string:))
        guard let url else { return .disconnected(reason: "no address") }
        do throws(TransportError) {
            let answer = try await context.transport.send(
                TransportRequest(
                    method: "POST", url: url, headers: [("Content-Type", "text/xml;charset=utf-16")],
                    body: AgentRelayTests.utf16("<ENVELOPE/>"), timeout: .seconds(10)))
            return answer.status == 200 ? .connected : .disconnected(reason: "Tally answered \(answer.status)")
        } catch .cannotConnect(let reason) {
            throw .unreachable(code: "unreachable", message: "tally could not be reached: \(reason)")
        } catch {
            throw .retryable(code: "uncertain", message: "\(error)", retryAfter: nil)
        }
    }

    func push(_ request: PushRequest, context: ConnectorContext) async throws -> PushResult {
        throw ConnectorError.validation(code: "unsupported", message: "not in this test")
    }

    func pull(recordType: RecordType, remoteID: String, context: ConnectorContext) async throws -> RemoteRecord? { nil }

    func changes(since cursor: String?, context: ConnectorContext) async throws -> ChangePage {
        ChangePage(changes: [], nextCursor: nil, hasMore: false)
    }

    func remoteChart(context: ConnectorContext) async throws -> RemoteChart {
        RemoteChart(accounts: [], taxCodes: [], items: [])
    }

    func confirmsAccess(to remoteTenantID: String, context: ConnectorContext) async throws(ConnectorError) -> Bool {
        true
    }
}

/// `POST /integrations/{id}/connect-check` of a Tally integration reached through its agent: the server's own call
/// path (the platform access, the process's transport) with the agent's loop and a stand-in Tally on loopback.
@Suite struct AgentConnectCheckTests {
    @Test func theCheckGoesThroughTheAgentAndSaysWhenNoAgentIsConnected() async throws {
        let tally = TallyAgentLoopbackTests.StandIn()
        try await tally.application.test(.live) { tallyLive in
            let app = try TestApp(connectors: [AgentAddressedConnector()])
            try await app.application.test(.live) { live in
                let client = Client(client: live)
                let id = try await AgentRoutesTests.tallyIntegration(client)
                // No agent yet: the check could not ask, and says why; the integration is left as it was.
                let refused = try await client.call(.post, "/api/v1/integrations/\(id)/connect-check")
                #expect(refused.status == .badGateway)
                #expect(
                    refused.json["detail"]?.stringValue?.contains(
                        "the Tally agent of integration \(id) is not connected") == true, "\(refused.json)")
                #expect(tally.received.withLock { $0.isEmpty })

                let token = try await AgentRoutesTests.agentToken(client, id)
                let agent = RelayAgent(
                    configuration: .init(
                        server: URL(string: "http://127.0.0.1:\(try #require(live.port))")!, token: token,
                        books: URL(string: "http://127.0.0.1:\(try #require(tallyLive.port))")!, wait: .seconds(2)),
                    server: HTTPClientTransport(policy: TestApp.loopback),
                    books: HTTPClientTransport(policy: TestApp.loopback), logger: Logger(label: "test.agent"))
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { await agent.run() }
                    while await !app.components.agentRelay.isConnected(integrationID: id) {
                        try await Task.sleep(for: .milliseconds(10))
                    }
                    let checked = try await client.call(.post, "/api/v1/integrations/\(id)/connect-check")
                    #expect(checked.status == .ok, "\(checked.json)")
                    #expect(checked.json["status"] == "connected")
                    #expect(tally.received.withLock { $0.count } == 1)
                    group.cancelAll()
                }
            }
        }
    }
}
