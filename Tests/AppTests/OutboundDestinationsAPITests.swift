import Accounting
import Connectors
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import TestSupport
import Testing

/// Outbound URLs and the ids put into platform paths are checked when they are saved, with the production policy
/// (`https` to public addresses only).
@Suite struct OutboundDestinationsAPITests {
    static func fields(_ answer: Client.Answer) -> [String] {
        answer.json["errors"]?.arrayValue?.compactMap { $0["field"]?.stringValue } ?? []
    }

    static func messages(_ answer: Client.Answer) -> String {
        (answer.json["errors"]?.arrayValue?.compactMap { $0["message"]?.stringValue } ?? []).joined(separator: " | ")
    }

    @Test(arguments: [
        ("http://hooks.example.com/in", "https"), ("https://127.0.0.1:8443/in", "loopback"),
        ("https://10.0.0.8/in", "private"), ("https://[::ffff:192.168.0.1]/in", "private"),
        ("https://169.254.169.254/latest", "metadata"), ("https://ops:secret@hooks.example.com/in", "user name"),
        ("https://localhost/in", "this machine"),
    ])
    func aSubscriptionToAForbiddenURLIsRefusedSayingWhy(_ url: String, _ reason: String) async throws {
        try await TestApp(destinations: DestinationPolicy()).test { client in
            let answer = try await client.call(
                .post, "/api/v1/webhook-subscriptions", json: ["url": .string(url), "event_types": ["*"]])
            #expect(answer.status == .unprocessableContent)
            #expect(Self.fields(answer) == ["url"])
            #expect(Self.messages(answer).contains(reason), "\(Self.messages(answer))")
            #expect(answer.headers[.contentType] == "application/problem+json")
        }
    }

    @Test func aSubscriptionToAPublicHTTPSURLIsSaved() async throws {
        try await TestApp(destinations: DestinationPolicy()).test { client in
            let answer = try await client.call(
                .post, "/api/v1/webhook-subscriptions",
                json: ["url": "https://hooks.example.com/in", "event_types": ["*"]])
            #expect(answer.status == .created)
        }
    }

    @Test func integrationURLsAreCheckedWhenCreatedAndWhenChanged() async throws {
        try await TestApp(destinations: DestinationPolicy()).test { client in
            let refused = try await client.call(
                .post, "/api/v1/integrations",
                json: [
                    "tenant_id": "school", "platform": "quickbooks_online", "name": "Books",
                    "settings": [
                        "api_base_url": "https://10.1.2.3", "oauth_authorize_url": "https://appcenter.intuit.com/x",
                        "oauth_token_url": "http://oauth.example.com/token",
                    ],
                ])
            #expect(refused.status == .unprocessableContent)
            #expect(Self.fields(refused) == ["settings.api_base_url", "settings.oauth_token_url"])
            let created = try await client.call(
                .post, "/api/v1/integrations",
                json: [
                    "tenant_id": "school", "platform": "quickbooks_online", "name": "Books",
                    "settings": ["api_base_url": "https://quickbooks.api.intuit.com"],
                ])
            #expect(created.status == .created)
            let id = try #require(created.json["id"]?.stringValue)
            let changed = try await client.call(
                .patch, "/api/v1/integrations/\(id)", json: ["settings": ["oauth_revoke_url": "https://[fe80::1]/r"]])
            #expect(changed.status == .unprocessableContent)
            #expect(Self.fields(changed) == ["settings.oauth_revoke_url"])
        }
    }

    @Test func aRealmIDThatIsNotDigitsIsRefused() async throws {
        try await TestApp(destinations: DestinationPolicy()).test { client in
            let created = try await client.call(
                .post, "/api/v1/integrations",
                json: ["tenant_id": "school", "platform": "quickbooks_online", "name": "Books"])
            let id = try #require(created.json["id"]?.stringValue)
            for realm in ["../../v3/company/1", "123/customer", "12%2F3", "123\n"] {
                let answer = try await client.call(
                    .put, "/api/v1/integrations/\(id)/credentials",
                    json: ["access_token": "at", "expires_at": "2099-01-01T00:00:00Z", "realm_id": .string(realm)])
                #expect(answer.status == .unprocessableContent, "\(realm.debugDescription)")
                #expect(Self.fields(answer) == ["realm_id"])
            }
            let callback = try await client.call(
                .get, "/oauth/callback?state=abc&code=def&realmId=..%2F..%2Fadmin", token: nil)
            #expect(callback.status == .badRequest)
            #expect(callback.json["detail"]?.stringValue?.contains("realmId") == true, "\(callback.json)")
        }
    }
}
