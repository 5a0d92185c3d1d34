import Accounting
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import TestSupport
import Testing

/// Replay is not a back door: only a rejected delivery's body may be corrected, by an admin, keeping every body it
/// had, audited; a platform's delivery is replayed as it came, through its own route (issue 11, item 8).
@Suite struct ReplayTests {
    static let quickbooks = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../webhooks/quickbooks").standardized

    func quickbooksFixture(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: Self.quickbooks.appendingPathComponent(name)))
    }

    func quickbooksText(_ name: String) throws -> String {
        String(decoding: try quickbooksFixture(name), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func key(_ client: Client, role: String) async throws -> String {
        let created = try await client.call(
            .post, "/api/v1/api-keys", json: ["name": .string(role), "role": .string(role)])
        return try #require(created.json["token"]?.stringValue)
    }

    @Test func onlyAnAdminCorrectsOnlyARejectedDeliveryAndEveryBodyIsKept() async throws {
        try await TestApp().test { client in
            let (_, signer) = try await client.addBillingSecret()
            var event = try Fixtures.billingEventJSON("uk-invoice.updated")
            let good = event.canonicalBytes
            if case .object(var members) = event {
                members["type"] = "invoice.nonsense"
                event = .object(members)
            }
            let bad = event.canonicalBytes
            let rejected = try await client.deliver(bad, signer: signer)
            let rejectedID = try #require(rejected.json["delivery_id"]?.stringValue)
            #expect(
                try await client.call(.get, "/api/v1/deliveries/\(rejectedID)").json["status"] == "rejected",
                "\(rejected.json)")
            let accepted = try await client.deliver(good, signer: signer)
            let acceptedID = try #require(accepted.json["delivery_id"]?.stringValue)
            let corrected = try JSONValue(parsing: good)

            // An operator may replay as it is, not rewrite what was received.
            let operatorToken = try await key(client, role: "operator")
            #expect(
                try await client.call(
                    .post, "/api/v1/deliveries/\(rejectedID)/replay", token: operatorToken, json: ["body": corrected]
                ).status == .forbidden)
            #expect(
                try await client.call(.post, "/api/v1/deliveries/\(rejectedID)/replay", token: operatorToken, json: [:])
                    .status == .ok)

            // An admin may not rewrite a delivery that was not rejected.
            let adminToken = try await key(client, role: "admin")
            let refused = try await client.call(
                .post, "/api/v1/deliveries/\(acceptedID)/replay", token: adminToken, json: ["body": corrected])
            #expect(refused.status == .conflict)

            // Correcting the rejected one keeps the body it replaced, and a second correction keeps both.
            let fixed = try await client.call(
                .post, "/api/v1/deliveries/\(rejectedID)/replay", token: adminToken, json: ["body": corrected])
            #expect(fixed.status == .ok)
            let shown = try await client.call(.get, "/api/v1/deliveries/\(rejectedID)").json
            guard case .array(let replaced) = shown["replaced_bodies"] else { throw TestFailure("no replaced_bodies") }
            #expect(replaced.count == 1)
            #expect(replaced.first?["body"] == .string(String(decoding: bad, as: UTF8.self)))
            #expect(replaced.first?["replaced_by"]?.stringValue?.hasPrefix("api-key:") == true)

            let audit = try await client.call(.get, "/api/v1/audit").json["items"]
            guard case .array(let entries) = audit else { throw TestFailure("no audit") }
            let correction = try #require(entries.first { $0["action"] == "delivery.corrected" })
            #expect(correction["entity_id"] == .string(rejectedID))
            #expect(correction["old_value"]?["body_sha256"] != nil && correction["new_value"]?["body_sha256"] != nil)
        }
    }

    /// A QuickBooks notification for a company nobody connected is kept unroutable; once the company is connected,
    /// replaying it as it came routes it like a new delivery. Its body is never corrected.
    @Test func anUnroutablePlatformDeliveryIsReplayedAsItCameOnceConnected() async throws {
        try await TestApp().test { client in
            let token = try quickbooksText("verifier-token.txt")
            #expect(
                try await client.call(
                    .post, "/api/v1/webhook-sources", json: ["source": "quickbooks", "secret": .string(token)]
                ).status == .created)
            let received = try await client.call(
                .post, "/webhooks/quickbooks", token: nil,
                headers: ["intuit-signature": try quickbooksText("legacy-invoice-payment-void-delete.signature")],
                body: try quickbooksFixture("legacy-invoice-payment-void-delete.json"))
            #expect(received.json["status"] == "unroutable", "\(received.json)")
            let id = try #require(received.json["delivery_id"]?.stringValue)

            // Nothing to route to yet: still unroutable.
            let early = try await client.call(.post, "/api/v1/deliveries/\(id)/replay", json: [:])
            #expect(early.status == .ok && early.json["status"] == "unroutable", "\(early.json)")
            #expect(
                try await client.call(.post, "/api/v1/deliveries/\(id)/replay", json: ["body": ["x": 1]]).status
                    == .unprocessableContent)

            let created = try await client.call(
                .post, "/api/v1/integrations",
                json: ["tenant_id": "greenfield", "platform": "quickbooks_online", "name": "Books"])
            let integration = try #require(created.json["id"]?.stringValue)
            #expect(
                try await client.call(
                    .put, "/api/v1/integrations/\(integration)/credentials",
                    json: ["access_token": "at", "expires_at": "2030-01-01T00:00:00Z", "realm_id": "9341453474484455"]
                ).status == .ok)
            let replayed = try await client.call(.post, "/api/v1/deliveries/\(id)/replay", json: [:])
            #expect(replayed.status == .ok && replayed.json["status"] == "accepted", "\(replayed.json)")
            let shown = try await client.call(.get, "/api/v1/deliveries/\(id)").json
            #expect(shown["tenant_id"] == "greenfield" && shown["replays"] == 2)
            // Again: it was taken in, so it is not replayed a second time, and stays accepted.
            let again = try await client.call(.post, "/api/v1/deliveries/\(id)/replay", json: [:])
            #expect(again.status == .conflict)
            #expect(try await client.call(.get, "/api/v1/deliveries/\(id)").json["status"] == "accepted")
        }
    }
}
