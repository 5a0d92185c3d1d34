import Accounting
import App
import Connectors
import Crypto
import Foundation
import GRDB
import HTTPTypes
import Testing

@testable import Persistence

/// Platforms' webhooks come in through one door, `POST /webhooks/{source}`, and the same group commit as billing's
/// (issue 14, item 4).
@Suite struct PlatformWebhookTests {
    static let verifierToken = "verifier-token-platform-tests"

    /// A QuickBooks notification of one invoice, signed as Intuit signs it.
    static func quickBooksDelivery(realm: String, invoice: Int) -> (body: [UInt8], signature: String) {
        let body: JSONValue = [
            "eventNotifications": [
                [
                    "realmId": .string(realm),
                    "dataChangeEvent": [
                        "entities": [
                            [
                                "name": "Invoice", "id": .string(String(invoice)), "operation": "Update",
                                "lastUpdated": "2026-11-20T10:00:00.000Z",
                            ]
                        ]
                    ],
                ]
            ]
        ]
        let bytes = body.canonicalBytes
        let mac = HMAC<SHA256>.authenticationCode(for: bytes, using: SymmetricKey(data: Data(verifierToken.utf8)))
        return (bytes, Data(mac).base64EncodedString())
    }

    /// Connects a QuickBooks Online integration of `tenant` to `realm`.
    static func connect(_ client: Client, tenant: String, realm: String) async throws {
        let created = try await client.call(
            .post, "/api/v1/integrations",
            json: ["tenant_id": .string(tenant), "platform": "quickbooks_online", "name": "Books"])
        let id = try #require(created.json["id"]?.stringValue)
        let saved = try await client.call(
            .put, "/api/v1/integrations/\(id)/credentials",
            json: ["access_token": "at", "expires_at": "2030-01-01T00:00:00Z", "realm_id": .string(realm)])
        #expect(saved.status == .ok, "\(saved.json)")
    }

    /// The value of an unlabelled Prometheus sample.
    static func sample(_ name: String, in metrics: String) -> Double? {
        metrics.split(separator: "\n").first { $0.hasPrefix(name + " ") }.flatMap {
            Double($0.split(separator: " ")[1])
        }
    }

