import Accounting
import Crypto
import Foundation
import HTTPTypes
import HummingbirdTesting
import Sandbox
import Testing

/// `POST /webhooks/xero` keeps Xero's rules (API.md "Platforms (v1.1)", platforms.md §2.3): intent-to-receive is
/// 200 or 401 with an empty body and is not kept; any bad signature is a bare 401; deliveries are routed by
/// `tenantId`, an organisation no integration is connected to kept unroutable.
@Suite struct XeroWebhookEndpointTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../webhooks/xero").standardized
    static let organisation = "c2cc9b6e-9458-4c7d-93cc-f02b81b0594f"

    func fixture(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: Self.directory.appendingPathComponent(name)))
    }

    func text(_ name: String) throws -> String {
        String(decoding: try fixture(name), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The webhook key registered as source `xero`, and an integration of `greenfield` connected to `organisation`.
    func prepare(_ client: Client) async throws {
        let key = try text("webhook-key.txt")
        #expect(
            try await client.call(.post, "/api/v1/webhook-sources", json: ["source": "xero", "secret": .string(key)])
                .status == .created)
        let created = try await client.call(
            .post, "/api/v1/integrations", json: ["tenant_id": "greenfield", "platform": "xero", "name": "Xero"])
        let id = try #require(created.json["id"]?.stringValue)
        let saved = try await client.call(
            .put, "/api/v1/integrations/\(id)/credentials",
            json: [
                "access_token": "at", "expires_at": "2030-01-01T00:00:00Z",
                "xero_tenant_id": .string(Self.organisation),
            ])
        #expect(saved.status == .ok, "\(saved.json)")
    }

    func post(_ client: Client, _ body: [UInt8], signature: String?) async throws -> Client.Answer {
        try await client.call(
            .post, "/webhooks/xero", token: nil, headers: signature.map { ["x-xero-signature": $0] } ?? [:],
            body: body)
    }

    @Test func intentToReceiveIsAnsweredWithEmptyBodiesAndNotKept() async throws {
        try await TestApp().test { client in
            try await prepare(client)
            let body = try fixture("intent-to-receive.json")
            let correct = try await post(client, body, signature: try text("intent-to-receive.signature"))
            #expect(correct.status == .ok)
            #expect(correct.json == .null, "an empty body, got \(correct.json)")
            #expect(correct.headers[.setCookie] == nil)
            let incorrect = try await post(client, body, signature: try text("intent-to-receive.bad-signature"))
            #expect(incorrect.status == .unauthorized)
            #expect(incorrect.json == .null, "an empty body, got \(incorrect.json)")
            #expect(incorrect.headers[.setCookie] == nil)
            let unsigned = try await post(client, body, signature: nil)
            #expect(unsigned.status == .unauthorized && unsigned.json == .null)
            #expect(try await client.deliveries("source=xero").isEmpty, "an intent-to-receive is not a delivery")
        }
    }

    @Test func aTamperedDeliveryIsABare401AndNothingIsKept() async throws {
        try await TestApp().test { client in
            try await prepare(client)
            var body = try fixture("batch-two-organisations.json")
            body[40] ^= 1
            let refused = try await post(client, body, signature: try text("batch-two-organisations.signature"))
            #expect(refused.status == .unauthorized && refused.json == .null)
            let garbled = try await post(
                client, try fixture("batch-two-organisations.json"), signature: "%%%not base64")
            #expect(garbled.status == .unauthorized && garbled.json == .null)
            #expect(try await client.deliveries("source=xero").isEmpty)
        }
    }

    /// The batch names two organisations: the connected one's three records are routed, the other's kept
    /// unroutable; the same body again (Xero's retry) is a duplicate.
    @Test func aDeliveryIsRoutedByTenantIDAndARetryIsADuplicate() async throws {
        try await TestApp().test { client in
            try await prepare(client)
            let body = try fixture("batch-two-organisations.json")
            let signature = try text("batch-two-organisations.signature")
            let first = try await post(client, body, signature: signature)
            #expect(first.status == .ok && first.json == .null, "a bare 200, got \(first.json)")
            let again = try await post(client, body, signature: signature)
            #expect(again.status == .ok && again.json == .null)
            let kept = try await client.deliveries("source=xero")
            #expect(kept.count == 1 && kept.first?["tenant_id"] == "greenfield", "\(kept)")
            let delivery = try await client.call(
                .get, "/api/v1/deliveries/\(try #require(kept.first?["id"]?.stringValue))")
            #expect(
                "\(delivery.json)".contains("no integration is connected to Xero organisation aef86862"),
                "\(delivery.json)")
            let metrics = try await client.call(.get, "/metrics", token: nil).json.stringValue ?? ""
            #expect(metrics.contains(#"ledgerwire_webhooks_total{source="xero",outcome="duplicate"} 1"#), "\(metrics)")
        }
    }

    @Test func aSignedBodyThatIsNotXerosShapeIsKeptRejectedNamingTheField() async throws {
        try await TestApp().test { client in
            try await prepare(client)
            let key = try text("webhook-key.txt")
            let body = Array(
                #"{"events":[{"eventCategory":"INVOICE","tenantId":"x"}],"firstEventSequence":1,"lastEventSequence":1,"entropy":"E"}"#
                    .utf8)
            let signature = XeroWebhookSigning.signature(body: body, key: key)
            let answer = try await post(client, body, signature: signature)
            #expect(answer.status == .unprocessableContent && answer.json == .null)
            let kept = try #require(try await client.deliveries("source=xero&status=rejected").first)
            let delivery = try await client.call(.get, "/api/v1/deliveries/\(try #require(kept["id"]?.stringValue))")
            #expect(
                "\(delivery.json)".contains("events[0].tenantId")
                    && "\(delivery.json)".contains("events[0].resourceId"),
                "\(delivery.json)")
        }
    }
}

