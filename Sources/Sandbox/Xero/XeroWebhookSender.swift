import Accounting
import Crypto
public import Foundation
import Synchronization

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Xero's webhook deliveries, as Xero sends them (`xero-webhooks.yaml`, platforms.md §2.3): events of several
/// organisations batched into one body `{events, firstEventSequence, lastEventSequence, entropy}`, signed in
/// `x-xero-signature` (base64 HMAC-SHA256 of the raw body, keyed with the webhook key).
///
/// https://developer.xero.com/documentation/guides/webhooks/configuring-your-server : an answer counts when it is a
/// 200 with an empty body and no cookies within 5 s; otherwise the delivery is sent again "with decreasing frequency
/// for up to 24 hours" (`xeroRetryDelays`; tests scale it down with their clock). Before any delivery, the
/// subscription must pass intent-to-receive (`intentToReceive()`).
public struct XeroWebhookSender: Sendable {
    /// How one delivery went: each attempt's answer.
    public struct Report: Sendable {
        public var attempts: [Answer] = []
        /// The last attempt was answered as Xero requires.
        public var delivered: Bool {
            attempts.last.map { $0.status == 200 && $0.isClean && $0.elapsed <= budget } ?? false
        }
        let budget: Duration
    }

    /// What the receiver answered one request.
    public struct Answer: Sendable, Hashable {
        /// `nil`: no answer (refused, dropped, or no answer within the sender's patience).
        public var status: Int?
        public var elapsed: Duration
        /// How many bytes of body the answer had.
        public var bodyBytes: Int
        /// Whether it set a cookie.
        public var setsCookie: Bool

        /// No body and no cookie, as Xero requires of every answer.
        public var isClean: Bool { bodyBytes == 0 && !setsCookie }
    }

    /// How an intent-to-receive went: each request, signed correctly or not, and its answer.
    public struct Verification: Sendable {
        public struct Check: Sendable {
            public var correctlySigned: Bool
            public var answer: Answer
            /// What was wrong with the answer, in words; `nil` when it was right.
            public var problem: String?
        }

        public var checks: [Check]
        /// Every correctly signed request was answered 200 and every incorrectly signed one 401, with empty bodies and
        /// no cookies, each within 5 s: until then Xero keeps the subscription unverified.
        public var isVerified: Bool { !checks.isEmpty && checks.allSatisfy { $0.problem == nil } }
    }

    /// Where Ledgerwire takes Xero's webhooks (`…/webhooks/xero`).
    public var url: URL
    public var webhookKey: String
    /// The Accounting API base each event's `resourceUrl` is under (the emulator's own, in tests).
    public var apiBase: URL
    /// Events per delivery at most.
    public var batchSize: Int
    /// The waits between attempts; one attempt more than there are waits.
    public var retryDelays: [Duration]
    /// How long Xero waits for an answer.
    public var budget: Duration
    /// What times each attempt and waits between them (tests move one by hand).
    public var clock: any Clock<Duration>
    /// How long, in real time, one request waits for its answer before it counts as none: a second over the budget by
    /// default. Tests that judge answers on their own clock give loopback all the time a loaded machine needs.
    public var patience: Duration
    /// The order of intent-to-receive's requests: `true` signed with the webhook key, `false` with another.
    public var intentToReceivePattern: [Bool]
    private let sequence: SequenceCounter
    private let entropy: @Sendable () -> String

    /// Xero's schedule is not published beyond "decreasing frequency for up to 24 hours"; these waits grow and add
    /// up to just under 24 h.
    public static let xeroRetryDelays: [Duration] = [
        .seconds(60), .seconds(300), .seconds(900), .seconds(1800), .seconds(3600), .seconds(7200), .seconds(14_400),
        .seconds(28_800), .seconds(28_800),
    ]

