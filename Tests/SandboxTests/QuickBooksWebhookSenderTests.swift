import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Sandbox
import Synchronization
import Testing

/// The emulator's webhook sender keeps Intuit's rules (platforms.md §1.3): an answer counts only if it is a 200 within
/// 3 s; anything else is sent again, 10 s later, then 20 s, 30 s, 5 min and on, and then given up. Its clock is the
/// test's: an answer "takes" the time the receiver says, and the waits between attempts pass at once. The real
/// loopback call may take as long as a loaded machine makes it: only the test's clock judges an answer.
@Suite struct QuickBooksWebhookSenderTests {
    /// A clock moved by hand; sleeping moves it on by the sleep.
    final class TestClock: Clock {
        struct Instant: InstantProtocol {
            var offset: Duration
            func advanced(by duration: Duration) -> Instant { Instant(offset: offset + duration) }
            func duration(to other: Instant) -> Duration { other.offset - offset }
            static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.offset < rhs.offset }
        }

        private let current = Mutex(Duration.zero)
        var now: Instant { Instant(offset: current.withLock { $0 }) }
        var minimumResolution: Duration { .zero }

        func advance(by duration: Duration) { current.withLock { $0 += duration } }

        func sleep(until deadline: Instant, tolerance: Duration?) async throws {
            current.withLock { $0 = max($0, deadline.offset) }
        }
    }

    /// Ledgerwire's side on loopback: answers each delivery as `script` says (then 200), taking the time it says on
    /// `clock`, and keeps what it was sent.
    final class Receiver: Sendable {
        struct Delivery: Sendable {
            var signature: String?
            var body: [UInt8]
        }

        private let state: Mutex<(script: [(status: Int, taking: Duration)], received: [Delivery])>
        let clock: TestClock

        init(clock: TestClock, script: [(status: Int, taking: Duration)]) {
            self.clock = clock
            state = Mutex((script, []))
        }

        var received: [Delivery] { state.withLock { $0.received } }

        func run(_ body: @Sendable (URL) async throws -> Void) async throws {
            let router = Router()
            router.post("webhooks/quickbooks") { request, _ -> Response in
                let bytes = try await request.body.collect(upTo: 1 << 20)
                let answer = self.state.withLock { state in
                    state.received.append(
                        Delivery(
                            signature: request.headers[HTTPField.Name("intuit-signature")!], body: Array(buffer: bytes))
                    )
                    return state.script.isEmpty ? (status: 200, taking: .zero) : state.script.removeFirst()
                }
                self.clock.advance(by: answer.taking)
                return Response(status: .init(code: answer.status))
            }
            let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
            try await app.test(.live) { client in
                try await body(URL(string: "http://127.0.0.1:\(try #require(client.port))/webhooks/quickbooks")!)
            }
        }
    }

    let body = QuickBooksWebhookSender.body(
        realmID: "9341453474484455",
        [
            .init(
                entity: "Invoice", id: "130", operation: "Void", lastUpdated: Date(timeIntervalSince1970: 1_795_000_000)
            )
        ],
        format: .legacy)

    func sending(script: [(status: Int, taking: Duration)]) async throws -> (
        QuickBooksWebhookSender.Report, [Receiver.Delivery], waited: Duration
    ) {
        let clock = TestClock()
        let receiver = Receiver(clock: clock, script: script)
        let report = Mutex<QuickBooksWebhookSender.Report?>(nil)
        try await receiver.run { url in
            let sender = QuickBooksWebhookSender(
                url: url, verifierToken: "verifier", clock: clock, patience: .seconds(120))
            let sent = await sender.send(body)
            report.withLock { $0 = sent }
        }
        let sent = try #require(report.withLock { $0 })
        return (sent, receiver.received, clock.now.offset - sent.attempts.map(\.elapsed).reduce(.zero, +))
    }

    @Test func aTwoHundredWithinThreeSecondsIsDeliveredAtTheFirstAttempt() async throws {
        let (report, received, waited) = try await sending(script: [(200, .seconds(3))])
        #expect(report.delivered)
        #expect(report.attempts.map(\.status) == [200] && report.attempts.map(\.elapsed) == [.seconds(3)])
        #expect(waited == .zero)
        #expect(received.count == 1 && received[0].body == body)
        #expect(received[0].signature == QuickBooksWebhookSender.signature(body: body, verifierToken: "verifier"))
    }

    /// A 200 that took longer than Intuit waits is not an answer, nor is an error: sent again on Intuit's schedule.
    @Test func aLateAnswerOrAnErrorIsSentAgainOnIntuitsSchedule() async throws {
        let (report, received, waited) = try await sending(script: [
            (200, .milliseconds(3001)), (500, .zero), (200, .seconds(1)),
        ])
        #expect(report.delivered)
        #expect(report.attempts.map(\.status) == [200, 500, 200])
        #expect(report.attempts.map(\.elapsed) == [.milliseconds(3001), .zero, .seconds(1)])
        #expect(waited == .seconds(10) + .seconds(20))
        #expect(received.count == 3 && received.allSatisfy { $0.body == body })
    }

    /// Never answered in time: every retry Intuit makes (the last after about 12 hours), then it gives up.
    @Test func aDeliveryNeverAnsweredInTimeIsGivenUpAfterTheLastRetry() async throws {
        let script = Array(repeating: (status: 503, taking: Duration.zero), count: 20)
        let (report, received, waited) = try await sending(script: script)
        #expect(!report.delivered)
        #expect(report.attempts.count == QuickBooksWebhookSender.intuitRetryDelays.count + 1)
        #expect(received.count == report.attempts.count)
        #expect(waited == QuickBooksWebhookSender.intuitRetryDelays.reduce(.zero, +))
    }
}
