import Accounting
import App
import Connectors
import Foundation
import Persistence
import Sandbox
import TestSupport
import Testing

/// What the invariant tests need of the world besides `QuickBooksWorld` itself: signed deliveries of what the
/// emulator would announce, several tenants and realms, and every event Ledgerwire emitted.
extension QuickBooksWorld {
    /// Delivers every change the emulator made since the last call as Intuit does (one signed body per realm) and
    /// answers what was announced. Each delivery must be answered 200 with notifications routed.
    @discardableResult
    func announce(_ format: QuickBooksWebhookSender.Format = .legacy) async throws
        -> [QuickBooksWebhookSender.Notification]
    {
        let sender = QuickBooksWebhookSender(
            url: URL(string: ledgerwire + "/webhooks/quickbooks")!, verifierToken: Self.verifierToken, format: format,
            retryDelays: [])
        var announced: [QuickBooksWebhookSender.Notification] = []
        for (realm, notifications) in await sandbox.takeNotifications() {
            let report = await sender.send(QuickBooksWebhookSender.body(realmID: realm, notifications, format: format))
            #expect(report.attempts.last?.status == 200, "the webhook for realm \(realm) was not acknowledged")
            announced += notifications
        }
        return announced
    }

    /// Every outbound event Ledgerwire emitted, of every tenant, oldest first.
    func allEvents() async throws -> [JSONValue] {
        var events: [JSONValue] = []
        var cursor: String?
        repeat {
            let page = try await components.database.events(
                tenantID: nil, page: try PageRequest(limit: 500, cursor: cursor))
            events += page.items
            cursor = page.nextCursor
        } while cursor != nil
        return events
    }

    /// The events that tell billing about a change in the books (`ledger.*`).
    func ledgerEvents() async throws -> [JSONValue] {
        try await allEvents().filter { $0["type"]?.stringValue?.hasPrefix("ledger.") == true }
    }

    /// A signed billing event of `tenant`.
    @discardableResult
    func bill(_ type: String, _ data: JSONValue, tenant: String) async throws -> Answer {
        let body: JSONValue = [
            "type": .string(type), "timestamp": .string(Timestamp.now().rfc3339), "tenant_id": .string(tenant),
            "data": data,
        ]
        let bytes = body.canonicalBytes
        var headers = signer.headers(for: bytes, id: "msg_" + UUID().uuidString.lowercased())
        headers["Content-Type"] = "application/json"
        let answer = try await call("POST", ledgerwire + "/webhooks/billing", token: nil, headers: headers, body: bytes)
        #expect(answer.status < 300, "billing event refused: \(answer.json)")
        return answer
    }

    /// An integration of `tenant` connected, through the consent dance, to the emulator's company `realm`.
    func connect(tenant: String, realm: String, conflictPolicy: String = "last_modified_wins") async throws -> String {
        await sandbox.registerClient(id: "lw-client", secret: "lw-secret")
        let created = try await api(
            "POST", "/integrations",
            [
                "tenant_id": .string(tenant), "platform": "quickbooks_online", "name": .string("\(tenant) books"),
                "settings": [
                    "client_id": "lw-client", "client_secret": "lw-secret",
                    "redirect_uri": .string(ledgerwire + "/oauth/callback"), "environment": "sandbox",
                    "api_base_url": .string(emulator), "oauth_authorize_url": .string(emulator + "/connect/oauth2"),
                    "oauth_token_url": .string(emulator + "/oauth2/v1/tokens/bearer"),
                    "oauth_revoke_url": .string(emulator + "/v2/oauth2/tokens/revoke"),
                ],
                "sync": ["interval_seconds": 3600, "conflict_policy": .string(conflictPolicy)],
            ])
        let id = try #require(created.json["id"]?.stringValue, "\(created.json)")
        // The person consenting picks this company.
        await sandbox.setConsentRealm(realm)
        let connect = try await api("GET", "/integrations/\(id)/connect")
        let consent = try await call("GET", try #require(connect.headers["location"]), token: nil)
        let back = try #require(consent.headers["location"])
        #expect(back.contains("realmId=\(realm)"))
        let callback = try await call("GET", back, token: nil)
        #expect(callback.status == 200 && callback.json["status"] == "connected", "\(callback.json)")
        return id
    }

    /// A bookkeeper's call to the API of the emulator's company `realm`.
    func bookkeeper(_ method: String, _ path: String, _ json: JSONValue? = nil, realm: String) async throws -> Answer {
        let (access, _) = await sandbox.issueTokens(clientID: "lw-client", realmID: realm)
        return try await call(method, emulator + "/v3/company/\(realm)/\(path)", token: access, json: json)
    }
}

extension JSONValue {
    /// This object with `key` set to `value`.
    func setting(_ key: String, to value: JSONValue) -> JSONValue {
        guard case .object(var members) = self else { return self }
        members[key] = value
        return .object(members)
    }
}
