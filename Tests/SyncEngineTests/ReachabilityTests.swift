import Accounting
import Connectors
import Foundation
import Logging
import Persistence
import SyncEngine
import Synchronization
import TestSupport
import Testing

/// A platform out of reach is not the record's fault; a failed attempt is retried over minutes, not seconds.
@Suite struct ReachabilityTests: SyncScenario {
    let clock = ManualClock()
    let tenant = "school"

    /// Connections refused for hours: the job waits, its attempts intact, backing off from half a minute to an
    /// hour; the integration shows why meanwhile, and its jobs are not claimed before the next check. The first
    /// call that goes through writes the invoice once and clears the integration's state.
    @Test func anUnreachablePlatformDefersJobsWithoutUsingAttemptsAndShowsTheIntegrationUnreachable() async throws {
        let (database, integrations) = try await setUp()
        let refused = ConnectorError.unreachable(code: "unreachable", message: "QuickBooks could not be reached")
        let connector = ScriptedConnector(failing: Array(repeating: refused, count: 9))
        try await deliver(database, "msg_1", [invoice("inv_1")])
        let engine = engine(database, connector)
        let started = clock.now()
        #expect(try await engine.runDueJobs() == 1)
        let first = try #require(try await database.jobs(page: PageRequest()).items.first)
        #expect(first.status == .pending && first.attempts == 0 && first.deferrals == 1)
        let down = try #require(try await database.integration(id: integrations[0].id)?.unreachable)
        #expect(down.since == started && down.lastError.code == "unreachable")
        #expect(down.nextCheckAt == first.nextAttemptAt)
        // Not before the next check, even for a job that was due all along.
        try await deliver(database, "msg_2", [invoice("inv_2")])
        #expect(try await engine.runDueJobs() == 0)

        var waits: [Duration] = [
            .microseconds(first.nextAttemptAt.microsecondsSinceEpoch - started.microsecondsSinceEpoch)
        ]
        while try await database.job(id: first.id)?.status == .pending {
            let job = try #require(try await database.job(id: first.id))
            clock.advance(
                by: .microseconds(job.nextAttemptAt.microsecondsSinceEpoch - clock.now().microsecondsSinceEpoch))
            let before = clock.now()
            try await engine.runDueJobs()
            if let again = try await database.job(id: first.id), again.status == .pending {
                waits.append(.microseconds(again.nextAttemptAt.microsecondsSinceEpoch - before.microsecondsSinceEpoch))
            }
            #expect(waits.count < 20)
            if waits.count >= 20 { break }
        }
        // Deferral n waits between half and all of min(1 h, 30 s · 2^(n-1)).
        for (index, wait) in waits.enumerated() {
            let ceiling = min(Duration.seconds(3600), .seconds(30) * (1 << index))
            #expect(wait >= ceiling / 2 && wait <= ceiling, "deferral \(index + 1) waited \(wait)")
        }
        let job = try #require(try await database.job(id: first.id))
        #expect(job.status == .succeeded && job.attempts == 1)
        #expect(connector.written.count >= 1)
        #expect(try await database.integration(id: integrations[0].id)?.unreachable == nil)
        #expect(try await events(database, .syncFailed).isEmpty)
    }

    /// The platform comes back but refuses the record (or throttles, or fails): it answered, so the outage is over.
    /// A later outage starts its own count: it does not inherit the first one's start and dead-letter at once.
    @Test func anyAnswerEndsTheOutageNotOnlyASuccess() async throws {
        let (database, integrations) = try await setUp()
        let refused = ConnectorError.unreachable(code: "unreachable", message: "QuickBooks could not be reached")
        let rejected = ConnectorError.validation(code: "6000", message: "A business validation error has occurred")
        let connector = ScriptedConnector(failing: [refused, rejected])
        try await deliver(database, "msg_1", [invoice("inv_1")])
        let engine = engine(database, connector)
        #expect(try await engine.runDueJobs() == 1)
        #expect(try await database.integration(id: integrations[0].id)?.unreachable != nil)
        let job = try #require(try await database.jobs(page: PageRequest()).items.first)
        clock.advance(by: .microseconds(job.nextAttemptAt.microsecondsSinceEpoch - clock.now().microsecondsSinceEpoch))
        #expect(try await engine.runDueJobs() == 1)
        #expect(try await database.job(id: job.id)?.status == .failed)
        #expect(try await database.integration(id: integrations[0].id)?.unreachable == nil)
    }

