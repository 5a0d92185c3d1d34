import Accounting
import App
import Connectors
import Foundation
import HummingbirdTesting
import Logging
import Persistence
import SyncEngine
import TestSupport
import Testing

/// Ledgerwire on loopback with a platform's emulator beside it, driven by the test: what every end-to-end world has
/// (`QuickBooksWorld`, `XeroWorld`) and the calls, workers and checks they share.
protocol PipelineWorld: Sendable {
    var components: Components { get }
    /// Ledgerwire's base URL.
    var ledgerwire: String { get }
    var engine: SyncEngine { get }
    var runner: SyncOperationRunner { get }
    /// The workers' clock (the engine's and the sync operations'): `drain` moves it on to the next job due.
    var clock: OffsetClock { get }
    var signer: Signer { get }
    /// Tests' own calls, to the servers on loopback.
    var transport: HTTPClientTransport { get }
}

/// An answer to a test's call.
struct WorldAnswer: Sendable {
    let status: Int
    let headers: [String: String]
    let json: JSONValue
}

extension PipelineWorld {
    typealias Answer = WorldAnswer
    static var adminToken: String { QuickBooksWorld.adminToken }
    static var tenant: String { QuickBooksWorld.tenant }

    // MARK: HTTP

    func call(
        _ method: String, _ url: String, token: String? = QuickBooksWorld.adminToken, json: JSONValue? = nil,
        headers: [String: String] = [:], body: [UInt8]? = nil
    ) async throws -> Answer {
        var fields: [(name: String, value: String)] = headers.map { ($0.key, $0.value) }
        if let token { fields.append(("Authorization", "Bearer \(token)")) }
        if json != nil { fields.append(("Content-Type", "application/json")) }
        let response = try await transport.send(
            TransportRequest(
                method: method, url: URL(string: url)!, headers: fields,
                body: (json?.canonicalBytes ?? body).map { Data($0) }))
        return Answer(
            status: response.status, headers: response.headers,
            json: (try? JSONValue(parsing: response.body)) ?? .null)
    }

    func api(_ method: String, _ path: String, _ json: JSONValue? = nil) async throws -> Answer {
        try await call(method, ledgerwire + "/api/v1" + path, json: json)
    }

    /// Posts a signed billing event.
    @discardableResult
    func bill(
        _ type: String, _ data: JSONValue, tenant: String = QuickBooksWorld.tenant,
        id: String = "msg_" + UUID().uuidString.lowercased()
    ) async throws -> Answer {
        let body: JSONValue = [
            "type": .string(type), "timestamp": .string(Timestamp.now().rfc3339), "tenant_id": .string(tenant),
            "data": data,
        ]
        let bytes = body.canonicalBytes
        var headers = signer.headers(for: bytes, id: id)
        headers["Content-Type"] = "application/json"
        let answer = try await call("POST", ledgerwire + "/webhooks/billing", token: nil, headers: headers, body: bytes)
        #expect(answer.status < 300, "billing event refused: \(answer.json)")
        return answer
    }

    // MARK: Driving the workers

    /// Runs the workers round by round until no job is pending or running, or until `done` holds. When no job is
    /// due, the clock moves on to the next one due (a retry, a backoff, a reachability check) instead of waiting. It
    /// fails, naming the jobs still open, when none of them will come due by time alone (they wait for a mapping, a
    /// connection) or after `rounds` rounds.
    func drain(
        rounds: Int = 400, until done: (() async throws -> Bool)? = nil,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        for _ in 0..<rounds {
            if let done, try await done() { return }
            if try await engine.runDueJobs() > 0 { continue }
            if let due = try await engine.nextJobDue() {
                clock.advance(to: due)
                continue
            }
            let open = try await openJobs()
            if open.isEmpty, done == nil { return }
            Issue.record(
                "\(done == nil ? "" : "still not done: ")no job will come due, and these are open: \(open)",
                sourceLocation: sourceLocation)
            return
        }
        Issue.record(
            "after \(rounds) rounds these are still open: \(try await openJobs())", sourceLocation: sourceLocation)
    }

    /// The pending and running jobs, each with what it waits for.
    func openJobs() async throws -> [String] {
        var open: [String] = []
        for status in [Job.Status.pending, .running] {
            let jobs = try await components.database.jobs(status: status, page: PageRequest(limit: 500)).items
            open += jobs.map { job in
                "\(job.recordType) \(job.localID) \(job.status.rawValue) attempts \(job.attempts) deferrals "
                    + "\(job.deferrals) next \(job.nextAttemptAt.rfc3339) \(job.lastError?.code ?? "")"
            }
        }
        return open
    }

    /// A full sync requested through the API, queued and run to its end.
    func fullSync(_ integrationID: String) async throws {
        let requested = try await api("POST", "/integrations/\(integrationID)/sync", ["mode": "full"])
        #expect(requested.status < 300, "\(requested.json)")
        while try await runner.runDueOperation() {}
        try await drain()
        while try await runner.runDueOperation() {}
    }

