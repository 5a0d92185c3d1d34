import Connectors
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

@testable import Sandbox

/// The emulator on a real loopback socket: one request at a time, "Tally not running", a slow Tally, lost answers.
@Suite struct TallyServerTests {
    typealias H = TallyHarness

    /// Runs `body` with a sandbox listening on 127.0.0.1 (a free port), then stops it.
    static func live(
        _ sandbox: TallySandbox = TallySandbox(), _ body: @Sendable (TallySandbox, Int) async throws -> Void
    ) async throws {
        await sandbox.addCompany(H.company)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await sandbox.run(port: 0) }
            let port = await sandbox.port()
            do {
                try await body(sandbox, port)
            } catch {
                group.cancelAll()
                throw error
            }
            group.cancelAll()
        }
    }

    /// One `POST /` on a connection of its own: the answer's text, or the error the connection gave.
    static func post(_ xml: String, port: Int, encoding: TallyEncoding = .utf8) async -> Result<String, any Error> {
        do {
            let answer = try await TestClient.withClient(host: "127.0.0.1", port: port) { client in
                try await client.post(
                    "/", headers: [.contentType: encoding.contentType], body: ByteBuffer(bytes: encoding.encode(xml)))
            }
            return .success(encoding.decode(Data((answer.body ?? ByteBuffer()).readableBytesView)) ?? "")
        } catch {
            return .failure(error)
        }
    }

    @Test func requestsAreAnsweredOneAtATimeAndOverlapsAreCounted() async throws {
        try await Self.live { sandbox, port in
            let list = H.collection("Ledger", formulae: [], company: H.company)
            for _ in 0..<3 { _ = try await Self.post(list, port: port).get() }
            let calm = (await sandbox.overlappingRequests, await sandbox.mostInFlight)
            #expect(calm == (0, 1))
            await sandbox.setResponseDelay(.milliseconds(300))
            let started = ContinuousClock.now
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<2 { group.addTask { _ = try await Self.post(list, port: port).get() } }
                try await group.waitForAll()
            }
            // The second waited for the first: two slow answers in a row, not side by side.
            #expect(ContinuousClock.now - started >= .milliseconds(600))
            let busy = (await sandbox.overlappingRequests, await sandbox.mostInFlight)
            #expect(busy == (1, 2))
            #expect(await sandbox.requestCount == 5)
        }
    }

    @Test func aPacedTallyHoldsAnImportBackForEachObjectAndCountsOnlyItsOwnProcessorTime() async throws {
        try await Self.live { sandbox, port in
            await sandbox.setImportPace(.milliseconds(150))
            let ledgers = ["Tuition Fees", "Transport Fees", "Library Fees"].map {
                H.ledger($0, parent: "Sales Accounts")
            }
            let cpuBefore = await sandbox.answeringCPU
            let started = ContinuousClock.now
            let answer = try await Self.post(H.importEnvelope(ledgers, legacy: false, company: H.company), port: port)
                .get()
            let took = ContinuousClock.now - started
            #expect(answer.contains("<CREATED>3</CREATED>"), "\(answer)")
            #expect(took >= .milliseconds(450), "three objects at 150 ms each: \(took)")
            // The pace is a sleep (a Tally on a PC of its own): the emulator's processor time stays its own work.
            let cpu = await sandbox.answeringCPU - cpuBefore
            #expect(cpu > .zero && cpu < .milliseconds(450), "the sleep is not processor time: \(cpu)")
        }
    }

    @Test func aStoppedTallyRefusesConnectionsAndComesBackOnTheSamePortWithTheSameBooks() async throws {
        try await Self.live { sandbox, port in
            let create = H.importEnvelope(
                [H.ledger("Tuition Fees", parent: "Sales Accounts")], legacy: true, company: H.company)
            #expect(try await Self.post(create, port: port).get().contains("<CREATED>1</CREATED>"))
            await sandbox.stopListening()
            let refused = await Self.post(create, port: port)
            guard case .failure = refused else {
                Issue.record("a stopped Tally answered: \(refused)")
                return
            }
            await sandbox.startListening()
            #expect(await sandbox.port() == port)
            let again = try await Self.post(create, port: port).get()
            #expect(again.contains("Ledger 'Tuition Fees' already exists!"), "the books were kept: \(again)")
        }
    }

    @Test func aLostAnswerStillAppliesTheImport() async throws {
        try await Self.live { sandbox, port in
            await sandbox.dropAnswers(ofNextImports: 1)
            let create = H.importEnvelope(
                [H.ledger("Tuition Fees", parent: "Sales Accounts")], legacy: false, company: H.company)
            let lost = await Self.post(create, port: port)
            if case .success(let text) = lost {
                #expect(!text.contains("</ENVELOPE>"), "the answer was whole: \(text)")
            }
            #expect(await sandbox.ledgers(company: H.company).contains { $0.name == "Tuition Fees" })
            let dropped = (await sandbox.answersDropped, await sandbox.droppedAnswers)
            #expect(dropped == (1, 0))
            let next = try await Self.post(create, port: port).get()
            #expect(next.contains("already exists"), "only the next import loses its answer")
        }
    }

    @Test func theServerSaysItIsRunning() async throws {
        try await Self.live(TallySandbox(version: .erp9)) { _, port in
            let answer = try await TestClient.withClient(host: "127.0.0.1", port: port) { client in
                try await client.get("/")
            }
            #expect(String(buffer: answer.body ?? ByteBuffer()) == "<RESPONSE>Tally.ERP 9 Server is Running</RESPONSE>")
        }
    }
}
