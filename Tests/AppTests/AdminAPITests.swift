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

@Suite struct AdminAPITests {
    @Test func noKeyIs401AndViewersCannotWrite() async throws {
        try await TestApp().test { client in
            #expect(try await client.call(.get, "/api/v1/records", token: nil).status == .unauthorized)
            #expect(try await client.call(.get, "/api/v1/records", token: "lw_not_a_key").status == .unauthorized)
            let created = try await client.call(
                .post, "/api/v1/api-keys", json: ["name": "dashboard", "role": "viewer"])
            #expect(created.status == .created)
            let viewer = try #require(created.json["token"]?.stringValue)
            #expect(try await client.call(.get, "/api/v1/records", token: viewer).status == .ok)
            #expect(try await client.call(.get, "/api/v1/deliveries", token: viewer).status == .ok)
            #expect(try await client.call(.get, "/api/v1/audit", token: viewer).status == .ok)
            let writes: [(HTTPRequest.Method, String, JSONValue)] = [
                (.post, "/api/v1/api-keys", ["name": "x", "role": "admin"]),
                (.post, "/api/v1/webhook-sources", ["source": "billing"]),
                (.post, "/api/v1/deliveries/dlv_x/replay", [:]),
                (.delete, "/api/v1/api-keys/key_x", [:]),
            ]
            for (method, uri, body) in writes {
                #expect(try await client.call(method, uri, token: viewer, json: body).status == .forbidden, "\(uri)")
            }
        }
    }

    @Test func keysAreStoredHashedAndCanBeRevoked() async throws {
        try await TestApp().test { client in
            let created = try await client.call(.post, "/api/v1/api-keys", json: ["name": "ops", "role": "operator"])
            let token = try #require(created.json["token"]?.stringValue)
            let id = try #require(created.json["id"]?.stringValue)
            let listed = try await client.call(.get, "/api/v1/api-keys").json
            #expect(!listed.canonicalString.contains(token))
            #expect(try await client.call(.delete, "/api/v1/api-keys/\(id)").status == .noContent)
            #expect(try await client.call(.get, "/api/v1/records", token: token).status == .unauthorized)
        }
    }

    @Test func invalidAdminRequestsSayWhatToFix() async throws {
        try await TestApp().test { client in
            let answer = try await client.call(.post, "/api/v1/api-keys", json: ["role": "root"])
            #expect(answer.status == .unprocessableContent)
            #expect(answer.json["errors"]?.canonicalString.contains("\"field\":\"name\"") == true)
            #expect(answer.json["errors"]?.canonicalString.contains("\"field\":\"role\"") == true)
            let badSecret = try await client.call(
                .post, "/api/v1/webhook-sources", json: ["source": "billing", "secret": "plain"])
            #expect(badSecret.status == .unprocessableContent)
            #expect(try await client.call(.get, "/api/v1/records?limit=0").status == .unprocessableContent)
            #expect(try await client.call(.get, "/api/v1/records?cursor=abc").status == .unprocessableContent)
        }
    }

    @Test func tenantKeysSeeOnlyTheirTenant() async throws {
        try await TestApp().test { client in
            let (_, signer) = try await client.addBillingSecret()
            _ = try await client.deliver(try Fixtures.billingEvent("in-customer.created"), signer: signer)
            _ = try await client.deliver(try Fixtures.billingEvent("uk-customer.updated"), signer: signer)
            let created = try await client.call(
                .post,
                "/api/v1/api-keys",
                json: ["name": "uk", "role": "admin", "tenant_id": "st-aldhelms-sherborne"]
            )
            let token = try #require(created.json["token"]?.stringValue)
            guard case .array(let records) = try await client.call(.get, "/api/v1/records", token: token).json["items"]
            else {
                throw TestFailure("no items")
            }
            #expect(records.map { $0["local_id"] } == ["cus_uk_1187"])
            guard
                case .array(let deliveries) = try await client.call(.get, "/api/v1/deliveries", token: token).json[
                    "items"]
            else { throw TestFailure("no items") }
            #expect(deliveries.count == 1)
            #expect(try await client.call(.get, "/api/v1/webhook-sources", token: token).status == .forbidden)
            let other = try await client.call(
                .post, "/api/v1/api-keys", token: token,
                json: ["name": "x", "role": "viewer", "tenant_id": "greenfield-bengaluru"])
            #expect(other.status == .unprocessableContent)
        }
    }

