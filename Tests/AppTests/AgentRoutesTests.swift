import Accounting
import App
import Connectors
import Foundation
import HTTPTypes
import Persistence
import Testing

/// The agent's routes (`/agent/v1/…`) and its token (`POST /api/v1/integrations/{id}/agent-token`), through the
/// router.
@Suite struct AgentRoutesTests {
    /// A Tally integration of `school`; its id.
    static func tallyIntegration(_ client: Client, school: String = "vidya", name: String = "Tally") async throws
        -> String
    {
        let created = try await client.call(
            .post, "/api/v1/integrations",
            json: [
                "tenant_id": .string(school), "platform": "tally", "name": .string(name),
                "settings": ["connection": "agent"],
            ])
        guard created.status == .created, let id = created.json["id"]?.stringValue else {
            throw TestFailure("could not create a Tally integration: \(created.status) \(created.json)")
        }
        return id
    }

    /// A new agent token for `integrationID`.
    static func agentToken(_ client: Client, _ integrationID: String, key: String = TestApp.adminToken) async throws
        -> String
    {
        let issued = try await client.call(.post, "/api/v1/integrations/\(integrationID)/agent-token", token: key)
        guard issued.status == .created, let token = issued.json["token"]?.stringValue else {
            throw TestFailure("could not issue an agent token: \(issued.status) \(issued.json)")
        }
        return token
    }

