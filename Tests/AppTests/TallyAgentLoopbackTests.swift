import Accounting
import App
import Connectors
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Synchronization
import TestSupport
import Testing

/// The agent's loop (`RelayAgent`, what `ledgerwire tally-agent` runs) against a live Ledgerwire and a stand-in for
/// Tally, both on 127.0.0.1 over real HTTP: the connector's request to `agent://<integration id>/` reaches Tally only
/// through the agent.
@Suite struct TallyAgentLoopbackTests {
    static let answer = AgentRelayTests.utf16(
        "<ENVELOPE><HEADER><VERSION>1</VERSION><STATUS>1</STATUS></HEADER><BODY><DATA><COLLECTION>"
            + "<COMPANY NAME=\"विद्या स्कूल\"><NAME>विद्या स्कूल</NAME></COMPANY></COLLECTION></DATA></BODY></ENVELOPE>")

    /// A stand-in for Tally: answers every `POST /` with `answer` in UTF-16, and keeps what it was sent.
    final class StandIn: Sendable {
        let received = Mutex<[(contentType: String?, body: Data)]>([])

        var application: some ApplicationProtocol {
            let router = Router()
            router.post("/") { request, _ -> Response in
                let body = try await request.body.collect(upTo: 1 << 20)
                self.received.withLock {
                    $0.append((request.headers[.contentType], Data(body.readableBytesView)))
                }
                return Response(
                    status: .ok, headers: [.contentType: "text/xml;charset=utf-16"],
                    body: .init(byteBuffer: ByteBuffer(bytes: TallyAgentLoopbackTests.answer)))
            }
            return Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        }
    }

    /// Runs `body` with a live Ledgerwire (its Tally integration's id and agent token) and the agent's loop
    /// relaying to `tally`, connected.
    static func withAgent(
        tally: String, onStateChange: @escaping @Sendable (RelayAgent.State) -> Void = { _ in },
        body: @escaping @Sendable (TestApp, String) async throws -> Void
    ) async throws {
        let app = try TestApp()
        try await app.application.test(.live) { live in
            let client = Client(client: live)
            let id = try await AgentRoutesTests.tallyIntegration(client)
            let token = try await AgentRoutesTests.agentToken(client, id)
            let port = try #require(live.port)
            let agent = RelayAgent(
                configuration: .init(
                    server: URL(string: "http://127.0.0.1:\(port)")!, token: token, books: URL(string: tally)!,
                    wait: .seconds(2)),
                server: HTTPClientTransport(policy: TestApp.loopback),
                books: HTTPClientTransport(policy: TestApp.loopback), logger: Logger(label: "test.agent"),
                onStateChange: onStateChange)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await agent.run() }
                while await !app.components.agentRelay.isConnected(integrationID: id) {
                    try await Task.sleep(for: .milliseconds(10))
                }
                try await body(app, id)
                group.cancelAll()
            }
        }
    }

    static func tallyRequest(_ integrationID: String) -> TransportRequest {
        TransportRequest(
            method: "POST", url: AgentRoutingTransport.url(integrationID: integrationID)!,
            headers: [("Content-Type", "text/xml;charset=utf-16")],
            body: AgentRelayTests.utf16("<ENVELOPE><HEADER><TALLYREQUEST>Export</TALLYREQUEST></HEADER></ENVELOPE>"),
            timeout: .seconds(20))
    }

    @Test func theConnectorsRequestReachesTallyThroughTheAgentAndBack() async throws {
        let tally = StandIn()
        try await tally.application.test(.live) { tallyLive in
            let tallyURL = "http://127.0.0.1:\(try #require(tallyLive.port))"
            try await Self.withAgent(tally: tallyURL) { app, id in
                // The process's transport, as connectors and the engine have it.
                let response = try await app.components.transport.send(Self.tallyRequest(id))
                #expect(response.status == 200)
                #expect(response.body == Self.answer)
                #expect(response.header("content-type") == "text/xml;charset=utf-16")
                let received = tally.received.withLock { $0 }
                #expect(received.count == 1)
                #expect(received.first?.contentType == "text/xml;charset=utf-16")
                #expect(received.first?.body == Self.tallyRequest(id).body)
                // One after another, as the connector sends them.
                for _ in 0..<3 { _ = try await app.components.transport.send(Self.tallyRequest(id)) }
                #expect(tally.received.withLock { $0.count } == 4)
            }
        }
    }

    @Test func tallyRefusingTheAgentIsCannotConnectNamingTallysAddress() async throws {
        let closed = try ClosedPort()
        let states = Mutex<[RelayAgent.State]>([])
        try await Self.withAgent(tally: closed.url, onStateChange: { state in states.withLock { $0.append(state) } }) {
            app, id in
            do throws(TransportError) {
                _ = try await app.components.transport.send(Self.tallyRequest(id))
                Issue.record("Tally answered")
            } catch {
                guard case .cannotConnect(let reason) = error else {
                    Issue.record("expected cannotConnect, got \(error)")
                    return
                }
                #expect(reason.contains(closed.url))
            }
            // The agent says so once its reply is posted.
            let deadline = ContinuousClock.now + .seconds(10)
            while ContinuousClock.now < deadline,
                !states.withLock({ $0.contains { if case .booksUnreachable = $0 { true } else { false } } })
            {
                try await Task.sleep(for: .milliseconds(5))
            }
            #expect(
                states.withLock { $0 }.contains {
                    if case .booksUnreachable = $0 { true } else { false }
                })
        }
    }

    @Test func aStoppingServerAnswersItsPollsAtOnce() async throws {
        let app = try TestApp()
        let poll = Mutex<Task<TransportResponse, any Error>?>(nil)
        let started = Mutex<ContinuousClock.Instant?>(nil)
        try await app.application.test(.live) { live in
            let client = Client(client: live)
            let id = try await AgentRoutesTests.tallyIntegration(client)
            let token = try await AgentRoutesTests.agentToken(client, id)
            let url = URL(string: "http://127.0.0.1:\(try #require(live.port))/agent/v1/requests?wait=30")!
            // Unstructured: the poll outlives this closure, whose end stops the server.
            poll.withLock {
                $0 = Task {
                    try await HTTPClientTransport(policy: TestApp.loopback).send(
                        TransportRequest(
                            method: "GET", url: url, headers: [("Authorization", "Bearer \(token)")],
                            timeout: .seconds(60)))
                }
            }
            while await !app.components.agentRelay.isConnected(integrationID: id) {
                try await Task.sleep(for: .milliseconds(10))
            }
            started.withLock { $0 = .now }
        }
        // The server has stopped: the poll had its answer, long before its 30 s.
        let answer = try await #require(poll.withLock { $0 }).value
        let elapsed = ContinuousClock.now - (try #require(started.withLock { $0 }))
        #expect(elapsed < .seconds(20))
        #expect(answer.status == 204)
    }

    @Test func withoutTheAgentTheRequestFailsAtOnceAsCannotConnect() async throws {
        let app = try TestApp()
        try await app.test { client in
            let id = try await AgentRoutesTests.tallyIntegration(client)
            do throws(TransportError) {
                _ = try await app.components.transport.send(Self.tallyRequest(id))
                Issue.record("answered without an agent")
            } catch {
                #expect(error == .cannotConnect("the Tally agent of integration \(id) is not connected"))
            }
        }
    }
}