    public init(
        url: URL, webhookKey: String, apiBase: URL = URL(string: "https://api.xero.com/api.xro/2.0")!,
        batchSize: Int = 100, retryDelays: [Duration] = xeroRetryDelays, budget: Duration = .seconds(5),
        clock: any Clock<Duration> = ContinuousClock(), patience: Duration? = nil,
        intentToReceivePattern: [Bool] = [true, false, true, false],
        firstSequence: Int = 1, entropy: @escaping @Sendable () -> String = XeroWebhookSender.randomEntropy
    ) {
        self.url = url
        self.webhookKey = webhookKey
        self.apiBase = apiBase
        self.batchSize = max(1, batchSize)
        self.retryDelays = retryDelays
        self.budget = budget
        self.clock = clock
        self.patience = patience ?? budget + .seconds(1)
        self.intentToReceivePattern = intentToReceivePattern
        self.sequence = SequenceCounter(next: max(1, firstSequence))
        self.entropy = entropy
    }

    /// Twenty random capital letters, as Xero's `entropy`.
    public static func randomEntropy() -> String {
        String((0..<20).map { _ in "ABCDEFGHIJKLMNOPQRSTUVWXYZ".randomElement() ?? "A" })
    }

    // MARK: Bodies

    /// A delivery's body: `events` in order, numbered from `firstSequence`.
    public static func body(
        _ events: [XeroWebhookEvent], firstSequence: Int, entropy: String,
        apiBase: URL = URL(string: "https://api.xero.com/api.xro/2.0")!
    ) -> [UInt8] {
        let base =
            apiBase.absoluteString.hasSuffix("/") ? String(apiBase.absoluteString.dropLast()) : apiBase.absoluteString
        let items: [JSONValue] = events.map { event in
            var item: [String: JSONValue] = [
                "resourceUrl": .string("\(base)/\(collection(event.category))/\(event.resourceID)"),
                "resourceId": .string(event.resourceID),
                "eventDateUtc": .string(eventDate(event.occurredAt)),
                "eventType": .string(event.eventType.rawValue),
                "eventCategory": .string(event.category.rawValue),
                "tenantId": .string(event.tenantID),
                "tenantType": "ORGANISATION",
            ]
            if let creditNote = event.creditNote {
                item["data"] = ["Type": .string(creditNote.type), "Status": .string(creditNote.status)]
            }
            return .object(item)
        }
        let body: JSONValue = [
            "events": .array(items),
            "firstEventSequence": .number(String(firstSequence)),
            "lastEventSequence": .number(String(firstSequence + max(events.count, 1) - 1)),
            "entropy": .string(entropy),
        ]
        return body.canonicalBytes
    }

    /// An intent-to-receive body: no events, sequences 0.
    public static func intentToReceiveBody(entropy: String) -> [UInt8] {
        let body: JSONValue = [
            "events": [], "firstEventSequence": 0, "lastEventSequence": 0, "entropy": .string(entropy),
        ]
        return body.canonicalBytes
    }

    /// The Accounting API collection a category's records are under.
    static func collection(_ category: XeroWebhookEvent.Category) -> String {
        switch category {
        case .contact: "Contacts"
        case .invoice: "Invoices"
        case .creditNote: "CreditNotes"
        }
    }

    /// `eventDateUtc`: UTC without a zone, to the millisecond (`2025-12-02T00:44:09.923`).
    static func eventDate(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd'T'HH:mm:ss.SSS"
        return formatter.string(from: date)
    }

