import Accounting
import Connectors
import Foundation
import Synchronization
import Testing

/// The relay between connectors and integrations' agents (`AgentRelay`, `AgentRoutingTransport`), without HTTP.
@Suite struct AgentRelayTests {
    /// A base transport that must not be used: requests to `agent://` go through the relay.
    struct Unused: HTTPTransport {
        func send(_ request: TransportRequest) async throws(TransportError) -> TransportResponse {
            throw .failed("the base transport was used for \(request.url)")
        }
    }

    static let tallyXML = "text/xml;charset=utf-16"

    /// UTF-16LE without a BOM, as Tally takes and gives it.
    static func utf16(_ text: String) -> Data {
        var data = Data()
        for unit in text.utf16 { data.append(contentsOf: [UInt8(unit & 0xFF), UInt8(unit >> 8)]) }
        return data
    }

    static func request(_ integrationID: String, body: Data = Data(), timeout: Duration = .seconds(10))
        -> TransportRequest
    {
        TransportRequest(
            method: "POST", url: AgentRoutingTransport.url(integrationID: integrationID)!,
            headers: [("Content-Type", tallyXML)], body: body, timeout: timeout)
    }

    /// Sends through `transport` while `agent` plays the agent; the send's outcome.
    static func exchange(
        _ request: TransportRequest, through transport: AgentRoutingTransport,
        agent: @escaping @Sendable () async throws -> Void
    ) async throws -> Result<TransportResponse, TransportError> {
        try await withThrowingTaskGroup(of: Result<TransportResponse, TransportError>?.self) { group in
            group.addTask {
                do throws(TransportError) { return .success(try await transport.send(request)) } catch {
                    return .failure(error)
                }
            }
            group.addTask {
                try await agent()
                return nil
            }
            var outcome: Result<TransportResponse, TransportError>?
            while let next = try await group.next() { outcome = outcome ?? next }
            return try #require(outcome)
        }
    }

    @Test func aRequestReachesTheAgentAndItsReplyComesBackByteForByte() async throws {
        let relay = AgentRelay()
        let transport = AgentRoutingTransport(base: Unused(), relay: relay)
        let question = Self.utf16("<ENVELOPE><HEADER><VERSION>1</VERSION></HEADER>विद्या</ENVELOPE>")
        let answer = Self.utf16("<ENVELOPE><HEADER><STATUS>1</STATUS></HEADER><NAME>विद्या स्कूल</NAME></ENVELOPE>")
        _ = await relay.next(integrationID: "int_a", wait: .zero)  // the agent is connected
        let outcome = try await Self.exchange(Self.request("int_a", body: question), through: transport) {
            let taken = try #require(await relay.next(integrationID: "int_a", wait: .seconds(10)))
            #expect(taken.method == "POST")
            #expect(taken.path == "/")
            #expect(taken.body == question)
            #expect(taken.headers.map(\.name) == ["Content-Type"])
            #expect(taken.headers.map(\.value) == [Self.tallyXML])
            // Through its JSON, as it travels.
            let wire = try #require(AgentRequest(json: try JSONValue(parsing: taken.json.canonicalBytes)))
            #expect(wire.body == question)
            let reply = try AgentReply.parse(
                try JSONValue(
                    parsing: AgentReply.response(
                        TransportResponse(status: 200, headers: ["Content-Type": Self.tallyXML], body: answer)
                    ).json.canonicalBytes)
            ).get()
            #expect(await relay.reply(integrationID: "int_a", requestID: taken.id, reply))
        }
        let response = try outcome.get()
        #expect(response.status == 200)
        #expect(response.body == answer)
        #expect(response.header("content-type") == Self.tallyXML)
    }