/// The agent's loop while Ledgerwire is down: it keeps trying, with a capped backoff, and says so once.
@Suite struct RelayAgentBackoffTests {
    /// Refuses connections until `up`, then answers every poll 204.
    final class Server: HTTPTransport {
        let up = Atomic<Bool>(false)
        let attempts = Atomic<Int>(0)

        func send(_ request: TransportRequest) async throws(TransportError) -> TransportResponse {
            let attempt = attempts.add(1, ordering: .relaxed).newValue
            // Each attempt's reason worded apart, as curl words it ("after 0 ms", "after 3 ms").
            guard up.load(ordering: .relaxed) else { throw .cannotConnect("Couldn't connect after \(attempt) ms") }
            try? await Task.sleep(for: .milliseconds(5))
            return TransportResponse(status: 204, headers: [:], body: Data())
        }
    }

    @Test func ledgerwireDownIsRetriedAndLoggedOncePerChange() async throws {
        let server = Server()
        let states = Mutex<[RelayAgent.State]>([])
        let agent = RelayAgent(
            configuration: .init(
                server: URL(string: "https://ledgerwire.example.org")!, token: "lwa_x",
                books: URL(string: "http://127.0.0.1:9")!, firstBackoff: .milliseconds(1),
                maximumBackoff: .milliseconds(4)),
            server: server, books: AgentRelayTests.Unused(), logger: Logger(label: "test.agent"),
            onStateChange: { state in states.withLock { $0.append(state) } })
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await agent.run() }
            while server.attempts.load(ordering: .relaxed) < 10 { try? await Task.sleep(for: .milliseconds(2)) }
            server.up.store(true, ordering: .relaxed)
            while states.withLock({ $0.count }) < 2 { try? await Task.sleep(for: .milliseconds(2)) }
            group.cancelAll()
        }
        // One line for the outage, however its reason is worded from attempt to attempt, and one for its end.
        #expect(states.withLock { $0 } == [.serverUnreachable("Couldn't connect after 1 ms"), .connected])
    }
}