    /// 200 QuickBooks notifications at once: each is answered `accepted` once durable, every one is kept, and they
    /// shared transactions (far fewer commits than deliveries), as billing's deliveries do.
    @Test func aBurstOfQuickBooksWebhooksSharesTransactions() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lw-\(UUID())")
        defer { try? FileManager.default.removeItem(at: directory) }
        let app = try TestApp(databasePath: directory.appendingPathComponent("ledgerwire.sqlite").path)
        try await app.test { client in
            #expect(
                try await client.call(
                    .post, "/api/v1/webhook-sources",
                    json: ["source": "quickbooks", "secret": .string(Self.verifierToken)]
                ).status == .created)
            try await Self.connect(client, tenant: "greenfield", realm: "4620816365")
            let burst = 200
            // The writer is busy (a long transaction) while the burst arrives, as it is under load: deliveries that
            // arrive meanwhile queue (up to 30 s on a loaded machine), and share the transactions that follow.
            let inbox = app.components.inbox
            async let busy: Void = app.components.database.writer.write { _ in
                let deadline = Date().addingTimeInterval(30)
                while inbox.waiting < burst, Date() < deadline { usleep(1_000) }
            }
            let statuses = try await withThrowingTaskGroup(of: String.self) { group in
                for invoice in 1...burst {
                    group.addTask {
                        let delivery = Self.quickBooksDelivery(realm: "4620816365", invoice: invoice)
                        let answer = try await client.call(
                            .post, "/webhooks/quickbooks", token: nil,
                            headers: ["intuit-signature": delivery.signature], body: delivery.body)
                        return "\(answer.status.code) \(answer.json["status"]?.stringValue ?? "\(answer.json)")"
                    }
                }
                return try await group.reduce(into: [String]()) { $0.append($1) }
            }
            try await busy
            #expect(statuses == Array(repeating: "200 accepted", count: burst))
            let kept = try await client.call(.get, "/api/v1/deliveries?source=quickbooks&status=accepted&limit=500")
            #expect(kept.json["items"]?.arrayValue?.count == burst)
            let metrics = try await client.call(.get, "/metrics", token: nil).json.stringValue ?? ""
            let delivered = try #require(Self.sample("ledgerwire_commit_batch_size_sum", in: metrics))
            let transactions = try #require(Self.sample("ledgerwire_commit_batch_size_count", in: metrics))
            #expect(delivered == Double(burst), "every delivery goes through the group commit")
            #expect(transactions < Double(burst) / 2, "expected shared transactions, got \(transactions) for \(burst)")
        }
    }

    /// Another platform's webhooks, registered in the connector registry, take the same door: verified by its
    /// intake, routed by its company to its own integration, kept; a source no platform registered is not found.
    @Test func anyRegisteredPlatformsWebhooksComeInThroughTheSameDoor() async throws {
        let registry = ConnectorRegistry(connectors: [], webhooks: [QuickBooksOnlineWebhooks(), EchoWebhooks()])
        try await TestApp(registry: registry).test { client in
            #expect(
                try await client.call(.post, "/api/v1/webhook-sources", json: ["source": "xero", "secret": "s3cret"])
                    .status == .created)
            let created = try await client.call(
                .post, "/api/v1/integrations", json: ["tenant_id": "riverside", "platform": "xero", "name": "Xero"])
            let id = try #require(created.json["id"]?.stringValue)
            #expect(
                try await client.call(
                    .put, "/api/v1/integrations/\(id)/credentials",
                    json: ["access_token": "at", "expires_at": "2030-01-01T00:00:00Z", "xero_tenant_id": "org-7"]
                ).status == .ok)
            let body = Array(#"{"company":"org-7","contact":"C-1"}"#.utf8)
            let refused = try await client.call(
                .post, "/webhooks/xero", token: nil, headers: ["x-echo-signature": "wrong"], body: body)
            #expect(refused.status == .unauthorized)
            #expect(refused.json["detail"] == "the x-echo-signature header is missing or does not match the body")
            let received = try await client.call(
                .post, "/webhooks/xero", token: nil, headers: ["x-echo-signature": "s3cret"], body: body)
            #expect(received.status == .ok && received.json["status"] == "accepted", "\(received.json)")
            #expect(received.json["notifications"] == 1)
            let kept = try await client.call(.get, "/api/v1/deliveries?source=xero").json["items"]?.arrayValue
            #expect(kept?.count == 1 && kept?.first?["tenant_id"] == "riverside")
            #expect(
                try await client.call(.post, "/webhooks/sage", token: nil, body: body).status == .notFound)
        }
    }
}

/// A platform whose webhooks carry the secret itself in `x-echo-signature` and name one contact of one Xero
/// organisation: enough to show the platform inbox is not QuickBooks'.
struct EchoWebhooks: PlatformWebhooks {
    let platform: Platform = .xero
    // Its secrets are kept under `xero`, one of the sources the store's schema admits.
    let source = "xero"
    let eventType = "echo.notification"
    let companyField = "company"
    let companyName = "Xero organisation"
    let signatureHeader = "x-echo-signature"
    let secretName = "echo key"

    func verify(header: (String) -> String?, body: [UInt8], secrets: [String]) -> WebhookVerification {
        guard let signature = header(signatureHeader) else { return .missingSignature }
        return secrets.contains(signature) ? .valid : .badSignature
    }

    func keptHeaders(header: (String) -> String?) -> [String: String] { [:] }

    func webhookID(header: (String) -> String?, body: [UInt8]) -> String { String(decoding: body, as: UTF8.self) }

    func notifications(body: [UInt8]) throws(PlatformWebhookError) -> [PlatformNotification] {
        guard let document = try? JSONValue(parsing: body) else { throw .malformed("not JSON") }
        guard let company = document["company"]?.stringValue, let contact = document["contact"]?.stringValue else {
            throw .invalid([FieldError(field: "company", message: "is required")])
        }
        return [
            PlatformNotification(
                companyID: company, recordType: .customer, remoteID: contact, operation: "update",
                occurredAt: Timestamp(microsecondsSinceEpoch: 0), idempotencyKey: "echo/\(company)/\(contact)")
        ]
    }
}
