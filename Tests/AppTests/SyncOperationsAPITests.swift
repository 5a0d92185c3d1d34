import Accounting
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import TestSupport
import Testing

@Suite struct SyncOperationsAPITests {
    @Test func aFullSyncIsRequestedAndItsProgressShown() async throws {
        try await TestApp().test { client in
            let created = try await client.call(
                .post, "/api/v1/integrations",
                json: ["tenant_id": "greenfield", "platform": "quickbooks_online", "name": "Books"])
            let id = try #require(created.json["id"]?.stringValue)
            #expect(try await client.importTokens(id).status == .ok)
            let requested = try await client.call(.post, "/api/v1/integrations/\(id)/sync", json: ["mode": "full"])
            #expect(requested.status == .accepted)
            let operationID = try #require(requested.json["operation_id"]?.stringValue)
            #expect(requested.json["mode"] == "full" && requested.json["records_total"] == 0)
            let again = try await client.call(.post, "/api/v1/integrations/\(id)/sync", json: ["mode": "full"])
            #expect(again.json["operation_id"]?.stringValue == operationID)

            let shown = try await client.call(.get, "/api/v1/sync-operations/\(operationID)")
            #expect(shown.status == .ok && shown.json["integration_id"] == .string(id))
            let listed = try await client.call(.get, "/api/v1/sync-operations?integration_id=\(id)")
            #expect(listed.json["items"]?.arrayValue?.count == 1)
            let badStatus = try await client.call(.get, "/api/v1/sync-operations?status=done")
            #expect(badStatus.status == .unprocessableContent)

            let incremental = try await client.call(
                .post, "/api/v1/integrations/\(id)/sync", json: ["mode": "incremental"])
            #expect(incremental.status == .accepted && incremental.json["mode"] == "incremental")
            #expect(incremental.json["operation_id"]?.stringValue != operationID)
            let badMode = try await client.call(.post, "/api/v1/integrations/\(id)/sync", json: ["mode": "partial"])
            #expect(badMode.status == .unprocessableContent)
            let viewer = try await client.call(.post, "/api/v1/api-keys", json: ["name": "r", "role": "viewer"])
            let token = try #require(viewer.json["token"]?.stringValue)
            let refused = try await client.call(
                .post, "/api/v1/integrations/\(id)/sync", token: token, json: ["mode": "full"])
            #expect(refused.status == .forbidden)
        }
    }
}