    @Test func withoutAnAgentSendingFailsAtOnceAsCannotConnect() async throws {
        let relay = AgentRelay()
        let transport = AgentRoutingTransport(base: Unused(), relay: relay)
        let started = ContinuousClock.now
        await #expect(throws: TransportError.cannotConnect("the Tally agent of integration int_a is not connected")) {
            _ = try await transport.send(Self.request("int_a", timeout: .seconds(30)))
        }
        #expect(ContinuousClock.now - started < .seconds(5))
        #expect(await relay.waitingCount(integrationID: "int_a") == 0)
    }

    @Test func anAgentSilentForOverAMinuteIsNotConnected() async throws {
        let offset = Mutex<Duration>(.zero)
        let relay = AgentRelay(now: { ContinuousClock.now + offset.withLock { $0 } })
        _ = await relay.next(integrationID: "int_a", wait: .zero)
        offset.withLock { $0 = .seconds(59) }
        #expect(await relay.isConnected(integrationID: "int_a"))
        offset.withLock { $0 = .seconds(61) }
        #expect(await !relay.isConnected(integrationID: "int_a"))
        await #expect(throws: TransportError.cannotConnect("the Tally agent of integration int_a is not connected")) {
            _ = try await relay.send(Self.request("int_a"), integrationID: "int_a")
        }
    }

    @Test func anAgentThatTookTheRequestAndWentSilentIsATimeout() async throws {
        let relay = AgentRelay()
        let transport = AgentRoutingTransport(base: Unused(), relay: relay)
        _ = await relay.next(integrationID: "int_a", wait: .zero)
        let taken = Mutex<String?>(nil)
        let outcome = try await Self.exchange(Self.request("int_a", timeout: .milliseconds(300)), through: transport) {
            let request = await relay.next(integrationID: "int_a", wait: .seconds(10))
            taken.withLock { $0 = request?.id }
        }
        #expect(taken.withLock { $0 } != nil)
        #expect(throws: TransportError.timedOut) { try outcome.get() }
        // A reply after the deadline finds nothing waiting.
        let id = try #require(taken.withLock { $0 })
        #expect(
            await !relay.reply(
                integrationID: "int_a", requestID: id,
                .response(TransportResponse(status: 200, headers: [:], body: Data()))))
    }

    @Test func aRequestNoAgentTookInTimeWasNeverSent() async throws {
        let relay = AgentRelay()
        _ = await relay.next(integrationID: "int_a", wait: .zero)
        do throws(TransportError) {
            _ = try await relay.send(Self.request("int_a", timeout: .milliseconds(100)), integrationID: "int_a")
        } catch {
            guard case .cannotConnect(let reason) = error else {
                Issue.record("expected cannotConnect, got \(error)")
                return
            }
            #expect(reason.contains("did not take the request"))
            return
        }
        Issue.record("the request was answered")
        #expect(await relay.waitingCount(integrationID: "int_a") == 0)
    }

    @Test func tallyRefusingTheAgentIsCannotConnectNamingItsAddress() async throws {
        let relay = AgentRelay()
        let transport = AgentRoutingTransport(base: Unused(), relay: relay)
        _ = await relay.next(integrationID: "int_a", wait: .zero)
        let outcome = try await Self.exchange(Self.request("int_a"), through: transport) {
            let taken = try #require(await relay.next(integrationID: "int_a", wait: .seconds(10)))
            let reply = AgentReply.failure(
                code: "cannot_connect", message: "Tally at http://192.168.1.20:9000 refused the connection")
            #expect(await relay.reply(integrationID: "int_a", requestID: taken.id, reply))
        }
        guard case .failure(.cannotConnect(let reason)) = outcome else {
            Issue.record("expected cannotConnect, got \(outcome)")
            return
        }
        #expect(reason.contains("http://192.168.1.20:9000"))
    }

    @Test func oneIntegrationsAgentNeverSeesOrAnswersAnothersRequests() async throws {
        let relay = AgentRelay()
        let transport = AgentRoutingTransport(base: Unused(), relay: relay)
        _ = await relay.next(integrationID: "int_a", wait: .zero)
        _ = await relay.next(integrationID: "int_b", wait: .zero)
        let outcome = try await Self.exchange(Self.request("int_a", body: Data("a".utf8)), through: transport) {
            #expect(await relay.next(integrationID: "int_b", wait: .milliseconds(50)) == nil)
            let taken = try #require(await relay.next(integrationID: "int_a", wait: .seconds(10)))
            let forged = AgentReply.response(TransportResponse(status: 200, headers: [:], body: Data("b".utf8)))
            #expect(await !relay.reply(integrationID: "int_b", requestID: taken.id, forged))
            let real = AgentReply.response(TransportResponse(status: 200, headers: [:], body: Data("a".utf8)))
            #expect(await relay.reply(integrationID: "int_a", requestID: taken.id, real))
        }
        #expect(try outcome.get().body == Data("a".utf8))
    }

    @Test func requestsAreHandedOutInOrderAndTheQueueIsBounded() async throws {
        let relay = AgentRelay(maximumWaiting: 2)
        _ = await relay.next(integrationID: "int_a", wait: .zero)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<2 {
                group.addTask {
                    _ = try? await relay.send(
                        Self.request("int_a", body: Data("\(index)".utf8), timeout: .seconds(10)),
                        integrationID: "int_a")
                }
                // The first is queued before the second.
                while await relay.waitingCount(integrationID: "int_a") < index + 1 { await Task.yield() }
            }
            await #expect(throws: TransportError.overLimit(window: nil, retryAfter: .seconds(5))) {
                _ = try await relay.send(Self.request("int_a"), integrationID: "int_a")
            }
            for expected in ["0", "1"] {
                let taken = try #require(await relay.next(integrationID: "int_a", wait: .seconds(1)))
                #expect(taken.body == Data(expected.utf8))
                _ = await relay.reply(
                    integrationID: "int_a", requestID: taken.id,
                    .response(TransportResponse(status: 200, headers: [:], body: Data())))
            }
            try await group.waitForAll()
        }
    }

    @Test func otherURLsGoToTheBaseTransport() async throws {
        let transport = AgentRoutingTransport(base: Unused(), relay: AgentRelay())
        await #expect(throws: TransportError.failed("the base transport was used for http://127.0.0.1:9000/")) {
            _ = try await transport.send(TransportRequest(method: "POST", url: URL(string: "http://127.0.0.1:9000/")!))
        }
    }
}
