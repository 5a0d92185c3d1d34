import Accounting
public import Connectors
import Foundation
import Ingestion
public import Logging
public import Persistence
public import ServiceLifecycle

/// Sends Ledgerwire's events to webhook subscriptions, signed the Standard Webhooks way with each subscription's
/// secret: `webhook-id` is the event id (the same on every retry, so a receiver can drop a repeat),
/// `webhook-timestamp` the attempt's time, `webhook-signature` `v1,<base64 HMAC-SHA256("{id}.{timestamp}.{body}")>`.
///
/// A 2xx answer delivers the event; anything else, or no answer, is retried on `Policy.schedule` (over 27 hours by
/// default), every attempt recorded. A subscription with nothing delivered for `Policy.disableAfter` is disabled.
public struct EventDispatcher: Sendable {
    public struct Policy: Sendable {
        /// The wait before each retry; one attempt more than there are entries. The default is Standard Webhooks'
        /// own: immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h.
        public var schedule: [Duration]
        /// A subscription failing this long without one delivered event is disabled.
        public var disableAfter: Duration
        /// One attempt's limit, connection to answer.
        public var timeout: Duration
        /// Attempts in flight at once.
        public var concurrency: Int
        /// Attempts to one subscription in flight at once: a slow receiver holds no more slots than this.
        public var perSubscription: Int
        /// How long a claimed delivery is held before another dispatcher may send it.
        public var lease: Duration

        public init(
            schedule: [Duration] = [
                .seconds(5), .seconds(300), .seconds(1800), .seconds(7200), .seconds(18_000), .seconds(36_000),
                .seconds(36_000),
            ],
            disableAfter: Duration = .seconds(5 * 86_400),
            timeout: Duration = .seconds(15),
            concurrency: Int = 16,
            perSubscription: Int = 4,
            lease: Duration = .seconds(60)
        ) {
            self.schedule = schedule
            self.disableAfter = disableAfter
            self.timeout = timeout
            self.concurrency = concurrency
            self.perSubscription = perSubscription
            self.lease = lease
        }
    }

    private let database: AppDatabase
    private let box: SecretBox
    private let transport: any HTTPTransport
    private let policy: Policy
    private let clock: any SyncClock
    private let logger: Logger

    public init(
        database: AppDatabase,
        box: SecretBox,
        transport: any HTTPTransport,
        policy: Policy = Policy(),
        clock: any SyncClock = SystemSyncClock(),
        logger: Logger = Logger(label: "ledgerwire.events")
    ) {
        self.database = database
        self.box = box
        self.transport = transport
        self.policy = policy
        self.clock = clock
        self.logger = logger
    }

    /// Sends every delivery due now (up to the concurrency limit) and records each attempt.
    /// - Returns: how many attempts were made.
    @discardableResult
    public func deliverDue() async throws -> Int {
        let due = try await claim(limit: policy.concurrency)
        await withTaskGroup(of: Void.self) { group in
            for delivery in due {
                group.addTask { await self.deliver(delivery) }
            }
        }
        return due.count
    }

    /// Delivers for as long as the task runs: up to `Policy.concurrency` attempts in flight, a slot claimed again as
    /// soon as an attempt ends (or every `pollInterval` when nothing was due), so a receiver that answers slowly
    /// holds only its own slots (at most `Policy.perSubscription`), never the others' deliveries.
    ///
    /// On graceful shutdown it stops claiming and cancels the attempts in flight: each is made again once its lease
    /// expires (at least once, never lost), and no receiver can hold the shutdown up.
    public func run(pollInterval: Duration) async {
        enum Slot { case attempt, tick }
        await withTaskGroup(of: Slot.self) { group in
            var inFlight = 0
            var ticking = false
            var tick = true
            while !Task.isShuttingDownGracefully, !Task.isCancelled {
                let free = policy.concurrency - inFlight
                // Refilled once half the slots are free (one claim for several attempts), and on every tick.
                if free > 0, tick || free * 2 >= policy.concurrency,
                    let due = await logger.loopStep("event-deliveries", "claim", { try await claim(limit: free) })
                {
                    for delivery in due {
                        inFlight += 1
                        group.addTask {
                            await cancelWhenGracefulShutdown { await self.deliver(delivery) }
                            return .attempt
                        }
                    }
                }
                tick = false
                if !ticking {
                    ticking = true
                    group.addTask {
                        try? await cancelWhenGracefulShutdown { try await Task.sleep(for: pollInterval) }
                        return .tick
                    }
                }
                switch await group.next() {
                case .attempt: inFlight -= 1
                case .tick: (ticking, tick) = (false, true)
                case nil: return
                }
            }
        }
    }