    /// An incremental sync (the scheduled CDC poll) requested through the API and run.
    func poll(_ integrationID: String) async throws {
        let requested = try await api("POST", "/integrations/\(integrationID)/sync", ["mode": "incremental"])
        #expect(requested.status < 300, "\(requested.json)")
        while try await runner.runDueOperation() {}
    }

    /// Fetches what webhooks announced and handles it.
    func hearFromTheBooks() async throws {
        while try await runner.fetchNotifiedChanges() > 0 {}
        while try await runner.processLedgerChanges() > 0 {}
    }

    func events(_ type: String) async throws -> [JSONValue] {
        try await components.database.events(tenantID: nil, type: type, page: try PageRequest(limit: 500)).items
            .compactMap { $0["data"] }
    }

    /// Every event the test made Ledgerwire emit conforms to its type's schema in docs/events/, and each amount has
    /// exactly its currency's minor-unit digits.
    func expectEventsKeepTheContract() async throws {
        var cursor: String?
        repeat {
            let page = try await components.database.events(
                tenantID: nil, page: try PageRequest(limit: 500, cursor: cursor))
            for event in page.items {
                let type = event["type"]?.stringValue ?? "?"
                let url = QuickBooksWorld.eventSchemas.appendingPathComponent("\(type).schema.json")
                guard FileManager.default.fileExists(atPath: url.path) else {
                    Issue.record("no schema in docs/events/ for \(type)")
                    continue
                }
                let violations = try JSONSchema(contentsOf: url).violations(of: event)
                #expect(violations.isEmpty, "\(type) breaks its schema: \(violations) in \(event.canonicalString)")
                #expect(
                    QuickBooksWorld.amountsOutOfPrecision(in: event["data"] ?? .null, currency: nil).isEmpty,
                    "\(type): \(QuickBooksWorld.amountsOutOfPrecision(in: event["data"] ?? .null, currency: nil))")
            }
            cursor = page.nextCursor
        } while cursor != nil
    }

}

/// Ledgerwire as the end-to-end worlds run it: its server live on loopback, its workers not running on their own (a
/// test drives them round by round, `drain`), talking to platforms on loopback only.
struct Pipeline {
    let components: Components
    let engine: SyncEngine
    let runner: SyncOperationRunner
    let clock: OffsetClock
    /// Ledgerwire's base URL.
    let ledgerwire: String

    /// The waits a test's workers use: short, so its clock need not move far.
    static let quickRetry = RetryStrategy(
        base: .milliseconds(20), cap: .milliseconds(200), attemptDelays: [.milliseconds(20), .milliseconds(80)],
        unreachableBase: .milliseconds(20), unreachableCap: .milliseconds(200))

    /// Runs `body` with Ledgerwire up, syncing with `connectors` through `transport`.
    static func run(
        connectors: [any Connector], transport: any HTTPTransport, retry: RetryStrategy = quickRetry,
        limiterClock: any Clock<Duration> = ContinuousClock(),
        limits: SyncEngine.Limits = .init(concurrency: 16, perIntegration: 5, lease: .seconds(60)),
        serverOnWorkersClock: Bool = false,
        _ body: @Sendable (Pipeline) async throws -> Void
    ) async throws {
        let clock = OffsetClock()
        var now: @Sendable () -> Timestamp = Timestamp.now
        if serverOnWorkersClock { now = { clock.now() } }
        var configuration = ServerConfiguration()
        configuration.adminToken = QuickBooksWorld.adminToken
        configuration.port = 0
        configuration.runsWorkers = false
        configuration.destinationPolicy = QuickBooksWorld.loopback
        let components = Components(
            configuration: configuration, database: try AppDatabase.inMemory(),
            box: try SecretBox(masterKey: Array(repeating: 7, count: 32)), transport: transport,
            connectors: connectors, now: now, limiterClock: limiterClock)
        let app = buildApplication(configuration: configuration, components: components, logger: Logger(label: "e2e"))
        var quiet = Logger(label: "e2e.sync")
        quiet.logLevel = .critical
        let engine = SyncEngine(
            database: components.database, connectors: components.connectors, tokens: components.tokens,
            rateLimiters: components.rateLimiters, workerID: "w1", retry: retry,
            limits: limits, clock: clock, logger: quiet)
        let runner = SyncOperationRunner(
            database: components.database, workerID: "s1",
            platforms: PlatformAccess(
                connectors: components.connectors, tokens: components.tokens, rateLimiters: components.rateLimiters),
            clock: clock, retry: retry, logger: quiet)
        try await app.test(.live) { client in
            try await body(
                Pipeline(
                    components: components, engine: engine, runner: runner, clock: clock,
                    ledgerwire: "http://127.0.0.1:\(client.port!)"))
        }
    }
}
