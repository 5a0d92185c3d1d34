import Accounting
import App
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Persistence
import TestSupport
import Testing

extension Client {
    /// Imports tokens (`PUT …/credentials`): the integration is `connected`.
    func importTokens(_ id: String) async throws -> Answer {
        try await call(
            .put, "/api/v1/integrations/\(id)/credentials",
            json: [
                "access_token": "at-1", "refresh_token": "rt-1", "expires_at": "2030-01-01T00:00:00Z",
                "realm_id": "9341453474484455",
            ])
    }
}

/// What a new user met on the admin API and was not told (issue 12, item 6): a sync that could never run accepted,
/// misspelled settings saved silently, a wrong method answered as if the path did not exist.
@Suite struct FirstRunAPITests {
    static func create(_ client: Client, platform: String = "quickbooks_online", settings: JSONValue) async throws
        -> Client.Answer
    {
        try await client.call(
            .post, "/api/v1/integrations",
            json: ["tenant_id": "greenfield", "platform": .string(platform), "name": "Books", "settings": settings])
    }

    static func fields(_ answer: Client.Answer) -> [String: String] {
        Dictionary(
            (answer.json["errors"]?.arrayValue ?? []).compactMap { error in
                error["field"]?.stringValue.map { ($0, error["message"]?.stringValue ?? "") }
            },
            uniquingKeysWith: { first, _ in first })
    }

    @Test func aSyncOfAnIntegrationNotConnectedIsRefusedSayingHowToConnectIt() async throws {
        let app = try TestApp()
        try await app.test { client in
            let created = try await Self.create(client, settings: [:])
            let id = try #require(created.json["id"]?.stringValue)
            for mode in ["full", "incremental"] {
                let refused = try await client.call(
                    .post, "/api/v1/integrations/\(id)/sync", json: ["mode": .string(mode)])
                #expect(refused.status == .conflict)
                #expect(refused.headers[.contentType] == "application/problem+json")
                #expect(refused.json["integration_status"] == "pending")
                let detail = try #require(refused.json["detail"]?.stringValue)
                #expect(detail.contains("not connected"), "\(detail)")
                #expect(detail.contains("GET /api/v1/integrations/\(id)/connect"), "\(detail)")
                #expect(detail.contains("PUT /api/v1/integrations/\(id)/credentials"), "\(detail)")
            }
            // Nothing was queued that could never run.
            let queued = try await client.call(.get, "/api/v1/sync-operations?integration_id=\(id)")
            #expect(queued.json["items"]?.arrayValue?.isEmpty == true)

            // Once connected, the same request is accepted.
            #expect(try await client.importTokens(id).status == .ok)
            let accepted = try await client.call(.post, "/api/v1/integrations/\(id)/sync", json: ["mode": "full"])
            #expect(accepted.status == .accepted)

            // One whose grant the platform refused says to connect it again; a disabled one, to enable it.
            try await app.components.database.setIntegrationStatus(
                id: id, to: .disconnected, actor: "test", reason: "invalid_grant")
            let disconnected = try await client.call(
                .post, "/api/v1/integrations/\(id)/sync", json: ["mode": "incremental"])
            #expect(disconnected.status == .conflict)
            #expect(disconnected.json["integration_status"] == "disconnected")
            #expect(disconnected.json["detail"]?.stringValue?.contains("connect it again") == true)
            _ = try await client.call(.patch, "/api/v1/integrations/\(id)", json: ["status": "disabled"])
            let disabled = try await client.call(.post, "/api/v1/integrations/\(id)/sync", json: ["mode": "full"])
            #expect(disabled.status == .conflict)
            #expect(disabled.json["detail"]?.stringValue?.contains("enable it") == true)
        }
    }