    private func claim(limit: Int) async throws -> [PendingEventDelivery] {
        try await database.claimEventDeliveries(
            now: clock.now(), lease: policy.lease, limit: limit, perSubscription: policy.perSubscription, box: box)
    }

    private func deliver(_ delivery: PendingEventDelivery) async {
        let attemptedAt = clock.now()
        let started = ContinuousClock.now
        var responseStatus: Int?
        var failure: String?
        do {
            let response = try await transport.send(signedRequest(for: delivery, at: attemptedAt))
            responseStatus = response.status
            if !(200..<300).contains(response.status) { failure = "the receiver answered HTTP \(response.status)" }
        } catch {
            failure = Self.describe(error)
        }
        // Cut short by a shutdown: not the receiver's failure; it is sent again once the lease expires.
        if Task.isCancelled { return }
        let attempt = delivery.attempts + 1
        let nextAttemptAt: Timestamp? =
            failure == nil || attempt > policy.schedule.count
            ? nil
            : attemptedAt.adding(policy.schedule[attempt - 1])
        let result = AppDatabase.EventAttemptResult(
            attemptedAt: attemptedAt, duration: ContinuousClock.now - started, responseStatus: responseStatus,
            error: failure, nextAttemptAt: nextAttemptAt)
        do {
            let disableAfter = policy.disableAfter
            let disabled = try await database.recordEventAttempt(delivery, result: result) {
                SubscriptionDisabling.decide($0, disableAfter: disableAfter)
            }
            if let failure {
                logger.warning(
                    "event not delivered",
                    metadata: [
                        "event.id": "\(delivery.eventID)", "subscription.id": "\(delivery.subscriptionID)",
                        "attempt": "\(attempt)", "error": "\(failure)",
                        "next_attempt_at": "\(nextAttemptAt?.rfc3339 ?? "none: given up")",
                    ])
            }
            if disabled {
                logger.error(
                    "webhook subscription disabled: its receiver kept failing",
                    metadata: ["subscription.id": "\(delivery.subscriptionID)"])
            }
        } catch {
            // The lease runs out and the delivery is sent again: at least once, never lost.
            logger.error(
                "event attempt not recorded",
                metadata: ["event.id": "\(delivery.eventID)", "error": "\(String(describing: error))"])
        }
    }

    func signedRequest(for delivery: PendingEventDelivery, at now: Timestamp) throws -> TransportRequest {
        guard let url = URL(string: delivery.url) else { throw TransportError.destinationRefused("not a URL") }
        let body = Data(delivery.payload.utf8)
        let timestamp = now.microsecondsSinceEpoch / 1_000_000
        let key = try StandardWebhooks.keyBytes(fromSecret: delivery.secret)
        return TransportRequest(
            method: "POST",
            url: url,
            headers: [
                ("content-type", "application/json"),
                ("user-agent", "Ledgerwire"),
                ("webhook-id", delivery.eventID),
                ("webhook-timestamp", String(timestamp)),
                (
                    "webhook-signature",
                    StandardWebhooks.sign(id: delivery.eventID, timestamp: timestamp, body: body, key: key)
                ),
            ],
            body: body,
            timeout: policy.timeout
        )
    }

    private static func describe(_ error: any Error) -> String {
        switch error {
        case TransportError.cannotConnect(let reason): "could not connect: \(reason)"
        case TransportError.timedOut: "no answer in time"
        case TransportError.failed(let reason): "the exchange failed: \(reason)"
        case TransportError.destinationRefused(let reason): "the URL is not allowed: \(reason)"
        case TransportError.responseTooLarge(let limit): "the answer was longer than \(limit) bytes"
        default: String(describing: error)
        }
    }
}

/// Runs the dispatcher for as long as the server runs (`EventDispatcher.run(pollInterval:)`). On graceful shutdown it
/// stops claiming and cuts the attempts in flight short; each is made again once its lease expires.
public struct EventDeliveryService: Service {
    let dispatcher: EventDispatcher
    let pollInterval: Duration

    public init(dispatcher: EventDispatcher, pollInterval: Duration = .seconds(1)) {
        self.dispatcher = dispatcher
        self.pollInterval = pollInterval
    }

    public func run() async throws {
        await dispatcher.run(pollInterval: pollInterval)
    }
}
