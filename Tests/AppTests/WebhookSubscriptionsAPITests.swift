import Accounting
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import TestSupport
import Testing

@Suite struct WebhookSubscriptionsAPITests {
    @Test func aSubscriptionIsCreatedWithItsSecretShownOnce() async throws {
        try await TestApp().test { client in
            let created = try await client.call(
                .post, "/api/v1/webhook-subscriptions",
                json: [
                    "url": "https://billing.example.com/ledgerwire", "event_types": ["ledger.payment.recorded"],
                    "description": "Cognify billing",
                ])
            #expect(created.status == .created)
            let secret = try #require(created.json["secret"]?.stringValue)
            #expect(secret.hasPrefix("whsec_"))
            #expect(created.json["status"] == "active")
            let id = try #require(created.json["id"]?.stringValue)
            let shown = try await client.call(.get, "/api/v1/webhook-subscriptions/\(id)")
            #expect(shown.json["event_types"] == ["ledger.payment.recorded"])
            #expect(shown.json["secret"] == nil)
            let listed = try await client.call(.get, "/api/v1/webhook-subscriptions")
            #expect(listed.json["items"]?.arrayValue?.count == 1)
            #expect(!listed.json.canonicalString.contains(secret))
            let attempts = try await client.call(.get, "/api/v1/webhook-subscriptions/\(id)/attempts")
            #expect(attempts.status == .ok && attempts.json["items"] == [])
            #expect(try await client.call(.delete, "/api/v1/webhook-subscriptions/\(id)").status == .noContent)
            #expect(try await client.call(.get, "/api/v1/webhook-subscriptions/\(id)").status == .notFound)
        }
    }

    @Test func anInvalidSubscriptionSaysWhatToFix() async throws {
        try await TestApp().test { client in
            let answer = try await client.call(
                .post, "/api/v1/webhook-subscriptions",
                json: ["url": "ftp://example.com", "event_types": ["sync.failed", "invoice.paid"]])
            #expect(answer.status == .unprocessableContent)
            let fields = answer.json["errors"]?.arrayValue?.compactMap { $0["field"]?.stringValue }
            #expect(fields == ["url", "event_types[1]"])
            let missing = try await client.call(.post, "/api/v1/webhook-subscriptions", json: ["url": "http://x.test"])
            #expect(missing.json["errors"]?.arrayValue?.compactMap { $0["field"]?.stringValue } == ["event_types"])
        }
    }

    @Test func aTenantsKeySeesAndMakesOnlyItsOwnSubscriptions() async throws {
        try await TestApp().test { client in
            let global = try await client.call(
                .post, "/api/v1/webhook-subscriptions", json: ["url": "https://ops.example.com", "event_types": ["*"]])
            #expect(global.status == .created)
            let key = try await client.call(
                .post, "/api/v1/api-keys", json: ["name": "school", "role": "admin", "tenant_id": "greenfield"])
            let token = try #require(key.json["token"]?.stringValue)
            let own = try await client.call(
                .post, "/api/v1/webhook-subscriptions", token: token,
                json: ["url": "https://school.example.com", "event_types": ["sync.failed"]])
            #expect(own.json["tenant_id"] == "greenfield")
            let seen = try await client.call(.get, "/api/v1/webhook-subscriptions", token: token)
            #expect(
                seen.json["items"]?.arrayValue?.compactMap { $0["url"]?.stringValue } == ["https://school.example.com"])
            let globalID = try #require(global.json["id"]?.stringValue)
            #expect(
                try await client.call(.delete, "/api/v1/webhook-subscriptions/\(globalID)", token: token).status
                    == .notFound)
            let viewer = try await client.call(
                .post, "/api/v1/api-keys", json: ["name": "reader", "role": "viewer"])
            let viewerToken = try #require(viewer.json["token"]?.stringValue)
            let refused = try await client.call(
                .post, "/api/v1/webhook-subscriptions", token: viewerToken,
                json: ["url": "https://x.example.com", "event_types": ["*"]])
            #expect(refused.status == .forbidden)
        }
    }
}
