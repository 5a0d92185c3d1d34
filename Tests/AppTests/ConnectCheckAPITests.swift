import Accounting
import App
import Connectors
import Foundation
import HTTPTypes
import Persistence
import Synchronization
import TestSupport
import Testing

/// A platform connected some other way than OAuth, answering `checkConnection` as its platform would: reached at an
/// address with nothing to present (as Tally is: `connected` once the company is loaded there), or calling Ledgerwire
/// itself (as QuickBooks Desktop's Web Connector does).
///
/// It stands in for a platform the registry does not serve yet: until `Platform` is an open struct it takes the
/// existing `tally` and `quickbooks_desktop` values.
final class OtherwiseConnectedPlatform: Connector {
    let platform: Platform
    let scheme: AuthenticationScheme
    /// The companies loaded at the platform's address.
    let loaded = Mutex<Set<String>>([])
    /// When set, asking fails as a network failure would.
    let unreachable = Mutex(false)

    init(platform: Platform, scheme: AuthenticationScheme) {
        self.platform = platform
        self.scheme = scheme
    }

    var capabilities: ConnectorCapabilities {
        ConnectorCapabilities(webhooks: false, maximumBatchSize: 1, changeFeed: false)
    }

    func authentication(settings: JSONValue) -> AuthenticationScheme { scheme }

    func checkConnection(context: ConnectorContext) async throws(ConnectorError) -> ConnectionCheck {
        let url = context.settings["url"]?.stringValue ?? "http://127.0.0.1:9000"
        if unreachable.withLock({ $0 }) {
            throw .retryable(code: "network", message: "connection reset", retryAfter: nil)
        }
        let company = context.settings["company"]?.stringValue ?? ""
        return loaded.withLock { $0.contains(company) }
            ? .connected : .disconnected(reason: "Tally at \(url) has no company \"\(company)\" loaded")
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

@Suite struct ConnectCheckAPITests {
    let tally = OtherwiseConnectedPlatform(platform: .tally, scheme: .none)
    let desktop = OtherwiseConnectedPlatform(platform: .quickBooksDesktop, scheme: .webConnector)

    func app() throws -> TestApp {
        try TestApp(connectors: [ScriptedConnector(), tally, desktop])
    }

    func create(_ client: Client, platform: String, settings: JSONValue, tenant: String = "greenfield") async throws
        -> String
    {
        let created = try await client.call(
            .post, "/api/v1/integrations",
            json: ["tenant_id": .string(tenant), "platform": .string(platform), "name": "Books", "settings": settings])
        #expect(created.status == .created, "\(created.json)")
        return try #require(created.json["id"]?.stringValue)
    }

    @Test func aPlatformReachedAtAnAddressIsConnectedByAskingItAndSaysWhyNot() async throws {
        try await app().test { client in
            let id = try await create(
                client, platform: "tally", settings: ["url": "http://127.0.0.1:9000", "company": "Greenfield School"])
            let refused = try await client.call(.post, "/api/v1/integrations/\(id)/connect-check")
            #expect(refused.status == .ok, "\(refused.json)")
            #expect(refused.json["status"] == "disconnected")
            #expect(
                refused.json["status_reason"]
                    == "Tally at http://127.0.0.1:9000 has no company \"Greenfield School\" loaded")
            let shown = try await client.call(.get, "/api/v1/integrations/\(id)")
            #expect(
                shown.json["status"] == "disconnected" && shown.json["status_reason"] == refused.json["status_reason"])

            tally.loaded.withLock { _ = $0.insert("Greenfield School") }
            let connected = try await client.call(.post, "/api/v1/integrations/\(id)/connect-check")
            #expect(connected.status == .ok && connected.json["status"] == "connected", "\(connected.json)")
            #expect(connected.json["status_reason"] == .null)

            let audit = try await client.call(.get, "/api/v1/audit?integration_id=\(id)")
            let actions = audit.json["items"]?.arrayValue?.compactMap { $0["action"]?.stringValue } ?? []
            #expect(actions.filter { $0 == "integration.connection_checked" }.count == 2, "\(actions)")
        }
    }