    /// Three days out of reach (a mistyped address, a platform gone): each failure counts as an attempt again, and
    /// the job ends dead, visible.
    @Test func anOutageLongerThanMaximumOutageDeadLettersTheJob() async throws {
        let (database, _) = try await setUp()
        let refused = ConnectorError.unreachable(code: "unreachable", message: "QuickBooks could not be reached")
        let connector = ScriptedConnector(failing: Array(repeating: refused, count: 500))
        try await deliver(database, "msg_1", [invoice("inv_1")])
        let engine = engine(database, connector)
        let started = clock.now()
        for _ in 0..<200 {
            try await engine.runDueJobs()
            if try await database.jobs(status: .dead, page: PageRequest()).items.count == 1 { break }
            clock.advance(by: .seconds(3600))
        }
        let job = try #require(try await database.jobs(page: PageRequest()).items.first)
        #expect(job.status == .dead && job.attempts == 3)
        #expect(clock.now().microsecondsSinceEpoch - started.microsecondsSinceEpoch >= 3 * 86_400 * 1_000_000)
        #expect(try await events(database, .syncFailed).count == 1)
    }

    /// A platform error that used an attempt (500): the three attempts at +0, about +30 s and about +2½ min, all
    /// within five minutes and none within seconds of the last.
    @Test func failedAttemptsAreSpacedOverMinutesWithinFive() async throws {
        let (database, _) = try await setUp()
        let failure = ConnectorError.retryable(
            code: "quickbooks_500", message: "QuickBooks answered 500", retryAfter: nil)
        let connector = ScriptedConnector(failing: [failure, failure])
        try await deliver(database, "msg_1", [invoice("inv_1")])
        let engine = engine(database, connector)
        let started = clock.now()
        var tries: [Int64] = []
        for _ in 0..<400 {
            let before = connector.pushes.count
            try await engine.runDueJobs()
            if connector.pushes.count > before { tries.append(clock.now().microsecondsSinceEpoch) }
            if tries.count == 3 { break }
            clock.advance(by: .seconds(1))
        }
        #expect(tries.count == 3)
        let seconds = tries.map { Double($0 - started.microsecondsSinceEpoch) / 1_000_000 }
        #expect(seconds[0] == 0)
        #expect(seconds[1] >= 22 && seconds[1] <= 31, "second attempt at +\(seconds[1]) s")
        #expect(seconds[2] - seconds[1] >= 90 && seconds[2] - seconds[1] <= 121, "third at +\(seconds[2]) s")
        #expect(seconds[2] <= 300)
        #expect(try await database.jobs(page: PageRequest()).items.first?.status == .succeeded)
    }