    /// Keeps a request of `integrationID` waiting for its agent while `body` runs.
    static func withWaitingRequest(
        _ app: TestApp, _ integrationID: String, body: @escaping @Sendable () async throws -> Void
    ) async throws {
        let relay = app.components.agentRelay
        _ = await relay.next(integrationID: integrationID, wait: .zero)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                _ = try? await relay.send(
                    AgentRelayTests.request(integrationID, body: Data("hello".utf8), timeout: .seconds(20)),
                    integrationID: integrationID)
            }
            while await relay.waitingCount(integrationID: integrationID) == 0 { await Task.yield() }
            try await body()
            group.cancelAll()
        }
    }

    @Test func anOperatorIssuesATokenShownOnceStoredHashedAndAudited() async throws {
        let app = try TestApp()
        try await app.test { client in
            let id = try await Self.tallyIntegration(client)
            let created = try await client.call(
                .post, "/api/v1/api-keys", json: ["name": "ops", "role": "operator", "tenant_id": "vidya"])
            let operatorKey = try #require(created.json["token"]?.stringValue)
            let first = try await Self.agentToken(client, id, key: operatorKey)
            #expect(first.hasPrefix("lwa_"))
            #expect(first.count == 4 + 43)
            let second = try await Self.agentToken(client, id, key: operatorKey)
            #expect(second != first)
            // The earlier token no longer opens anything; the new one does.
            #expect(try await client.call(.get, "/agent/v1/requests?wait=0", token: first).status == .unauthorized)
            #expect(try await client.call(.get, "/agent/v1/requests?wait=0", token: second).status == .noContent)
            let audit = try await client.call(.get, "/api/v1/audit?integration_id=\(id)")
            let text = String(decoding: audit.json.canonicalBytes, as: UTF8.self)
            #expect(text.contains("integration.agent_token_issued"))
            #expect(!text.contains(first) && !text.contains(second))
            #expect(!text.contains(APIKey.hash(token: second)))
            // A viewer may not; another school's key does not see the integration.
            let viewer = try #require(
                try await client.call(.post, "/api/v1/api-keys", json: ["name": "v", "role": "viewer"]).json["token"]?
                    .stringValue)
            #expect(
                try await client.call(.post, "/api/v1/integrations/\(id)/agent-token", token: viewer).status
                    == .forbidden)
            let other = try #require(
                try await client.call(
                    .post, "/api/v1/api-keys", json: ["name": "o", "role": "admin", "tenant_id": "riverside"]
                ).json["token"]?.stringValue)
            #expect(
                try await client.call(.post, "/api/v1/integrations/\(id)/agent-token", token: other).status
                    == .notFound)
        }
    }

    @Test func onlyTallyIntegrationsHaveAgents() async throws {
        let app = try TestApp()
        try await app.test { client in
            let created = try await client.call(
                .post, "/api/v1/integrations",
                json: ["tenant_id": "vidya", "platform": "xero", "name": "Xero", "settings": [:]])
            let id = try #require(created.json["id"]?.stringValue)
            let answer = try await client.call(.post, "/api/v1/integrations/\(id)/agent-token")
            #expect(answer.status == .conflict)
        }
    }

    @Test func aWrongTokenIs401AndNothingIsHandedOut() async throws {
        let app = try TestApp()
        try await app.test { client in
            let id = try await Self.tallyIntegration(client)
            _ = try await Self.agentToken(client, id)
            try await Self.withWaitingRequest(app, id) {
                for token in [nil, "lwa_" + String(repeating: "x", count: 43), TestApp.adminToken] {
                    let answer = try await client.call(.get, "/agent/v1/requests?wait=0", token: token)
                    #expect(answer.status == .unauthorized)
                    #expect(answer.headers[.contentType] == "application/problem+json")
                    #expect(await app.components.agentRelay.waitingCount(integrationID: id) == 1)
                }
                let reply = try await client.call(
                    .post, "/agent/v1/requests/agr_x/reply", token: "lwa_wrong",
                    json: ["status": 200, "headers": [:], "body_base64": ""])
                #expect(reply.status == .unauthorized)
            }
        }
    }

    @Test func badTokensAreThrottledLikeBadAPIKeys() async throws {
        let app = try TestApp()
        try await app.test { client in
            var statuses: [HTTPResponse.Status] = []
            for _ in 0..<21 {
                statuses.append(
                    try await client.call(.get, "/agent/v1/requests?wait=0", token: "lwa_guess").status)
            }
            #expect(statuses.prefix(20).allSatisfy { $0 == .unauthorized })
            #expect(statuses.last == .tooManyRequests)
        }
    }

    @Test func aTokenSeesOnlyItsOwnIntegrationsRequests() async throws {
        let app = try TestApp()
        try await app.test { client in
            let vidya = try await Self.tallyIntegration(client, school: "vidya")
            let riverside = try await Self.tallyIntegration(client, school: "riverside")
            let sibling = try await Self.tallyIntegration(client, school: "vidya", name: "Tally 2")
            let vidyaToken = try await Self.agentToken(client, vidya)
            let riversideToken = try await Self.agentToken(client, riverside)
            let siblingToken = try await Self.agentToken(client, sibling)
            try await Self.withWaitingRequest(app, vidya) {
                for token in [riversideToken, siblingToken] {
                    #expect(try await client.call(.get, "/agent/v1/requests?wait=0", token: token).status == .noContent)
                }
                let taken = try await client.call(.get, "/agent/v1/requests?wait=1", token: vidyaToken)
                #expect(taken.status == .ok)
                let requestID = try #require(taken.json["id"]?.stringValue)
                #expect(taken.json["body_base64"]?.stringValue == Data("hello".utf8).base64EncodedString())
                // Another integration's agent cannot answer it.
                for token in [riversideToken, siblingToken] {
                    let forged = try await client.call(
                        .post, "/agent/v1/requests/\(requestID)/reply", token: token,
                        json: ["status": 200, "headers": [:], "body_base64": ""])
                    #expect(forged.status == .notFound)
                }
                let reply = try await client.call(
                    .post, "/agent/v1/requests/\(requestID)/reply", token: vidyaToken,
                    json: ["status": 200, "headers": [:], "body_base64": ""])
                #expect(reply.status == .noContent)
            }
        }
    }

    @Test func aDisabledOrDeletedIntegrationsAgentIsRefused() async throws {
        let app = try TestApp()
        try await app.test { client in
            let id = try await Self.tallyIntegration(client)
            let token = try await Self.agentToken(client, id)
            #expect(
                try await client.call(.patch, "/api/v1/integrations/\(id)", json: ["status": "disabled"]).status == .ok)
            #expect(try await client.call(.get, "/agent/v1/requests?wait=0", token: token).status == .conflict)
            #expect(await !app.components.agentRelay.isConnected(integrationID: id))
            #expect(try await client.call(.delete, "/api/v1/integrations/\(id)").status == .noContent)
            #expect(try await client.call(.get, "/agent/v1/requests?wait=0", token: token).status == .unauthorized)
        }
    }

    @Test func aMalformedReplyIsRefusedNamingTheField() async throws {
        let app = try TestApp()
        try await app.test { client in
            let id = try await Self.tallyIntegration(client)
            let token = try await Self.agentToken(client, id)
            let answer = try await client.call(
                .post, "/agent/v1/requests/agr_x/reply", token: token, json: ["status": 99, "body_base64": ""])
            #expect(answer.status == .unprocessableContent)
            #expect(answer.json["errors"]?.arrayValue?.first?["field"]?.stringValue == "status")
            let bad = try await client.call(
                .post, "/agent/v1/requests/agr_x/reply", token: token, json: ["error": ["code": "boom", "message": ""]])
            #expect(bad.status == .unprocessableContent)
        }
    }
}