    @Test func misspelledQuickBooksSettingsAreRefusedNamingTheKeyMeant() async throws {
        try await TestApp().test { client in
            let refused = try await Self.create(
                client,
                settings: [
                    "enviroment": "sandbox", "clientId": "ABc123", "client_secret": "s3cr3t",
                    "redirect_uri": "https://ledgerwire.test/oauth/callback", "favourite_colour": "blue",
                ])
            #expect(refused.status == .unprocessableContent)
            #expect(refused.headers[.contentType] == "application/problem+json")
            let fields = Self.fields(refused)
            #expect(Set(fields.keys) == ["settings.enviroment", "settings.clientId", "settings.favourite_colour"])
            #expect(fields["settings.enviroment"]?.contains("did you mean environment?") == true, "\(fields)")
            #expect(fields["settings.clientId"]?.contains("did you mean client_id?") == true, "\(fields)")
            #expect(fields["settings.favourite_colour"]?.contains("did you mean") == false, "\(fields)")
            #expect(fields["settings.favourite_colour"]?.contains("redirect_uri") == true, "lists the settings")
            let listed = try await client.call(.get, "/api/v1/integrations")
            #expect(listed.json["items"]?.arrayValue?.isEmpty == true, "nothing was saved")

            let wrongValue = try await Self.create(client, settings: ["environment": "Sandbox"])
            #expect(Self.fields(wrongValue)["settings.environment"] == "must be sandbox or production")

            // Every key the QuickBooks Online connector reads is taken.
            let created = try await Self.create(
                client,
                settings: [
                    "client_id": "ABc123", "client_secret": "s3cr3t", "environment": "sandbox",
                    "redirect_uri": "https://ledgerwire.test/oauth/callback",
                    "api_base_url": "https://sandbox-quickbooks.api.intuit.com",
                    "oauth_authorize_url": "https://appcenter.intuit.com/connect/oauth2",
                    "oauth_token_url": "https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer",
                    "oauth_revoke_url": "https://developer.api.intuit.com/v2/oauth2/tokens/revoke",
                ])
            #expect(created.status == .created, "\(created.json)")
            let id = try #require(created.json["id"]?.stringValue)

            // PATCH is checked the same way and changes nothing when refused.
            let patched = try await client.call(
                .patch, "/api/v1/integrations/\(id)", json: ["settings": ["enviroment": "production"]])
            #expect(patched.status == .unprocessableContent)
            #expect(Self.fields(patched)["settings.enviroment"]?.contains("did you mean environment?") == true)
            let shown = try await client.call(.get, "/api/v1/integrations/\(id)")
            #expect(shown.json["settings"]?["environment"] == "sandbox")
            #expect(shown.json["settings"]?["enviroment"] == nil)
            // A null removes a key, known or not (one saved before keys were checked can be taken out).
            let removed = try await client.call(
                .patch, "/api/v1/integrations/\(id)", json: ["settings": ["enviroment": .null, "environment": .null]])
            #expect(removed.status == .ok, "\(removed.json)")
        }
    }

    /// API.md welcomes settings it does not list for platforms Ledgerwire has no connector for yet.
    @Test func platformsWithoutAConnectorKeepAnySettings() async throws {
        try await TestApp().test { client in
            let created = try await Self.create(
                client, platform: "tally", settings: ["company": "Greenfield School", "gstin": "29ABCDE1234F1Z5"])
            #expect(created.status == .created, "\(created.json)")
        }
    }

    @Test func aWrongMethodIsAnswered405NamingTheMethodsThePathTakes() async throws {
        try await TestApp().test { client in
            func allowed(_ answer: Client.Answer) -> Set<String> {
                Set((answer.headers[.allow] ?? "").split(separator: ",").map { $0.filter { $0 != " " } })
            }
            let collection = try await client.call(.delete, "/api/v1/integrations")
            #expect(collection.status == .methodNotAllowed)
            #expect(collection.headers[.contentType] == "application/problem+json")
            #expect(allowed(collection) == ["GET", "POST"])
            #expect(collection.json["status"] == 405)
            #expect(collection.json["detail"]?.stringValue?.contains("DELETE") == true)

            let sync = try await client.call(.get, "/api/v1/integrations/int_anything/sync")
            #expect(sync.status == .methodNotAllowed)
            #expect(allowed(sync) == ["POST"])
            let item = try await client.call(.put, "/api/v1/integrations/int_anything")
            #expect(allowed(item) == ["GET", "PATCH", "DELETE"])
            let billing = try await client.call(.get, "/webhooks/billing", token: nil)
            #expect(billing.status == .methodNotAllowed)
            #expect(allowed(billing) == ["POST"])
            let health = try await client.call(.post, "/health", token: nil)
            #expect(health.status == .methodNotAllowed && allowed(health) == ["GET"])

            // A path no route has is still 404, and so is a route's own "not found".
            #expect(try await client.call(.get, "/api/v1/nothing-here").status == .notFound)
            let missing = try await client.call(.get, "/api/v1/integrations/int_missing")
            #expect(missing.status == .notFound)
            #expect(missing.headers[.allow] == nil)
        }
    }
}
