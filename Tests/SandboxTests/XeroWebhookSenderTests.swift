import Accounting
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Sandbox
import Synchronization
import Testing

/// The emulator's Xero webhook sender keeps Xero's rules (platforms.md §2.3): the payload of `xero-webhooks.yaml`,
/// signed; intent-to-receive verified only by 200 / 401 answers with empty bodies and no cookies within 5 s; an
/// unanswered delivery sent again on a schedule of up to 24 h. Its clock is the test's: an answer "takes" the time
/// the receiver says, and the waits between attempts pass at once.
@Suite struct XeroWebhookSenderTests {
    typealias TestClock = QuickBooksWebhookSenderTests.TestClock

    static let key = "xero-webhook-key-for-sender-tests"

    /// A receiver on loopback: checks the signature as Ledgerwire does, or answers as `script` says (then a clean
    /// 200 or 401), taking the time it says on `clock`, and keeps what it was sent.
    final class Receiver: Sendable {
        struct Answer: Sendable {
            var status: Int?
            var taking: Duration = .zero
            var body: String = ""
            var cookie: Bool = false
        }

        struct Delivery: Sendable {
            var signature: String?
            var body: [UInt8]
        }

        private let state: Mutex<(script: [Answer], received: [Delivery])>
        let clock: TestClock

        init(clock: TestClock, script: [Answer]) {
            self.clock = clock
            state = Mutex((script, []))
        }

        var received: [Delivery] { state.withLock { $0.received } }

        func run(_ body: @Sendable (URL) async throws -> Void) async throws {
            let router = Router()
            router.post("webhooks/xero") { request, _ -> Response in
                let bytes = Array(buffer: try await request.body.collect(upTo: 1 << 20))
                let signature = request.headers[HTTPField.Name("x-xero-signature")!]
                let scripted = self.state.withLock { state in
                    state.received.append(Delivery(signature: signature, body: bytes))
                    return state.script.isEmpty ? nil : state.script.removeFirst()
                }
                let valid =
                    signature.flatMap { Data(base64Encoded: $0) }.map {
                        HMAC<SHA256>.isValidAuthenticationCode(
                            $0, authenticating: bytes, using: SymmetricKey(data: Data(XeroWebhookSenderTests.key.utf8)))
                    } ?? false
                let answer = scripted ?? Answer(status: valid ? 200 : 401)
                self.clock.advance(by: answer.taking)
                var headers = HTTPFields()
                if answer.cookie { headers[.setCookie] = "session=abc; Path=/" }
                return Response(
                    status: .init(code: answer.status ?? 200), headers: headers,
                    body: .init(byteBuffer: ByteBuffer(string: answer.body)))
            }
            let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
            try await app.test(.live) { client in
                try await body(URL(string: "http://127.0.0.1:\(try #require(client.port))/webhooks/xero")!)
            }
        }
    }

    func sender(_ url: URL, clock: TestClock, batchSize: Int = 100) -> XeroWebhookSender {
        XeroWebhookSender(
            url: url, webhookKey: Self.key, apiBase: URL(string: "http://127.0.0.1:9/api.xro/2.0")!,
            batchSize: batchSize, clock: clock, patience: .seconds(120), entropy: { "ENTROPYENTROPYENTROPY" })
    }

    static let tenantA = "c2cc9b6e-9458-4c7d-93cc-f02b81b0594f"
    static let tenantB = "aef86862-2015-4b6b-88bc-d89032cecc50"

    static let events: [XeroWebhookEvent] = [
        .init(
            tenantID: tenantA, category: .contact, eventType: .create,
            resourceID: "717f2bfc-c6d4-41fd-b238-3f2f0c0cf777",
            occurredAt: Date(timeIntervalSince1970: 1_718_932_539.902)),
        .init(
            tenantID: tenantB, category: .creditNote, eventType: .update,
            resourceID: "55d84274-a3da-4829-a7c0-0cab601b95cc",
            occurredAt: Date(timeIntervalSince1970: 1_764_636_249.923),
            creditNote: (type: "ACCRECCREDIT", status: "AUTHORISED")),
        .init(
            tenantID: tenantA, category: .invoice, eventType: .update,
            resourceID: "9f1e2d3c-4b5a-4678-9abc-def012345678", occurredAt: Date(timeIntervalSince1970: 1_764_636_250)),
    ]

