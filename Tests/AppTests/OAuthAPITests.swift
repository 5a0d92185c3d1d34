import Accounting
import Connectors
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Persistence
import TestSupport
import Testing

@Suite struct OAuthAPITests {
    let authority = TokenAuthority(latency: .zero, now: Timestamp.now)

    func app() throws -> TestApp {
        try TestApp(connectors: [ScriptedConnector()], transport: authority)
    }

    func createIntegration(_ client: Client, settings: JSONValue? = nil) async throws -> String {
        let created = try await client.call(
            .post, "/api/v1/integrations",
            json: [
                "tenant_id": "greenfield", "platform": "quickbooks_online", "name": "Books",
                "settings": settings
                    ?? [
                        "client_id": "client-1", "client_secret": "secret-1",
                        "redirect_uri": "https://ledgerwire.test/oauth/callback",
                        "oauth_token_url": "https://emulator.test/oauth2/v1/tokens/bearer",
                    ],
            ])
        return try #require(created.json["id"]?.stringValue)
    }

    /// The query items of a `Location` header.
    func query(_ location: String?) throws -> [String: String] {
        let text = try #require(location)
        let components = try #require(URLComponents(string: text))
        return Dictionary(
            (components.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { _, last in last })
    }

    @Test func connectingGoesThroughTheAuthorizationServerWithPKCEAndAStateUsedOnce() async throws {
        try await app().test { client in
            let id = try await createIntegration(client)
            let redirect = try await client.call(.get, "/api/v1/integrations/\(id)/connect")
            #expect(redirect.status == .found)
            let location = redirect.headers[.location]
            #expect(location?.hasPrefix("https://appcenter.books.test/connect/oauth2?") == true)
            let parameters = try query(location)
            #expect(parameters["client_id"] == "client-1" && parameters["response_type"] == "code")
            #expect(parameters["scope"] == "com.intuit.quickbooks.accounting")
            #expect(parameters["redirect_uri"] == "https://ledgerwire.test/oauth/callback")
            #expect(parameters["code_challenge_method"] == "S256")
            let state = try #require(parameters["state"])
            #expect(state.count >= 43)

            // The person consents; the platform sends the browser back with a code bound to the challenge.
            let code = authority.authorize(codeChallenge: parameters["code_challenge"])
            let callback = try await client.call(
                .get, "/oauth/callback?code=\(code)&state=\(state)&realmId=9130354", token: nil)
            #expect(callback.status == .ok)
            #expect(callback.json["status"] == "connected")
            #expect(!callback.json.canonicalString.contains(authority.issued[0].accessToken))
            // The integration shows the company it is connected to, under QuickBooks' name for it.
            let shown = try await client.call(.get, "/api/v1/integrations/\(id)").json
            #expect(shown["realm_id"] == "9130354" && shown["remote_tenant_id"] == "9130354")

            let again = try await client.call(
                .get, "/oauth/callback?code=\(code)&state=\(state)&realmId=9130354", token: nil)
            #expect(again.status == .badRequest)
            #expect(again.json["detail"]?.stringValue?.contains("already used") == true)

            let audit = try await client.call(.get, "/api/v1/audit?integration_id=\(id)").json.canonicalString
            #expect(audit.contains("credentials.authorized") && audit.contains("9130354"))
            for issued in authority.issued {
                #expect(!audit.contains(issued.accessToken) && !audit.contains(issued.refreshToken))
            }
        }
    }

    @Test func aForgedStateOrARefusalConnectsNothing() async throws {
        try await app().test { client in
            let id = try await createIntegration(client)
            let forged = try await client.call(.get, "/oauth/callback?code=code-1&state=made-up", token: nil)
            #expect(forged.status == .badRequest)
            let refused = try await client.call(
                .get, "/oauth/callback?error=access_denied&state=whatever", token: nil)
            #expect(refused.status == .badRequest)
            #expect(refused.json["detail"]?.stringValue?.contains("access_denied") == true)
            // Text a crafted link puts in the callback is never repeated back.
            let crafted = try await client.call(
                .get,
                "/oauth/callback?error=%3Cscript%3Ealert(1)%3C/script%3E&error_description=%3Cimg%20src=x%3E"
                    + "&state=whatever",
                token: nil)
            #expect(crafted.status == .badRequest)
            #expect(!crafted.json.canonicalString.contains("<"))
            #expect(!crafted.json.canonicalString.contains("script"))
            // A code the authorization server never issued for this challenge is refused by it.
            let redirect = try await client.call(.get, "/api/v1/integrations/\(id)/connect")
            let parameters = try query(redirect.headers[.location])
            let state = try #require(parameters["state"])
            let code = authority.authorize(codeChallenge: PKCE.challenge(for: "another verifier"))
            let mismatched = try await client.call(.get, "/oauth/callback?code=\(code)&state=\(state)", token: nil)
            #expect(mismatched.status == .badGateway)
            #expect(try await client.call(.get, "/api/v1/integrations/\(id)").json["status"] == "pending")
        }
    }

    @Test func connectSaysWhichSettingsAreMissing() async throws {
        try await app().test { client in
            let id = try await createIntegration(client, settings: ["client_id": "client-1"])
            let answer = try await client.call(.get, "/api/v1/integrations/\(id)/connect")
            #expect(answer.status == .unprocessableContent)
            let fields = answer.json["errors"]?.arrayValue?.compactMap { $0["field"]?.stringValue }
            #expect(fields == ["settings.redirect_uri", "settings.client_secret"])
        }
    }

    @Test func importedCredentialsConnectTheIntegrationAndAreNeverShown() async throws {
        try await app().test { client in
            let id = try await createIntegration(client)
            let invalid = try await client.call(
                .put, "/api/v1/integrations/\(id)/credentials", json: ["refresh_token": "rt", "expires_at": "soon"])
            #expect(invalid.status == .unprocessableContent)
            let fields = invalid.json["errors"]?.arrayValue?.compactMap { $0["field"]?.stringValue }
            #expect(fields == ["access_token", "expires_at"])
            let imported = try await client.call(
                .put, "/api/v1/integrations/\(id)/credentials",
                json: [
                    "access_token": "eyJ-imported-access", "refresh_token": "AB11-imported-refresh",
                    "expires_at": "2030-01-01T00:00:00Z", "realm_id": "9130354",
                ])
            #expect(imported.status == .ok && imported.json["status"] == "connected")
            #expect(imported.json["realm_id"] == "9130354")
            let everything = [
                imported.json, try await client.call(.get, "/api/v1/integrations/\(id)").json,
                try await client.call(.get, "/api/v1/audit").json,
            ].map(\.canonicalString).joined()
            #expect(!everything.contains("imported-access") && !everything.contains("imported-refresh"))
            let viewer = try await client.call(.post, "/api/v1/api-keys", json: ["name": "r", "role": "viewer"])
            let token = try #require(viewer.json["token"]?.stringValue)
            let refused = try await client.call(
                .put, "/api/v1/integrations/\(id)/credentials", token: token,
                json: ["access_token": "x", "expires_at": "2030-01-01T00:00:00Z"])
            #expect(refused.status == .forbidden)
        }
    }
}
