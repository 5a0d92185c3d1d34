import Accounting
import App
import Connectors
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Persistence
import TestSupport

/// A Ledgerwire wired in-process: migrated database (in memory unless a path is given), real router.
struct TestApp {
    static let adminToken = "test-admin-token-0123456789-abcdefghij"
    /// What tests need to reach their own servers: http to loopback.
    static let loopback = DestinationPolicy(allowsInsecure: true, allowsPrivateNetworks: true)

    let configuration: ServerConfiguration
    let components: Components

    init(
        databasePath: String? = nil, connectors: [any Connector] = [], registry: ConnectorRegistry? = nil,
        transport: any HTTPTransport = HTTPClientTransport(policy: TestApp.loopback),
        destinations: DestinationPolicy = TestApp.loopback
    ) throws {
        var configuration = ServerConfiguration()
        // Tests' receivers and platforms are on 127.0.0.1 over http: they opt in to both.
        configuration.destinationPolicy = destinations
        configuration.adminToken = Self.adminToken
        configuration.port = 0
        configuration.runsWorkers = false  // tests drive the engine themselves; background workers would race them
        self.configuration = configuration
        // Passwords hashed at the cheapest cost: tests add users and sign them in often (servers use the standard).
        let database = try (databasePath.map(AppDatabase.openForTests(path:)) ?? AppDatabase.inMemory())
            .hashingPasswords(with: PasswordHasher(cost: .minimum))
        components = Components(
            configuration: configuration,
            database: database,
            box: try AppDatabase.testBox(),
            transport: transport,
            registry: registry ?? ConnectorRegistry.standard.with(connectors: connectors)
        )
    }

    var application: some ApplicationProtocol {
        buildApplication(configuration: configuration, components: components, logger: Logger(label: "test"))
    }

    /// Runs `body` against the router.
    func test<Value: Sendable>(_ body: @Sendable (Client) async throws -> Value) async throws -> Value {
        try await application.test(.router) { client in try await body(Client(client: client)) }
    }
}

/// The test client with the calls these tests make.
struct Client: Sendable {
    let client: any TestClientProtocol

    struct Answer: Sendable {
        let status: HTTPResponse.Status
        let headers: HTTPFields
        let json: JSONValue
    }

    func call(
        _ method: HTTPRequest.Method,
        _ uri: String,
        token: String? = TestApp.adminToken,
        headers: [String: String] = [:],
        body: [UInt8]? = nil
    ) async throws -> Answer {
        var fields = HTTPFields()
        if let token { fields[.authorization] = "Bearer \(token)" }
        for (name, value) in headers { fields[HTTPField.Name(name)!] = value }
        return try await client.execute(
            uri: uri,
            method: method,
            headers: fields,
            body: body.map { ByteBuffer(bytes: $0) }
        ) { response in
            let bytes = Array(response.body.readableBytesView)
            let json =
                bytes.isEmpty
                ? JSONValue.null : (try? JSONValue(parsing: bytes)) ?? .string(String(decoding: bytes, as: UTF8.self))
            return Answer(status: response.status, headers: response.headers, json: json)
        }
    }

    func call(_ method: HTTPRequest.Method, _ uri: String, token: String? = TestApp.adminToken, json: JSONValue)
        async throws -> Answer
    {
        try await call(
            method, uri, token: token, headers: ["content-type": "application/json"], body: json.canonicalBytes)
    }

    /// Registers a billing webhook secret and returns a signer for it.
    func addBillingSecret(
        _ secret: String = "whsec_" + Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
    )
        async throws -> (id: String, signer: Signer)
    {
        let answer = try await call(
            .post, "/api/v1/webhook-sources", json: ["source": "billing", "secret": .string(secret)])
        guard answer.status == .created, let id = answer.json["id"]?.stringValue else {
            throw TestFailure("could not add a webhook source: \(answer.status) \(answer.json)")
        }
        return (id, Signer(secret: secret))
    }

    /// Posts a signed billing event.
    func deliver(
        _ body: [UInt8],
        signer: Signer,
        id: String = "msg_" + UUID().uuidString.lowercased(),
        timestamp: Int64 = Int64(Date().timeIntervalSince1970)
    ) async throws -> Answer {
        try await call(
            .post, "/webhooks/billing", token: nil, headers: signer.headers(for: body, id: id, timestamp: timestamp),
            body: body)
    }

    func deliver(_ event: JSONValue, signer: Signer, id: String = "msg_" + UUID().uuidString.lowercased()) async throws
        -> Answer
    {
        try await deliver(event.canonicalBytes, signer: signer, id: id)
    }

    /// `GET /api/v1/records?…` items.
    func records(_ query: String) async throws -> [JSONValue] {
        guard case .array(let items) = try await call(.get, "/api/v1/records?\(query)").json["items"] else { return [] }
        return items
    }

    func deliveries(_ query: String = "") async throws -> [JSONValue] {
        guard case .array(let items) = try await call(.get, "/api/v1/deliveries?\(query)").json["items"] else {
            return []
        }
        return items
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
