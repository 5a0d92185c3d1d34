import Accounting
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import TestSupport
import Testing

@Suite struct IntegrationsAPITests {
    let school = "greenfield-bengaluru"

    func createIntegration(_ client: Client, name: String = "Greenfield books") async throws -> JSONValue {
        let created = try await client.call(
            .post, "/api/v1/integrations",
            json: [
                "tenant_id": .string(school), "platform": "quickbooks_online", "name": .string(name),
                "settings": ["client_id": "ABc123", "client_secret": "s3cr3t-value", "environment": "sandbox"],
                "sync": ["interval_seconds": 900, "conflict_policy": "billing_wins"],
            ])
        #expect(created.status == .created)
        return created.json
    }

    @Test func integrationsAreCreatedWithTheirSecretSealedAndShownOnlyAsSet() async throws {
        try await TestApp().test { client in
            let created = try await createIntegration(client)
            #expect(created["status"] == "pending")
            #expect(created["settings"]?["client_secret"] == "[redacted]")
            #expect(created["settings"]?["client_id"] == "ABc123")
            #expect(created["sync"]?["interval_seconds"] == 900)
            #expect(created["sync"]?["conflict_policy"] == "billing_wins")
            #expect(created["sync"]?["max_attempts"] == 3)
            let id = try #require(created["id"]?.stringValue)
            let everything = [
                try await client.call(.get, "/api/v1/integrations").json,
                try await client.call(.get, "/api/v1/integrations/\(id)").json,
                try await client.call(.get, "/api/v1/audit").json,
            ]
            for answer in everything { #expect(!answer.canonicalString.contains("s3cr3t-value")) }

            let renamed = try await client.call(
                .patch, "/api/v1/integrations/\(id)",
                json: [
                    "name": "Greenfield QBO", "settings": ["client_secret": "rotated", "environment": "production"],
                ])
            #expect(renamed.status == .ok)
            #expect(
                renamed.json["name"] == "Greenfield QBO" && renamed.json["settings"]?["environment"] == "production")
            #expect(renamed.json["settings"]?["client_secret"] == "[redacted]")
            let disabled = try await client.call(.patch, "/api/v1/integrations/\(id)", json: ["status": "disabled"])
            #expect(disabled.json["status"] == "disabled")
            #expect(try await client.call(.delete, "/api/v1/integrations/\(id)").status == .noContent)
            #expect(try await client.call(.get, "/api/v1/integrations/\(id)").status == .notFound)
        }
    }

    @Test func invalidIntegrationsSayWhatToFix() async throws {
        try await TestApp().test { client in
            let answer = try await client.call(
                .post, "/api/v1/integrations",
                json: ["platform": "freshbooks", "sync": ["conflict_policy": "coin_toss", "interval_seconds": 5]])
            #expect(answer.status == .unprocessableContent)
            guard case .array(let errors) = answer.json["errors"] else { throw TestFailure("no errors") }
            let fields = Set(errors.compactMap { $0["field"]?.stringValue })
            #expect(fields == ["platform", "name", "sync.conflict_policy", "sync.interval_seconds"])
        }
    }

    @Test func mappingsAreSavedAndABillingInvoiceQueuesAJobForTheIntegration() async throws {
        let app = try TestApp()
        try await app.test { client in
            let id = try #require(try await createIntegration(client)["id"]?.stringValue)
            let mappings: JSONValue = [
                "accounts": ["4000-TUITION": "79", "*": "80"], "tax_codes": ["GST18": "5"],
                "deposit_accounts": ["HDFC-CURRENT": "35"],
            ]
            let saved = try await client.call(.put, "/api/v1/integrations/\(id)/mappings", json: mappings)
            #expect(saved.status == .ok)
            let shown = try await client.call(.get, "/api/v1/integrations/\(id)/mappings").json
            #expect(shown["accounts"] == ["4000-TUITION": "79", "*": "80"])
            #expect(shown["tax_codes"] == ["GST18": "5"] && shown["items"] == [:])
            let bad = try await client.call(
                .put, "/api/v1/integrations/\(id)/mappings", json: ["accounts": ["4000-TUITION": 79], "ledgers": [:]])
            #expect(bad.status == .unprocessableContent)

            let (_, signer) = try await client.addBillingSecret()
            let delivered = try await client.deliver(try Fixtures.billingEvent("in-invoice.issued"), signer: signer)
            #expect(delivered.status == .ok)
            let jobs = try await client.call(.get, "/api/v1/jobs?integration_id=\(id)").json["items"]
            guard case .array(let items) = jobs else { throw TestFailure("no jobs list") }
            // The invoice and the customer it carries: one push job each for this integration.
            #expect(Set(items.compactMap { $0["record_type"]?.stringValue }) == ["customer", "invoice"])
            #expect(items.allSatisfy { $0["status"] == "pending" && $0["attempts"] == 0 })
            let jobID = try #require(items.first?["id"]?.stringValue)
            let job = try await client.call(.get, "/api/v1/jobs/\(jobID)").json
            #expect(job["attempt_history"] == [])
            // Only a dead or failed job can be retried by hand.
            #expect(try await client.call(.post, "/api/v1/jobs/\(jobID)/retry", json: [:]).status == .conflict)
            #expect(try await client.call(.get, "/api/v1/jobs?status=sleeping").status == .unprocessableContent)
        }
    }

    @Test func tenantKeysSeeOnlyTheirIntegrationsAndViewersCannotChangeThem() async throws {
        try await TestApp().test { client in
            let id = try #require(try await createIntegration(client)["id"]?.stringValue)
            let other = try await client.call(
                .post, "/api/v1/api-keys", json: ["name": "other school", "role": "admin", "tenant_id": "riverside"])
            let otherToken = try #require(other.json["token"]?.stringValue)
            #expect(try await client.call(.get, "/api/v1/integrations/\(id)", token: otherToken).status == .notFound)
            #expect(
                try await client.call(.put, "/api/v1/integrations/\(id)/mappings", token: otherToken, json: [:]).status
                    == .notFound)
            #expect(try await client.call(.delete, "/api/v1/integrations/\(id)", token: otherToken).status == .notFound)
            let listed = try await client.call(.get, "/api/v1/integrations", token: otherToken).json
            #expect(listed["items"] == [])

            let viewer = try await client.call(.post, "/api/v1/api-keys", json: ["name": "dash", "role": "viewer"])
            let viewerToken = try #require(viewer.json["token"]?.stringValue)
            #expect(try await client.call(.get, "/api/v1/integrations/\(id)", token: viewerToken).status == .ok)
            #expect(
                try await client.call(.patch, "/api/v1/integrations/\(id)", token: viewerToken, json: ["name": "x"])
                    .status == .forbidden)
            #expect(
                try await client.call(.put, "/api/v1/integrations/\(id)/mappings", token: viewerToken, json: [:])
                    .status == .forbidden)
        }
    }
}
