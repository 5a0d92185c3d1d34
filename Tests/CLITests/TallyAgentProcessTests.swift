import Accounting
import Connectors
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Synchronization
import TestSupport
import Testing

/// `ledgerwire tally-agent`, the real executable: its help, and one request relayed from a stand-in for Ledgerwire's
/// agent routes to a stand-in for Tally and the answer posted back, then SIGINT.
@Suite struct TallyAgentProcessTests {
    static let token = "lwa_" + String(repeating: "k", count: 43)
    /// "विद्या" in UTF-16LE, as Tally sends it.
    static let answer = Data([0x35, 0x09, 0x3F, 0x09, 0x26, 0x09, 0x4D, 0x09, 0x2F, 0x09, 0x3E, 0x09])
    static let question = Data("<ENVELOPE><HEADER><VERSION>1</VERSION></HEADER></ENVELOPE>".utf8)

    /// Ledgerwire's agent routes, played: one request handed out, its reply kept.
    final class Relay: Sendable {
        let handedOut = Atomic<Bool>(false)
        let replies = Mutex<[JSONValue]>([])
        let authorizations = Mutex<Set<String>>([])

        var router: Router<BasicRequestContext> {
            let router = Router()
            router.get("/agent/v1/requests") { request, _ -> Response in
                self.authorizations.withLock { _ = $0.insert(request.headers[.authorization] ?? "") }
                if !self.handedOut.exchange(true, ordering: .relaxed) {
                    let request = AgentRequest(
                        id: "agr_1", method: "POST", path: "/",
                        headers: [("Content-Type", "text/xml;charset=utf-8")], body: TallyAgentProcessTests.question,
                        timeout: .seconds(10))
                    return Response(
                        status: .ok, headers: [.contentType: "application/json"],
                        body: .init(byteBuffer: ByteBuffer(bytes: request.json.canonicalBytes)))
                }
                // A short long-poll.
                try? await Task.sleep(for: .milliseconds(100))
                return Response(status: .noContent)
            }
            router.post("/agent/v1/requests/{id}/reply") { request, context -> Response in
                let body = try await request.body.collect(upTo: 1 << 20)
                var reply = try JSONValue(parsing: body.readableBytesView).objectValue ?? [:]
                reply["request_id"] = .string(try context.parameters.require("id"))
                self.replies.withLock { $0.append(.object(reply)) }
                return Response(status: .noContent)
            }
            return router
        }
    }

    @Test func helpNamesTheOptions() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (status, output) = try await ServerProcess.run(["tally-agent", "--help"], in: directory.url)
        #expect(status == 0)
        for option in ["--server", "--token", "--tally", "LEDGERWIRE_AGENT_TOKEN"] {
            #expect(output.contains(option), "\(option) in \(output)")
        }
    }

    @Test func anAgentTokenIssuedByTheServerConnectsTheAgent() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let server = try await ServerProcess(database: directory.database, directory: directory.url)
        defer { server.signal(SIGTERM) }
        let admin = ["authorization": "Bearer \(ServerProcess.adminToken)", "content-type": "application/json"]
        let created = try #require(
            await server.call(
                "POST", "/api/v1/integrations", headers: admin,
                body: Array(
                    #"{"tenant_id":"vidya","platform":"tally","name":"Tally","settings":{"connection":"agent"}}"#.utf8))
        )
        let id = try #require(try JSONValue(parsing: Array(created.1))["id"]?.stringValue, "\(created)")
        let issued = try #require(await server.call("POST", "/api/v1/integrations/\(id)/agent-token", headers: admin))
        #expect(issued.0 == 201)
        let token = try #require(try JSONValue(parsing: Array(issued.1))["token"]?.stringValue)
        let output = directory.url.appendingPathComponent("agent.txt")
        let errors = directory.url.appendingPathComponent("agent.err.txt")
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errors.path, contents: nil)
        let agent = try ServerProcess.launch(
            ["tally-agent", "--server", server.baseURL, "--wait", "1", "--tally", "http://127.0.0.1:9"],
            stdout: output, stderr: errors, environment: ["LEDGERWIRE_AGENT_TOKEN": token])
        func log() -> String { (try? String(contentsOf: errors, encoding: .utf8)) ?? "" }
        let deadline = ContinuousClock.now + .seconds(30)
        while !log().contains("agent.connected"), agent.isRunning, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(log().contains("agent.connected"), "\(log())")
        // The server going away is one line, however many attempts follow.
        server.signal(SIGTERM)
        _ = try await server.waitForExit()
        let gone = ContinuousClock.now + .seconds(30)
        while !log().contains("agent.server_unreachable"), agent.isRunning, ContinuousClock.now < gone {
            try await Task.sleep(for: .milliseconds(20))
        }
        agent.interrupt()
        #expect(try await ServerProcess.waitForExit(agent, within: .seconds(30)) == 0)
        #expect(log().components(separatedBy: "agent.server_unreachable").count == 2, "\(log())")
        #expect(!log().contains(token))
    }

    @Test func aRequestIsRelayedToTallyAndItsAnswerPostedBack() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let received = Mutex<[Data]>([])
        let tallyRouter = Router()
        tallyRouter.post("/") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 1 << 20)
            received.withLock { $0.append(Data(body.readableBytesView)) }
            return Response(
                status: .ok, headers: [.contentType: "text/xml;charset=utf-16"],
                body: .init(byteBuffer: ByteBuffer(bytes: TallyAgentProcessTests.answer)))
        }
        let relay = Relay()
        let local = ApplicationConfiguration(address: .hostname("127.0.0.1", port: 0))
        try await Application(router: tallyRouter, configuration: local).test(.live) { tally in
            try await Application(router: relay.router, configuration: local).test(.live) { ledgerwire in
                let output = directory.url.appendingPathComponent("agent.txt")
                let errors = directory.url.appendingPathComponent("agent.err.txt")
                _ = FileManager.default.createFile(atPath: output.path, contents: nil)
                _ = FileManager.default.createFile(atPath: errors.path, contents: nil)
                let agent = try ServerProcess.launch(
                    [
                        "tally-agent", "--server", "http://127.0.0.1:\(ledgerwire.port!)", "--token", Self.token,
                        "--tally", "http://127.0.0.1:\(tally.port!)",
                    ], stdout: output, stderr: errors)
                let deadline = ContinuousClock.now + .seconds(60)
                while relay.replies.withLock({ $0.isEmpty }), agent.isRunning, ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(20))
                }
                agent.interrupt()
                let status = try await ServerProcess.waitForExit(agent, within: .seconds(30))
                let log =
                    ((try? String(contentsOf: output, encoding: .utf8)) ?? "")
                    + ((try? String(contentsOf: errors, encoding: .utf8)) ?? "")
                #expect(status == 0, "\(log)")
                #expect(log.contains("ledgerwire tally-agent relaying"))
                #expect(!log.contains(Self.token))
                #expect(received.withLock { $0 } == [Self.question])
                let reply = try #require(relay.replies.withLock { $0.first }, "\(log)")
                #expect(reply["request_id"] == "agr_1")
                #expect(reply["status"] == .number("200"))
                #expect(reply["body_base64"]?.stringValue == Self.answer.base64EncodedString())
                #expect(reply["headers"]?["content-type"] == "text/xml;charset=utf-16")
                #expect(relay.authorizations.withLock { $0 } == ["Bearer \(Self.token)"])
            }
        }
    }
}