extension XeroWebhookEndpointTests {
    /// The emulator's sender against a live Ledgerwire: intent-to-receive passes, and a batch of two organisations is
    /// delivered at the first attempt (a bare 200 within 5 s), its connected organisation's records routed.
    @Test func theEmulatorsSenderIsVerifiedAndDelivers() async throws {
        let app = try TestApp()
        try await app.application.test(.live) { live in
            let client = Client(client: live)
            try await prepare(client)
            let sender = XeroWebhookSender(
                url: URL(string: "http://127.0.0.1:\(try #require(live.port))/webhooks/xero")!,
                webhookKey: try text("webhook-key.txt"), retryDelays: [],
                // Xero's 5 s is the sender's own test, on its clock; here an answer counts however long a machine
                // busy with the whole suite took.
                budget: .seconds(120), patience: .seconds(120))
            let verification = await sender.intentToReceive()
            #expect(verification.isVerified, "\(verification.checks.map(\.problem))")
            let reports = await sender.deliver([
                XeroWebhookEvent(
                    tenantID: Self.organisation, category: .invoice, eventType: .update,
                    resourceID: "9f1e2d3c-4b5a-4678-9abc-def012345678", occurredAt: Date()),
                XeroWebhookEvent(
                    tenantID: "aef86862-2015-4b6b-88bc-d89032cecc50", category: .contact, eventType: .create,
                    resourceID: "717f2bfc-c6d4-41fd-b238-3f2f0c0cf777", occurredAt: Date()),
            ])
            #expect(reports.map(\.delivered) == [true], "\(reports.map(\.attempts))")
            let kept = try await client.deliveries("source=xero")
            #expect(kept.count == 1 && kept.first?["tenant_id"] == "greenfield", "\(kept)")
        }
    }
}

/// Xero's signature, computed here as Xero does (platforms.md §2.3), independent of the code under test.
enum XeroWebhookSigning {
    static func signature(body: [UInt8], key: String) -> String {
        Data(HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Data(key.utf8))))
            .base64EncodedString()
    }
}
