import Accounting
import Connectors
import Foundation
import Ingestion
import Logging
import Persistence
import ServiceLifecycle
import SyncEngine
import TestSupport
import Testing

/// One webhook subscription's receiver is a tarpit: the others' events, and a graceful shutdown, do not wait for it.
@Suite struct OutboundIsolationTests: SyncScenario {
    let clock = ManualClock()
    let tenant = "school"

    static let loopback = DestinationPolicy(allowsInsecure: true, allowsPrivateNetworks: true)

    /// A subscription whose receiver drips its answer holds its own deliveries only: another subscription's events
    /// keep arriving while it hangs.
    @Test(.timeLimit(.minutes(1))) func aTarpitSubscriptionDoesNotHoldUpAnotherSubscriptionsEvents() async throws {
        let (database, _) = try await setUp(mapped: false)
        let tarpit = try Tarpit(.drip(interval: .milliseconds(500)))
        defer { tarpit.stop() }
        let receiver = Receiver()
        try await receiver.run { base in
            for url in [tarpit.url + "/hooks", base + "/hooks"] {
                _ = try await database.createWebhookSubscription(
                    tenantID: nil, url: url, eventTypes: ["sync.needs_mapping"], description: nil,
                    secret: StandardWebhooks.generateSecret(), box: box, actor: "test", at: clock.now())
            }
            var logger = Logger(label: "test.events")
            logger.logLevel = .critical
            let dispatcher = EventDispatcher(
                database: database, box: box, transport: HTTPClientTransport(policy: Self.loopback),
                policy: .init(timeout: .seconds(50)), clock: clock, logger: logger)
            try await deliver(database, "msg_1", [invoice("inv_1")])
            try await engine(database, ScriptedConnector()).runDueJobs()
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    try await EventDeliveryService(dispatcher: dispatcher, pollInterval: .milliseconds(50)).run()
                }
                try await eventually { tarpit.connections >= 1 && receiver.received(at: "hooks").count >= 1 }
                try await deliver(database, "msg_2", [invoice("inv_2")])
                try await engine(database, ScriptedConnector()).runDueJobs()
                try await eventually(within: .seconds(10)) { receiver.received(at: "hooks").count >= 2 }
                group.cancelAll()
            }
        }
    }

    /// Under a ServiceGroup, a graceful shutdown ends event delivery at once even while a receiver hangs.
    @Test(.timeLimit(.minutes(1))) func aGracefulShutdownIsNotHeldUpByATarpitReceiver() async throws {
        let (database, _) = try await setUp(mapped: false)
        let tarpit = try Tarpit(.drip(interval: .milliseconds(500)))
        defer { tarpit.stop() }
        _ = try await database.createWebhookSubscription(
            tenantID: nil, url: tarpit.url + "/hooks", eventTypes: ["sync.needs_mapping"], description: nil,
            secret: StandardWebhooks.generateSecret(), box: box, actor: "test", at: clock.now())
        try await deliver(database, "msg_1", [invoice("inv_1")])
        try await engine(database, ScriptedConnector()).runDueJobs()
        var logger = Logger(label: "test.events")
        logger.logLevel = .critical
        let service = EventDeliveryService(
            dispatcher: EventDispatcher(
                database: database, box: box, transport: HTTPClientTransport(policy: Self.loopback),
                policy: .init(timeout: .seconds(50)), clock: clock, logger: logger),
            pollInterval: .milliseconds(50))
        let group = ServiceGroup(services: [service], logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            try await eventually { tarpit.connections >= 1 }
            let started = ContinuousClock.now
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            // Well short of the 50 s the delivery would hang for; loose enough for a loaded machine.
            #expect(ContinuousClock.now - started < .seconds(20))
        }
    }
}

/// Waits until `condition` holds, checking every 20 ms, or fails after `limit`.
func eventually(
    within limit: Duration = .seconds(20), _ condition: @Sendable () async throws -> Bool,
    sourceLocation: SourceLocation = #_sourceLocation
) async throws {
    let deadline = ContinuousClock.now + limit
    while try await !condition() {
        guard ContinuousClock.now < deadline else {
            Issue.record("the condition did not hold within \(limit)", sourceLocation: sourceLocation)
            throw CancellationError()
        }
        try await Task.sleep(for: .milliseconds(20))
    }
}