    @Test func aCheckThatCannotAskChangesNothingAndSaysSo() async throws {
        try await app().test { client in
            let id = try await create(client, platform: "tally", settings: ["company": "Greenfield School"])
            tally.unreachable.withLock { $0 = true }
            let failed = try await client.call(.post, "/api/v1/integrations/\(id)/connect-check")
            #expect(failed.status == .badGateway)
            #expect(failed.json["detail"]?.stringValue?.contains("connection reset") == true, "\(failed.json)")
            #expect(try await client.call(.get, "/api/v1/integrations/\(id)").json["status"] == "pending")
        }
    }

    @Test func connectCheckIsScopedAndAuthorizedLikeTheOtherIntegrationRoutes() async throws {
        try await app().test { client in
            let id = try await create(client, platform: "tally", settings: ["company": "Greenfield School"])
            func key(_ role: String, tenant: String) async throws -> String {
                let created = try await client.call(
                    .post, "/api/v1/api-keys", json: ["name": "k", "role": .string(role), "tenant_id": .string(tenant)])
                return try #require(created.json["token"]?.stringValue, "\(created.json)")
            }
            let viewer = try await key("viewer", tenant: "greenfield")
            let otherTenant = try await key("operator", tenant: "riverside")
            let own = try await key("operator", tenant: "greenfield")
            let path = "/api/v1/integrations/\(id)/connect-check"
            #expect(try await client.call(.post, path, token: viewer).status == .forbidden)
            #expect(try await client.call(.post, path, token: otherTenant).status == .notFound)
            #expect(try await client.call(.post, path, token: nil).status == .unauthorized)
            #expect(try await client.call(.post, path, token: own).status == .ok)
        }
    }

    @Test func connectingAPlatformTheWrongWaySaysHowItConnects() async throws {
        try await app().test { client in
            let tallyID = try await create(client, platform: "tally", settings: ["company": "Greenfield School"])
            let oauth = try await client.call(.get, "/api/v1/integrations/\(tallyID)/connect")
            #expect(oauth.status == .conflict)
            #expect(oauth.headers[.contentType] == "application/problem+json")
            #expect(
                oauth.json["detail"]?.stringValue?.contains("POST /integrations/\(tallyID)/connect-check") == true,
                "\(oauth.json)")
            let imported = try await client.call(
                .put, "/api/v1/integrations/\(tallyID)/credentials",
                json: ["access_token": "token", "expires_at": "2030-01-01T00:00:00Z"])
            #expect(imported.status == .conflict, "\(imported.json)")
            #expect(try await client.call(.get, "/api/v1/integrations/\(tallyID)").json["status"] == "pending")

            let desktopID = try await create(
                client, platform: "quickbooks_desktop", settings: ["username": "greenfield"])
            let desktopOAuth = try await client.call(.get, "/api/v1/integrations/\(desktopID)/connect")
            #expect(desktopOAuth.status == .conflict)
            #expect(desktopOAuth.json["detail"]?.stringValue?.contains("Web Connector") == true, "\(desktopOAuth.json)")
            let desktopCheck = try await client.call(.post, "/api/v1/integrations/\(desktopID)/connect-check")
            #expect(desktopCheck.status == .conflict)
            #expect(desktopCheck.json["detail"]?.stringValue?.contains("Web Connector") == true)
        }
    }

    /// The Web Connector's first accepted call is what connects a QuickBooks Desktop integration.
    @Test func aPlatformThatCallsLedgerwireIsConnectedByItsFirstCall() async throws {
        let app = try app()
        try await app.test { client in
            let id = try await create(client, platform: "quickbooks_desktop", settings: ["username": "greenfield"])
            try await app.components.database.markConnected(id: id, actor: "qbwc")
            let shown = try await client.call(.get, "/api/v1/integrations/\(id)")
            #expect(shown.json["status"] == "connected")
        }
    }
}
