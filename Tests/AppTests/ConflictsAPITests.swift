import Accounting
import App
import Connectors
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Persistence
import SyncEngine
import TestSupport
import Testing

@Suite struct ConflictsAPITests {
    /// Billing's invoice pushed to the books, then changed on both sides: a held conflict under `manual`.
    @Test func aHeldConflictIsListedAndResolvedWithValidatedCustomValues() async throws {
        let connector = ScriptedConnector()
        let app = try TestApp(connectors: [connector])
        let database = app.components.database
        try await app.test { client in
            let created = try await client.call(
                .post, "/api/v1/integrations",
                json: [
                    "tenant_id": "greenfield-bengaluru", "platform": "quickbooks_online", "name": "Books",
                    "sync": ["conflict_policy": "manual"],
                ])
            let integrationID = try #require(created.json["id"]?.stringValue)
            _ = try await client.call(
                .put, "/api/v1/integrations/\(integrationID)/mappings",
                json: [
                    "accounts": ["4000-TUITION": "79", "4100-TRANSPORT": "80"], "tax_codes": ["GST18": "5"],
                ])
            try await database.setIntegrationStatus(id: integrationID, to: .connected, actor: "test", at: .now())
            let (_, signer) = try await client.addBillingSecret()
            let issued = try JSONValue(parsing: try Fixtures.billingEvent("in-invoice.issued"))
            #expect(try await client.deliver(issued, signer: signer).status == .ok)
            let engine = SyncEngine(
                database: database, connectors: [connector], tokens: app.components.tokens, workerID: "w1")
            while try await engine.runDueJobs() > 0 {}
            #expect(connector.pushes.map(\.recordType) == [.customer, .invoice])
            let invoice = try #require(try await client.records("type=invoice").first)
            let remoteID = try #require(invoice["links"]?.arrayValue?.first?["remote_id"]?.stringValue)

            // Billing moves the due date; the books' copy was edited meanwhile.
            guard case .object(var event) = issued, case .object(var data) = event["data"] else {
                throw CancellationError()
            }
            event["type"] = "invoice.updated"
            data["due_date"] = "2026-11-30"
            data["updated_at"] = "2026-11-10T05:00:00Z"
            event["data"] = .object(data)
            #expect(try await client.deliver(.object(event), signer: signer).status == .ok)
            let edit = connector.publish(
                .invoice, remoteID: remoteID, updatedAt: Timestamp(secondsSinceEpoch: 1_800_000_000),
                data: ["total": "57820.00", "due_date": "2026-11-24"])
            try await database.recordLedgerChanges(
                integrationID: integrationID,
                [edit], source: "webhook", at: .now())
            #expect(try await database.processLedgerChanges(at: .now()).conflicts == 1)
            #expect(try await engine.runDueJobs() == 0)

            let open = try await client.call(.get, "/api/v1/conflicts?status=open")
            let conflict = try #require(open.json["items"]?.arrayValue?.first)
            let id = try #require(conflict["id"]?.stringValue)
            #expect(conflict["local"]?["data"]?["due_date"] == "2026-11-30")
            #expect(conflict["remote"]?["data"]?["due_date"] == "2026-11-24")
            #expect(conflict["remote"]?["remote_id"] == .string(remoteID))
            #expect(try await client.call(.get, "/api/v1/conflicts?status=maybe").status == .unprocessableContent)

            // Who may resolve: not a viewer, not another school's key.
            let viewer = try await client.call(.post, "/api/v1/api-keys", json: ["name": "v", "role": "viewer"])
            let viewerToken = try #require(viewer.json["token"]?.stringValue)
            let refused = try await client.call(
                .post, "/api/v1/conflicts/\(id)/resolve", token: viewerToken, json: ["resolution": "use_local"])
            #expect(refused.status == .forbidden)
            let other = try await client.call(
                .post, "/api/v1/api-keys", json: ["name": "o", "role": "operator", "tenant_id": "other-school"])
            let otherToken = try #require(other.json["token"]?.stringValue)
            let hidden = try await client.call(
                .post, "/api/v1/conflicts/\(id)/resolve", token: otherToken, json: ["resolution": "use_local"])
            #expect(hidden.status == .notFound)

            // Values that would break the invoice's sums say what to fix and change nothing.
            let broken = try await client.call(
                .post, "/api/v1/conflicts/\(id)/resolve", json: ["resolution": "custom", "values": ["total": "1.00"]])
            #expect(broken.status == .unprocessableContent)
            #expect(broken.json["errors"]?.arrayValue?.first?["field"]?.stringValue?.hasPrefix("values.") == true)
            let missing = try await client.call(
                .post, "/api/v1/conflicts/\(id)/resolve", json: ["resolution": "custom"])
            #expect(missing.status == .unprocessableContent)
            #expect(try await client.call(.get, "/api/v1/conflicts/\(id)").json["status"] == "open")

            let resolved = try await client.call(
                .post, "/api/v1/conflicts/\(id)/resolve",
                json: ["resolution": "custom", "values": ["due_date": "2026-11-27"]])
            #expect(resolved.status == .ok)
            #expect(resolved.json["status"] == "resolved" && resolved.json["resolution"] == "custom")
            #expect(resolved.json["resolved_values"]?["due_date"] == "2026-11-27")
            while try await engine.runDueJobs() > 0 {}
            #expect(connector.pushes.map(\.version) == [1, 1, 3])
            let record = try #require(try await client.records("type=invoice").first)
            #expect(record["data"]?["due_date"] == "2026-11-27" && record["version"] == 3, "\(record)")
            let again = try await client.call(
                .post, "/api/v1/conflicts/\(id)/resolve", json: ["resolution": "use_local"])
            #expect(again.status == .conflict)
        }
    }
}