    public static func signature(body: [UInt8], webhookKey: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Data(webhookKey.utf8)))
        return Data(mac).base64EncodedString()
    }

    // MARK: Sending

    /// Sends `events` in deliveries of up to `batchSize` (organisations mixed, as Xero batches them), numbered on
    /// from the last delivery, each again on the retry schedule until answered.
    public func deliver(_ events: [XeroWebhookEvent]) async -> [Report] {
        var reports: [Report] = []
        for start in stride(from: 0, to: events.count, by: batchSize) {
            let batch = Array(events[start..<min(start + batchSize, events.count)])
            let first = sequence.take(batch.count)
            reports.append(await send(Self.body(batch, firstSequence: first, entropy: entropy(), apiBase: apiBase)))
        }
        return reports
    }

    /// Sends one body, again on the retry schedule while it is not answered as Xero requires.
    public func send(_ body: [UInt8]) async -> Report {
        var report = Report(budget: budget)
        for wait in [Duration.zero] + retryDelays {
            if wait > .zero { try? await clock.sleep(for: wait) }
            report.attempts.append(await post(body, signature: Self.signature(body: body, webhookKey: webhookKey)))
            if report.delivered || Task.isCancelled { break }
        }
        return report
    }

    /// Xero's intent-to-receive: empty deliveries signed correctly and incorrectly (`intentToReceivePattern`), each
    /// judged on its own. Nothing is retried: a failed check leaves the subscription unverified.
    public func intentToReceive() async -> Verification {
        var checks: [Verification.Check] = []
        for correctlySigned in intentToReceivePattern {
            let body = Self.intentToReceiveBody(entropy: entropy())
            // An incorrect signature is a real HMAC under another key: only the key tells them apart.
            let key = correctlySigned ? webhookKey : "not-" + webhookKey
            let answer = await post(body, signature: Self.signature(body: body, webhookKey: key))
            checks.append(
                .init(correctlySigned: correctlySigned, answer: answer, problem: problem(answer, correctlySigned)))
        }
        return Verification(checks: checks)
    }

    private func problem(_ answer: Answer, _ correctlySigned: Bool) -> String? {
        let expected = correctlySigned ? 200 : 401
        guard let status = answer.status else { return "no answer" }
        if status != expected {
            return
                "answered \(status) to \(correctlySigned ? "a correctly" : "an incorrectly") signed payload, not \(expected)"
        }
        if answer.bodyBytes > 0 { return "answered with a body of \(answer.bodyBytes) bytes" }
        if answer.setsCookie { return "answered with a cookie" }
        if answer.elapsed > budget { return "answered after \(answer.elapsed), more than \(budget)" }
        return nil
    }

    private func post(_ body: [UInt8], signature: String) async -> Answer {
        var request = URLRequest(url: url)
        request.httpMethod = "POST"
        request.httpBody = Data(body)
        request.setValue("application/json; charset=utf-8", forHTTPHeaderField: "Content-Type")
        request.setValue(signature, forHTTPHeaderField: "x-xero-signature")
        request.timeoutInterval = patience / .seconds(1)
        request.httpShouldHandleCookies = false
        let (answer, elapsed) = await clock.measuring { try? await Self.session.data(for: request) }
        guard let (data, response) = answer, let http = response as? HTTPURLResponse else {
            return Answer(status: nil, elapsed: elapsed, bodyBytes: 0, setsCookie: false)
        }
        return Answer(
            status: http.statusCode, elapsed: elapsed, bodyBytes: data.count,
            setsCookie: http.value(forHTTPHeaderField: "Set-Cookie") != nil)
    }

    /// A session that neither keeps nor sends cookies: the receiver's are only looked at.
    private static let session: URLSession = {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.httpShouldSetCookies = false
        configuration.httpCookieAcceptPolicy = .never
        configuration.httpCookieStorage = nil
        return URLSession(configuration: configuration)
    }()
}

extension Clock where Duration == Swift.Duration {
    /// What `body` gave, and how long it took on this clock.
    fileprivate func measuring<Value>(_ body: () async -> Value) async -> (Value, Duration) {
        let start = now
        let value = await body()
        return (value, start.duration(to: now))
    }
}

/// The next `firstEventSequence`, shared by every copy of a sender: sequences increase across its deliveries.
private final class SequenceCounter: Sendable {
    private let next: Mutex<Int>

    init(next: Int) { self.next = Mutex(next) }

    /// The first of `count` sequence numbers, taken.
    func take(_ count: Int) -> Int {
        next.withLock { next in
            let first = next
            // Xero's sequences stop at Int32.max (the spec's maximum); the emulator wraps to 1 rather than trap.
            next = first + count > 2_147_483_647 ? 1 : first + count
            return first
        }
    }
}
