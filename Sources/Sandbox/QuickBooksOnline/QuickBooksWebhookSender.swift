import Accounting
import Crypto
public import Foundation

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// QuickBooks Online's webhook notifications, as Intuit sends them (platforms.md §1.3): the legacy
/// `eventNotifications` object or an array of CloudEvents, signed in `intuit-signature` (base64 HMAC-SHA256 of the
/// raw body, keyed with the app's verifier token), several entities per delivery. A delivery not answered 200
/// within 3 s is sent again on Intuit's schedule (10 s, 20 s, 30 s, 5 min, …; tests scale it down).
public struct QuickBooksWebhookSender: Sendable {
    public enum Format: String, Sendable, CaseIterable {
        case legacy
        case cloudEvents = "cloudevents"
    }

    /// One entity changed in one company.
    public struct Notification: Sendable, Hashable {
        public var entity: String
        public var id: String
        /// `Create`, `Update`, `Delete`, `Void`, `Merge`, `Emailed`.
        public var operation: String
        public var lastUpdated: Date

        public init(entity: String, id: String, operation: String, lastUpdated: Date) {
            self.entity = entity
            self.id = id
            self.operation = operation
            self.lastUpdated = lastUpdated
        }
    }

    /// How one delivery went: each attempt's status (`nil`: no answer) and how long it took.
    public struct Report: Sendable {
        public struct Attempt: Sendable {
            public var status: Int?
            public var elapsed: Duration
        }

        public var attempts: [Attempt] = []
        /// Answered 200 within the budget.
        public var delivered: Bool { attempts.last.map { $0.status == 200 && $0.elapsed <= budget } ?? false }
        let budget: Duration
    }

    public var url: URL
    public var verifierToken: String
    public var format: Format
    /// The waits between attempts; one attempt more than there are waits.
    public var retryDelays: [Duration]
    /// How long Intuit waits for the 200.
    public var budget: Duration
    /// What times each attempt and waits between them (tests move one by hand).
    public var clock: any Clock<Duration>
    /// How long, in real time, one attempt waits for its answer before it counts as none. A second over the budget by
    /// default: a later answer would not count anyway. Tests that judge answers on their own clock give the loopback
    /// call all the time a loaded machine needs.
    public var patience: Duration

    public static let intuitRetryDelays: [Duration] = [
        .seconds(10), .seconds(20), .seconds(30), .seconds(300), .seconds(1200), .seconds(7200), .seconds(14_400),
        .seconds(21_600),
    ]

    public init(
        url: URL, verifierToken: String, format: Format = .legacy, retryDelays: [Duration] = intuitRetryDelays,
        budget: Duration = .seconds(3), clock: any Clock<Duration> = ContinuousClock(), patience: Duration? = nil
    ) {
        self.url = url
        self.verifierToken = verifierToken
        self.format = format
        self.retryDelays = retryDelays
        self.budget = budget
        self.clock = clock
        self.patience = patience ?? budget + .seconds(1)
    }

    /// A notification's body: one realm's entities (legacy), or one CloudEvent each.
    public static func body(realmID: String, _ notifications: [Notification], format: Format) -> [UInt8] {
        switch format {
        case .legacy:
            let entities: [JSONValue] = notifications.map {
                [
                    "name": .string($0.entity), "id": .string($0.id), "operation": .string($0.operation),
                    "lastUpdated": .string(time($0.lastUpdated, fractional: true)),
                ]
            }
            let body: JSONValue = [
                "eventNotifications": [
                    ["realmId": .string(realmID), "dataChangeEvent": ["entities": .array(entities)]]
                ]
            ]
            return body.canonicalBytes
        case .cloudEvents:
            let events: [JSONValue] = notifications.map {
                [
                    "specversion": "1.0", "id": .string(UUID().uuidString.lowercased()),
                    "source": "intuit.ledgerwire-sandbox", "type": .string(eventType($0)),
                    "datacontenttype": "application/json", "time": .string(time($0.lastUpdated, fractional: true)),
                    "intuitentityid": .string($0.id), "intuitaccountid": .string(realmID), "data": [:],
                ]
            }
            return JSONValue.array(events).canonicalBytes
        }
    }

    /// `qbo.<entity>.<operation, past tense>.v1`.
    static func eventType(_ notification: Notification) -> String {
        let past =
            switch notification.operation {
            case "Create": "created"
            case "Update": "updated"
            case "Delete": "deleted"
            case "Void": "voided"
            case "Merge": "merged"
            case "Emailed": "emailed"
            default: notification.operation.lowercased()
            }
        return "qbo.\(notification.entity.lowercased()).\(past).v1"
    }

    public static func signature(body: [UInt8], verifierToken: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Data(verifierToken.utf8)))
        return Data(mac).base64EncodedString()
    }

    /// Sends one body, again on the retry schedule while it is not answered 200 within the budget.
    public func send(_ body: [UInt8]) async -> Report {
        var report = Report(budget: budget)
        var request = URLRequest(url: url)
        request.httpMethod = "POST"
        request.httpBody = Data(body)
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.setValue(
            Self.signature(body: body, verifierToken: verifierToken), forHTTPHeaderField: "intuit-signature")
        request.timeoutInterval = patience / .seconds(1)
        for wait in [Duration.zero] + retryDelays {
            if wait > .zero { try? await clock.sleep(for: wait) }
            let (status, elapsed) = await clock.timing {
                try? await (URLSession.shared.data(for: request).1 as? HTTPURLResponse)?.statusCode
            }
            report.attempts.append(.init(status: status, elapsed: elapsed))
            if report.delivered || Task.isCancelled { break }
        }
        return report
    }

    static func time(_ date: Date, fractional: Bool) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions =
            fractional ? [.withInternetDateTime, .withFractionalSeconds] : [.withInternetDateTime]
        return formatter.string(from: date)
    }
}

extension Clock where Duration == Swift.Duration {
    /// What `body` answered, and how long it took on this clock.
    fileprivate func timing(_ body: () async -> Int?) async -> (Int?, Duration) {
        let start = now
        let status = await body()
        return (status, start.duration(to: now))
    }
}

extension QuickBooksOnlineSandbox {
    /// The order notifications go out in.
    public enum DeliveryOrder: Sendable {
        case asHappened
        /// Newest first: out of order.
        case reversed
    }

    /// Sends the notifications of every change since the last call, one delivery per realm (up to 100 entities
    /// each), in `order`, each delivery twice when `duplicate`.
    @discardableResult
    public func deliverWebhooks(
        with sender: QuickBooksWebhookSender, order: DeliveryOrder = .asHappened, duplicate: Bool = false
    ) async -> [QuickBooksWebhookSender.Report] {
        var reports: [QuickBooksWebhookSender.Report] = []
        for (realm, notifications) in takeNotifications().sorted(by: { $0.key < $1.key }) {
            let ordered = order == .reversed ? Array(notifications.reversed()) : notifications
            for start in stride(from: 0, to: ordered.count, by: 100) {
                let body = QuickBooksWebhookSender.body(
                    realmID: realm, Array(ordered[start..<min(start + 100, ordered.count)]), format: sender.format)
                for _ in 0..<(duplicate ? 2 : 1) { reports.append(await sender.send(body)) }
            }
        }
        return reports
    }
}