    @Test func retryWaitsStayWithinTheirBounds() {
        let strategy = RetryStrategy()
        var random = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            let second = strategy.delay(afterFailedAttempt: 1, retryAfter: nil, using: &random)
            let third = strategy.delay(afterFailedAttempt: 2, retryAfter: nil, using: &random)
            #expect(second >= .milliseconds(22_500) && second <= .seconds(30))
            #expect(third >= .seconds(90) && third <= .seconds(120))
            #expect(second + third < .seconds(300))
            #expect(strategy.delay(afterFailedAttempt: 1, retryAfter: .seconds(45), using: &random) >= .seconds(45))
            for deferral in 1...12 {
                let ceiling = min(Duration.seconds(3600), .seconds(30) * (1 << (deferral - 1)))
                let wait = strategy.delay(unreachable: deferral, using: &random)
                #expect(wait >= ceiling / 2 && wait <= ceiling)
            }
        }
    }

    /// A refused connection is unreachable (nothing was sent); a timeout or a broken exchange may have been acted
    /// on, and is uncertain.
    @Test func quickBooksTellsAConnectionNeverMadeFromAnUncertainExchange() async throws {
        let connector = QuickBooksOnlineConnector()
        func pulling(through failure: TransportError) async -> ConnectorError {
            do {
                _ = try await connector.pull(
                    recordType: .invoice, remoteID: "12", context: context(ScriptedTransport([.failure(failure)])))
                return .validation(code: "none", message: "nothing was thrown")
            } catch {
                return error as? ConnectorError ?? .validation(code: "other", message: "\(error)")
            }
        }
        guard case .unreachable("unreachable", _) = await pulling(through: .cannotConnect("connection refused")) else {
            Issue.record("a refused connection is not unreachable")
            return
        }
        for failure in [TransportError.timedOut, .failed("connection reset by peer")] {
            guard case .retryable("uncertain", _, _) = await pulling(through: failure) else {
                Issue.record("\(failure) is not uncertain")
                return
            }
        }
    }

    /// A customer's create timed out (QuickBooks may have made it): the outcome is uncertain, and the push looks no
    /// further (the engine's next attempt finds it first, `find`).
    @Test func anUncertainWriteIsLeftToTheNextAttemptsLookUp() async throws {
        let transport = ScriptedTransport([.failure(.timedOut)])
        do {
            _ = try await QuickBooksOnlineConnector().push(Self.customer(attempt: 1), context: context(transport))
            Issue.record("the push succeeded")
        } catch let error as ConnectorError {
            guard case .retryable("uncertain", _, _) = error else {
                Issue.record("thrown: \(error)")
                return
            }
        }
        #expect(transport.methods == ["POST"])
    }

    /// The next attempt's look-up finds QuickBooks gone: nothing was sent, so the platform is unreachable (the job
    /// waits without using an attempt) and the write stays uncertain for the attempt after.
    @Test func aLookUpThatCannotConnectIsUnreachable() async throws {
        let transport = ScriptedTransport([.failure(.cannotConnect("connection refused"))])
        do {
            _ = try await QuickBooksOnlineConnector().find(
                matching: [Self.customer(attempt: 2)], context: context(transport))
            Issue.record("the look-up succeeded")
        } catch let error as ConnectorError {
            guard case .unreachable = error else {
                Issue.record("thrown: \(error)")
                return
            }
        }
        #expect(transport.methods == ["GET"])
    }

    static func customer(attempt: Int) -> PushRequest {
        PushRequest(
            integrationID: "int_1", tenantID: "school", localID: "cus_1", version: 1, action: .create,
            record: .customer(
                Customer(id: .init("cus_1"), name: "Asha Rao", updatedAt: Timestamp(secondsSinceEpoch: 1_795_000_000))),
            remoteID: nil, idempotencyKey: "job_1", attempt: attempt, mappings: CodeMappings())
    }

    /// `HTTPClientTransport` to a port nobody listens on: the connection is refused before anything is sent.
    @Test func aRefusedConnectionIsCannotConnect() async throws {
        let closed = try ClosedPort()
        let transport = HTTPClientTransport(
            policy: DestinationPolicy(allowsInsecure: true, allowsPrivateNetworks: true))
        do {
            _ = try await transport.send(TransportRequest(method: "GET", url: URL(string: closed.url + "/v3")!))
            Issue.record("a closed port answered")
        } catch {
            guard case .cannotConnect = error else {
                Issue.record("thrown: \(error)")
                return
            }
        }
    }

    private func context(_ transport: any HTTPTransport) -> ConnectorContext {
        ConnectorContext(
            integrationID: "int_1", tenantID: tenant, settings: ["api_base_url": "https://books.test"],
            credentials: Connectors.FixedCredentials(accessToken: "token", remoteTenantID: "9341453474484455"),
            transport: transport, logger: quietLogger)
    }
}

/// Answers requests from a script, in order, and keeps their methods.
final class ScriptedTransport: HTTPTransport {
    private let state: Mutex<(answers: [Result<TransportResponse, TransportError>], methods: [String])>

    init(_ answers: [Result<TransportResponse, TransportError>]) {
        state = Mutex((answers, []))
    }

    var methods: [String] { state.withLock { $0.methods } }

    func send(_ request: TransportRequest) async throws(TransportError) -> TransportResponse {
        let answer = state.withLock { state -> Result<TransportResponse, TransportError> in
            state.methods.append(request.method)
            return state.answers.isEmpty ? .failure(.failed("no more answers")) : state.answers.removeFirst()
        }
        return try answer.get()
    }
}