    /// The exact payload of `xero-webhooks.yaml`: every key, `eventDateUtc` without a zone to the millisecond,
    /// `resourceUrl` under the API base, `data` for credit notes only, several organisations in one body.
    @Test func aBatchIsXerosExactPayloadSigned() async throws {
        let clock = TestClock()
        let receiver = Receiver(clock: clock, script: [])
        let reports = Mutex<[XeroWebhookSender.Report]>([])
        try await receiver.run { url in
            let sent = await sender(url, clock: clock).deliver(Self.events)
            reports.withLock { $0 = sent }
        }
        #expect(reports.withLock { $0.map(\.delivered) } == [true])
        let delivery = try #require(receiver.received.first)
        #expect(
            delivery.signature
                == XeroWebhookSender.signature(body: delivery.body, webhookKey: Self.key))
        let body = try JSONValue(parsing: delivery.body)
        #expect(body["firstEventSequence"] == 1 && body["lastEventSequence"] == 3)
        #expect(body["entropy"] == "ENTROPYENTROPYENTROPY")
        let events = try #require(body["events"]?.arrayValue)
        #expect(
            events[0]
                == [
                    "resourceUrl": "http://127.0.0.1:9/api.xro/2.0/Contacts/717f2bfc-c6d4-41fd-b238-3f2f0c0cf777",
                    "resourceId": "717f2bfc-c6d4-41fd-b238-3f2f0c0cf777", "eventDateUtc": "2024-06-21T01:15:39.902",
                    "eventType": "CREATE", "eventCategory": "CONTACT", "tenantId": .string(Self.tenantA),
                    "tenantType": "ORGANISATION",
                ])
        #expect(events[1]["data"] == ["Type": "ACCRECCREDIT", "Status": "AUTHORISED"])
        #expect(events[1]["eventDateUtc"] == "2025-12-02T00:44:09.923")
        #expect(
            events[1]["resourceUrl"]?.stringValue?.hasSuffix("/CreditNotes/55d84274-a3da-4829-a7c0-0cab601b95cc")
                == true)
        #expect(events[2]["data"] == nil && events[2]["tenantId"] == .string(Self.tenantA))
        #expect(events[2]["eventDateUtc"] == "2025-12-02T00:44:10.000")
    }

    /// Sequences go on across deliveries and batches.
    @Test func sequencesIncreaseAcrossDeliveries() async throws {
        let clock = TestClock()
        let receiver = Receiver(clock: clock, script: [])
        try await receiver.run { url in
            let sender = sender(url, clock: clock, batchSize: 2)
            _ = await sender.deliver(Self.events)
            _ = await sender.deliver([Self.events[0]])
        }
        let sequences = try receiver.received.map { delivery in
            let body = try JSONValue(parsing: delivery.body)
            return [body["firstEventSequence"]?.intValue ?? 0, body["lastEventSequence"]?.intValue ?? 0]
        }
        #expect(sequences == [[1, 2], [3, 3], [4, 4]])
    }

    /// A late answer, an error, a body on the 200 or a cookie does not count: sent again on the schedule.
    @Test func anAnswerXeroWouldRefuseIsSentAgainOnTheSchedule() async throws {
        let clock = TestClock()
        let receiver = Receiver(
            clock: clock,
            script: [
                .init(status: 200, taking: .milliseconds(5001)), .init(status: 500), .init(status: 200, body: "{}"),
                .init(status: 200, cookie: true), .init(status: 200, taking: .seconds(4)),
            ])
        let report = Mutex<XeroWebhookSender.Report?>(nil)
        let started = clock.now
        try await receiver.run { url in
            let sent = await sender(url, clock: clock).send(
                XeroWebhookSender.body(Self.events, firstSequence: 1, entropy: "E"))
            report.withLock { $0 = sent }
        }
        let sent = try #require(report.withLock { $0 })
        #expect(sent.delivered)
        #expect(sent.attempts.map(\.status) == [200, 500, 200, 200, 200])
        let waited = started.duration(to: clock.now) - sent.attempts.map(\.elapsed).reduce(.zero, +)
        #expect(waited == XeroWebhookSender.xeroRetryDelays.prefix(4).reduce(.zero, +))
    }

    @Test func aDeliveryNeverAnsweredIsGivenUpAfterAboutADay() async throws {
        let clock = TestClock()
        let receiver = Receiver(clock: clock, script: Array(repeating: .init(status: 503), count: 30))
        let report = Mutex<XeroWebhookSender.Report?>(nil)
        try await receiver.run { url in
            let sent = await sender(url, clock: clock).send(
                XeroWebhookSender.body(Self.events, firstSequence: 1, entropy: "E"))
            report.withLock { $0 = sent }
        }
        let sent = try #require(report.withLock { $0 })
        #expect(!sent.delivered && sent.attempts.count == XeroWebhookSender.xeroRetryDelays.count + 1)
        let total = XeroWebhookSender.xeroRetryDelays.reduce(.zero, +)
        #expect(total <= .seconds(86_400) && total > .seconds(80_000))
    }

    @Test func intentToReceiveIsVerifiedByCleanTwoHundredsAndFourOhOnes() async throws {
        let clock = TestClock()
        let receiver = Receiver(clock: clock, script: [])
        let verification = Mutex<XeroWebhookSender.Verification?>(nil)
        try await receiver.run { url in
            let result = await sender(url, clock: clock).intentToReceive()
            verification.withLock { $0 = result }
        }
        let result = try #require(verification.withLock { $0 })
        #expect(result.isVerified, "\(result.checks.map(\.problem))")
        #expect(result.checks.map(\.correctlySigned) == [true, false, true, false])
        #expect(result.checks.map(\.answer.status) == [200, 401, 200, 401])
        for delivery in receiver.received {
            #expect(try JSONValue(parsing: delivery.body)["events"] == [])
            #expect(try JSONValue(parsing: delivery.body)["firstEventSequence"] == 0)
        }
    }

    /// Each way a receiver fails intent-to-receive leaves the subscription unverified, and says why.
    @Test(arguments: [
        ([Receiver.Answer(status: 200, body: #"{"ok":true}"#)], "answered with a body of 11 bytes"),
        (
            [Receiver.Answer(status: 200), Receiver.Answer(status: 200)],
            "answered 200 to an incorrectly signed payload, not 401"
        ),
        (
            [Receiver.Answer(status: 200, taking: .milliseconds(5001))],
            "answered after 5.001 seconds, more than 5.0 seconds"
        ),
        ([Receiver.Answer(status: 200), Receiver.Answer(status: 401, cookie: true)], "answered with a cookie"),
        ([Receiver.Answer(status: 401)], "answered 401 to a correctly signed payload, not 200"),
    ])
    func aWrongAnswerLeavesTheSubscriptionUnverified(script: [Receiver.Answer], problem: String) async throws {
        let clock = TestClock()
        let receiver = Receiver(clock: clock, script: script)
        let verification = Mutex<XeroWebhookSender.Verification?>(nil)
        try await receiver.run { url in
            let result = await sender(url, clock: clock).intentToReceive()
            verification.withLock { $0 = result }
        }
        let result = try #require(verification.withLock { $0 })
        #expect(!result.isVerified)
        #expect(result.checks.compactMap(\.problem) == [problem])
    }
}