    @Test func listsArePagedWithACursor() async throws {
        try await TestApp().test { client in
            let (_, signer) = try await client.addBillingSecret()
            for name in try Fixtures.billingEventNames() {
                _ = try await client.deliver(try Fixtures.billingEvent(name), signer: signer)
            }
            var seen: [JSONValue] = []
            var cursor: String?
            repeat {
                let query = "/api/v1/records?limit=3" + (cursor.map { "&cursor=\($0)" } ?? "")
                let page = try await client.call(.get, query).json
                guard case .array(let items) = page["items"] else { throw TestFailure("no items") }
                #expect(items.count <= 3)
                seen += items.compactMap { $0["id"] }
                cursor = page["next_cursor"]?.stringValue
            } while cursor != nil
            #expect(seen.count == 10)
            #expect(Set(seen).count == 10)
        }
    }

    @Test func auditShowsOldAndNewValuesChained() async throws {
        try await TestApp().test { client in
            let (_, signer) = try await client.addBillingSecret()
            _ = try await client.deliver(try Fixtures.billingEvent("uk-invoice.updated"), signer: signer)
            _ = try await client.deliver(try Fixtures.billingEvent("uk-invoice.voided"), signer: signer)
            guard case .array(let entries) = try await client.call(.get, "/api/v1/audit").json["items"] else {
                throw TestFailure("no items")
            }
            #expect(entries.map { $0["action"] } == ["webhook_source.created", "record.created", "record.voided"])
            #expect(entries[2]["old_value"]?["status"] == "issued")
            #expect(entries[2]["new_value"]?["status"] == "voided")
            #expect(entries[2]["prev_hash"] == entries[1]["hash"])
            #expect(try await TestAppDatabaseCheck.verify(client) == true)
        }
    }

