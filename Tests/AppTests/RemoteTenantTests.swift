import Accounting
import App
import Connectors
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Persistence
import TestSupport
import Testing

/// A platform company is connected to at most one active integration across all tenants, so a webhook for it is
/// routed to that one or kept unroutable (issue 11, item 6).
@Suite struct RemoteTenantTests {
    let realm = "9341453474484455"

    func createIntegration(_ client: Client, tenant: String) async throws -> String {
        let created = try await client.call(
            .post, "/api/v1/integrations",
            json: ["tenant_id": .string(tenant), "platform": "quickbooks_online", "name": .string("\(tenant) books")])
        #expect(created.status == .created)
        return try #require(created.json["id"]?.stringValue)
    }

    func connect(_ client: Client, _ id: String, realm: String) async throws -> Client.Answer {
        try await client.call(
            .put, "/api/v1/integrations/\(id)/credentials",
            json: [
                "access_token": .string("at-\(UUID())"), "refresh_token": "rt", "expires_at": "2030-01-01T00:00:00Z",
                "realm_id": .string(realm),
            ])
    }

    /// Tokens obtained elsewhere name the company in the platform's own words: a Sage business by `business_id`,
    /// shown back under that name; two names for one company are refused, naming the second.
    @Test func importedSageCredentialsNameTheirBusiness() async throws {
        let app = try TestApp()
        try await app.test { client in
            let created = try await client.call(
                .post, "/api/v1/integrations", json: ["platform": "sage_business_cloud", "name": "Sage books"])
            let id = try #require(created.json["id"]?.stringValue)
            let business = "0f3c1a9e5b7d4e2f8a6c3b1d9e7f5a2c"
            let both = try await client.call(
                .put, "/api/v1/integrations/\(id)/credentials",
                json: [
                    "access_token": "at", "expires_at": "2030-01-01T00:00:00Z", "realm_id": "9341453474484455",
                    "business_id": .string(business),
                ])
            #expect(both.status == .unprocessableContent)
            #expect(both.json["errors"]?.arrayValue?.compactMap { $0["field"]?.stringValue } == ["business_id"])
            let answer = try await client.call(
                .put, "/api/v1/integrations/\(id)/credentials",
                json: ["access_token": "at", "expires_at": "2030-01-01T00:00:00Z", "business_id": .string(business)])
            #expect(answer.status == .ok, "\(answer.json)")
            #expect(answer.json["business_id"]?.stringValue == business)
            #expect(answer.json["remote_tenant_id"]?.stringValue == business)
            #expect(answer.json["status"] == "connected")
        }
    }

    @Test func aCompanyConnectedToOneIntegrationIsRefusedToAnotherUntilReleased() async throws {
        let app = try TestApp()
        try await app.test { client in
            let first = try await createIntegration(client, tenant: "greenfield")
            let second = try await createIntegration(client, tenant: "riverside")
            #expect(try await connect(client, first, realm: realm).status == .ok)

            let refused = try await connect(client, second, realm: realm)
            #expect(refused.status == .conflict)
            #expect(refused.headers[.contentType] == "application/problem+json")
            let detail = try #require(refused.json["detail"]?.stringValue)
            #expect(detail.contains(realm))
            #expect(!detail.contains("greenfield") && !detail.contains(first), "the other tenant is named: \(detail)")

            // Reconnecting the same integration is fine.
            #expect(try await connect(client, first, realm: realm).status == .ok)

            // Disabling releases it; enabling the first again while the second holds it is refused.
            #expect(
                try await client.call(.patch, "/api/v1/integrations/\(first)", json: ["status": "disabled"]).status
                    == .ok)
            #expect(try await connect(client, second, realm: realm).status == .ok)
            #expect(
                try await client.call(.patch, "/api/v1/integrations/\(first)", json: ["status": "enabled"]).status
                    == .conflict)
            let routed = try await app.components.database.integration(
                platform: .quickBooksOnline, remoteTenantID: realm)
            #expect(routed?.id == second)

            // Deleting releases it too.
            #expect(try await client.call(.delete, "/api/v1/integrations/\(second)").status == .noContent)
            #expect(
                try await app.components.database.integration(platform: .quickBooksOnline, remoteTenantID: realm)
                    == nil)
            #expect(
                try await client.call(.patch, "/api/v1/integrations/\(first)", json: ["status": "enabled"]).status
                    == .ok)
            #expect(
                try await app.components.database.integration(platform: .quickBooksOnline, remoteTenantID: realm)?
                    .id == first)
        }
    }

    /// The OAuth callback connects a company too: one another tenant's integration holds is refused the same way.
    @Test func theOAuthCallbackIsRefusedACompanyConnectedElsewhere() async throws {
        let authority = TokenAuthority(latency: .zero, now: Timestamp.now)
        let app = try TestApp(connectors: [ScriptedConnector()], transport: authority)
        try await app.test { client in
            let first = try await createIntegration(client, tenant: "greenfield")
            #expect(try await connect(client, first, realm: realm).status == .ok)
            let created = try await client.call(
                .post, "/api/v1/integrations",
                json: [
                    "tenant_id": "riverside", "platform": "quickbooks_online", "name": "Books",
                    "settings": [
                        "client_id": "client-1", "client_secret": "secret-1",
                        "redirect_uri": "https://ledgerwire.test/oauth/callback",
                        "oauth_token_url": "https://emulator.test/oauth2/v1/tokens/bearer",
                    ],
                ])
            let second = try #require(created.json["id"]?.stringValue)
            let redirect = try await client.call(.get, "/api/v1/integrations/\(second)/connect")
            let location = try #require(redirect.headers[.location])
            let parameters = Dictionary(
                (URLComponents(string: location)?.queryItems ?? []).map { ($0.name, $0.value ?? "") },
                uniquingKeysWith: { _, last in last })
            let state = try #require(parameters["state"])
            let code = authority.authorize(codeChallenge: parameters["code_challenge"])
            let callback = try await client.call(
                .get, "/oauth/callback?code=\(code)&state=\(state)&realmId=\(realm)", token: nil)
            #expect(callback.status == .conflict)
            #expect(callback.json["detail"]?.stringValue?.contains("greenfield") == false)
            #expect(
                try await app.components.database.integration(platform: .quickBooksOnline, remoteTenantID: realm)?.id
                    == first)
        }
    }
}
