import Accounting
import Connectors
import Foundation
import Ingestion

/// The bench's view of Ledgerwire and a platform's emulator, both over HTTP: billing's side, the admin API and the
/// OAuth consent. What a platform's books hold is read by that platform's bench, from its emulator.
struct BenchWorld: Sendable {
    let ledgerwire: String
    let emulator: String
    let adminToken: String
    /// The bench's own calls, to both servers on loopback over http.
    let transport = HTTPClientTransport(policy: DestinationPolicy(allowsInsecure: true, allowsPrivateNetworks: true))

    /// Billing's tenant: the school whose history is pushed.
    static let tenant = "bench-school"

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    struct Answer {
        let status: Int
        let headers: [String: String]
        let json: JSONValue
    }

    func call(
        _ method: String, _ url: String, token: String? = nil, json: JSONValue? = nil,
        headers: [String: String] = [:], body: [UInt8]? = nil
    ) async throws -> Answer {
        var fields: [(name: String, value: String)] = headers.map { ($0.key, $0.value) }
        if let token { fields.append(("Authorization", "Bearer \(token)")) }
        if json != nil { fields.append(("Content-Type", "application/json")) }
        guard let target = URL(string: url) else { throw Failure(description: "not a URL: \(url)") }
        let response = try await transport.send(
            TransportRequest(
                method: method, url: target, headers: fields, body: (json?.canonicalBytes ?? body).map { Data($0) }))
        return Answer(
            status: response.status, headers: response.headers,
            json: (try? JSONValue(parsing: Array(response.body))) ?? .null)
    }

    /// An admin API call that must succeed.
    @discardableResult
    func api(_ method: String, _ path: String, _ json: JSONValue? = nil) async throws -> JSONValue {
        let answer = try await call(method, ledgerwire + "/api/v1" + path, token: adminToken, json: json)
        guard (200..<300).contains(answer.status) else {
            throw Failure(description: "\(method) \(path) answered \(answer.status): \(answer.json)")
        }
        return answer.json
    }

    // MARK: The integration

    /// The consent form a person submits on an emulator's consent page: where it is posted, as what, and its body.
    typealias ConsentForm = (action: String, contentType: String, body: String)

    /// An integration of billing's tenant on `platform` with `settings`, connected through the emulator's OAuth
    /// consent: the consent page opened, `consent`'s form (built from the authorize URL) posted, the callback
    /// followed.
    func connect(
        platform: String, settings: JSONValue, consent: (_ authorizeURL: String) -> ConsentForm?
    ) async throws -> String {
        let created = try await api(
            "POST", "/integrations",
            [
                "tenant_id": .string(Self.tenant), "platform": .string(platform), "name": "Bench books",
                "settings": settings, "sync": ["interval_seconds": 3600],
            ])
        guard let id = created["id"]?.stringValue else { throw Failure(description: "no integration id: \(created)") }
        let connect = try await call("GET", ledgerwire + "/api/v1/integrations/\(id)/connect", token: adminToken)
        guard let authorize = connect.headers["location"] ?? connect.headers["Location"] else {
            throw Failure(description: "connect did not redirect: \(connect.status) \(connect.json)")
        }
        // The consent page, then its form as the person pressing Connect submits it.
        let page = try await call("GET", authorize)
        guard page.status == 200, let form = consent(authorize) else {
            throw Failure(description: "the emulator's consent page did not open: \(page.status)")
        }
        let authorized = try await call(
            "POST", form.action, headers: ["Content-Type": form.contentType], body: Array(form.body.utf8))
        guard let callback = authorized.headers["location"] ?? authorized.headers["Location"] else {
            throw Failure(description: "the emulator's consent did not redirect: \(authorized.status)")
        }
        let connected = try await call("GET", callback)
        guard connected.json["status"] == "connected" else {
            throw Failure(description: "OAuth callback: \(connected.status) \(connected.json)")
        }
        return id
    }

    func requestFullSync(_ integrationID: String) async throws {
        try await api("POST", "/integrations/\(integrationID)/sync", ["mode": "full"])
    }

    /// Waits for the full sync operation to say it is completed.
    func awaitCompletedSync(_ integrationID: String) async throws {
        for _ in 0..<600 {
            let operations = try await api("GET", "/sync-operations?integration_id=\(integrationID)")
            let status = operations["items"]?.arrayValue?.first?["status"]?.stringValue
            if status == "completed" { return }
            if status == "failed" { throw Failure(description: "the full sync failed: \(operations)") }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw Failure(description: "the full sync did not complete within a minute of its last invoice")
    }

    func failedJobs(_ integrationID: String) async throws -> String {
        let failed = try await api("GET", "/jobs?status=failed&integration_id=\(integrationID)")
        return (failed["items"]?.arrayValue ?? []).prefix(3).map { "\($0)" }.joined(separator: "; ")
    }
}