    /// Keys and webhook sources, created and deleted, are audit entries naming who did it, without a token, its hash
    /// or a secret.
    @Test func adminActionsAreAuditedWithoutSecrets() async throws {
        try await TestApp().test { client in
            let admin = try await client.call(.post, "/api/v1/api-keys", json: ["name": "root", "role": "admin"])
            let adminID = try #require(admin.json["id"]?.stringValue)
            let adminToken = try #require(admin.json["token"]?.stringValue)
            let ops = try await client.call(
                .post, "/api/v1/api-keys", token: adminToken, json: ["name": "ops", "role": "operator"])
            let opsID = try #require(ops.json["id"]?.stringValue)
            let opsToken = try #require(ops.json["token"]?.stringValue)
            let billing = try await client.call(
                .post, "/api/v1/webhook-sources", token: adminToken, json: ["source": "billing"])
            let billingSecret = try #require(billing.json["secret"]?.stringValue)
            let sourceID = try #require(billing.json["id"]?.stringValue)
            let verifier = "verifier-token-\(UUID())"
            _ = try await client.call(
                .post, "/api/v1/webhook-sources", token: adminToken,
                json: ["source": "quickbooks", "secret": .string(verifier)])
            #expect(try await client.call(.delete, "/api/v1/api-keys/\(opsID)", token: adminToken).status == .noContent)
            #expect(
                try await client.call(.delete, "/api/v1/webhook-sources/\(sourceID)", token: adminToken).status
                    == .noContent)

            let listed = try await client.call(.get, "/api/v1/audit")
            guard case .array(let entries) = listed.json["items"] else { throw TestFailure("no items") }
            #expect(
                entries.map { $0["action"] } == [
                    "api_key.created", "api_key.created", "webhook_source.created", "webhook_source.created",
                    "api_key.deleted", "webhook_source.deleted",
                ])
            #expect(
                entries.map { $0["actor"]?.stringValue }
                    == ["admin-token"] + Array(repeating: "api-key:\(adminID)", count: 5))
            #expect(entries[1]["entity_id"] == .string(opsID) && entries[1]["new_value"]?["role"] == "operator")
            #expect(entries[4]["old_value"]?["name"] == "ops" && entries[4]["new_value"] == JSONValue.null)
            #expect(entries[5]["old_value"]?["source"] == "billing")
            let text = listed.json.canonicalString
            for secret in [adminToken, opsToken, APIKey.hash(token: opsToken), billingSecret, verifier] {
                #expect(!text.contains(secret), "a secret is in the audit log")
            }
        }
    }

    @Test func rawWebhookSecretsAreNotInTheDatabaseFile() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lw-\(UUID())")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("ledgerwire.sqlite").path
        let secret = "whsec_" + Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
        let app = try TestApp(databasePath: path)
        try await app.test { client in
            _ = try await client.addBillingSecret(secret)
            let quickbooks = "verifier-token-\(UUID())"
            #expect(
                try await client.call(
                    .post, "/api/v1/webhook-sources", json: ["source": "quickbooks", "secret": .string(quickbooks)]
                ).status == .created)
            var bytes = Data()
            for file in try FileManager.default.contentsOfDirectory(atPath: directory.path) {
                bytes += try Data(contentsOf: directory.appendingPathComponent(file))
            }
            #expect(!bytes.isEmpty)
            for needle in [secret, String(secret.dropFirst(6)), quickbooks] {
                #expect(bytes.range(of: Data(needle.utf8)) == nil, "found a raw secret in the database files")
            }
        }
    }

    @Test func healthAndMetricsAnswer() async throws {
        try await TestApp().test { client in
            #expect(try await client.call(.get, "/health", token: nil).status == .ok)
            let (_, signer) = try await client.addBillingSecret()
            _ = try await client.deliver(try Fixtures.billingEvent("in-customer.created"), signer: signer)
            let metrics = try await client.call(.get, "/metrics", token: nil).json.stringValue ?? ""
            #expect(metrics.contains(#"ledgerwire_webhooks_total{source="billing",outcome="accepted"} 1"#))
            #expect(metrics.contains("ledgerwire_commit_batch_size_count 1"))
            #expect(metrics.contains("ledgerwire_webhook_ack_seconds_bucket"))
        }
    }

    @Test func rateLimitWaitsShowInMetrics() async throws {
        let app = try TestApp()
        let limiter = await app.components.rateLimiters.limiter(
            integrationID: "int_1",
            policy: RateLimitPolicy(windows: [.init(limit: 1, period: .milliseconds(20))], maxConcurrent: 1))
        try await limiter.acquire()
        await limiter.release(status: 200)
        // The second request in the window waits for it (20 ms).
        try await limiter.acquire()
        await limiter.release(status: 200)
        try await app.test { client in
            let metrics = try await client.call(.get, "/metrics", token: nil).json.stringValue ?? ""
            #expect(metrics.contains("ledgerwire_rate_limit_wait_seconds_count 1"))
        }
    }

    @Test func aLiveServerIsReadyOnceListening() async throws {
        try await TestApp().application.test(.live) { client in
            try await client.execute(uri: "/ready", method: .get) { response in
                #expect(response.status == .ok)
            }
        }
    }
}

/// `audit verify` through the store the app uses.
enum TestAppDatabaseCheck {
    static func verify(_ client: Client) async throws -> Bool {
        guard case .array(let entries) = try await client.call(.get, "/api/v1/audit?limit=500").json["items"] else {
            return false
        }
        for (previous, entry) in zip(entries, entries.dropFirst()) where entry["prev_hash"] != previous["hash"] {
            return false
        }
        return true
    }
}
