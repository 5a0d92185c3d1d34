import Accounting
import Connectors
import Foundation
import Hummingbird
import HummingbirdTesting
import Ingestion
import Logging
import Persistence
import SyncEngine
import Synchronization
import TestSupport
import Testing

/// A webhook receiver on loopback that keeps what it is sent and answers with the status it is told.
final class Receiver: Sendable {
    struct Received: Sendable {
        var path: String
        var headers: [String: String]
        var body: [UInt8]
    }

    private let state = Mutex<(statuses: [String: HTTPResponse.Status], received: [Received])>(([:], []))

    func answer(_ path: String, with status: HTTPResponse.Status) {
        state.withLock { $0.statuses[path] = status }
    }

    var received: [Received] { state.withLock { $0.received } }

    func received(at path: String) -> [Received] { received.filter { $0.path == path } }

    var application: some ApplicationProtocol {
        let router = Router()
        router.post("{path}") { request, context in
            let path = try context.parameters.require("path")
            let body = try await request.body.collect(upTo: 1 << 20)
            var headers: [String: String] = [:]
            for field in request.headers { headers[field.name.canonicalName] = field.value }
            return self.state.withLock { state in
                state.received.append(Received(path: path, headers: headers, body: Array(buffer: body)))
                return Response(status: state.statuses[path] ?? .ok)
            }
        }
        var logger = Logger(label: "test.receiver")
        logger.logLevel = .critical
        return Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)), logger: logger)
    }

    /// Runs the receiver for `body`, giving it the receiver's base URL.
    func run(_ body: @Sendable (String) async throws -> Void) async throws {
        try await application.test(.live) { client in
            try await body("http://127.0.0.1:\(try #require(client.port))")
        }
    }
}

@Suite struct EventDispatcherTests: SyncScenario {
    let clock = ManualClock()
    let tenant = "school"

    func dispatcher(_ database: AppDatabase) -> EventDispatcher {
        var logger = Logger(label: "test.events")
        logger.logLevel = .critical
        return EventDispatcher(
            database: database, box: box,
            transport: HTTPClientTransport(
                policy: DestinationPolicy(allowsInsecure: true, allowsPrivateNetworks: true)), clock: clock,
            logger: logger)
    }

    @Test func aNeedsMappingEventIsSignedAndReachesAReceiverThatWasDownForAWhile() async throws {
        let (database, _) = try await setUp(mapped: false)
        let receiver = Receiver()
        try await receiver.run { base in
            let secret = StandardWebhooks.generateSecret()
            let subscription = try await database.createWebhookSubscription(
                tenantID: nil, url: base + "/hooks", eventTypes: ["sync.needs_mapping"], description: nil,
                secret: secret, box: box, actor: "test", at: clock.now())
            try await deliver(database, "msg_1", [invoice("inv_1")])
            try await engine(database, ScriptedConnector()).runDueJobs()
            let dispatcher = dispatcher(database)

            receiver.answer("hooks", with: .serviceUnavailable)
            #expect(try await dispatcher.deliverDue() == 1)
            clock.advance(by: .seconds(4))
            #expect(try await dispatcher.deliverDue() == 0, "the first retry waits 5 s")
            clock.advance(by: .seconds(1))
            #expect(try await dispatcher.deliverDue() == 1)
            receiver.answer("hooks", with: .noContent)
            clock.advance(by: .seconds(299))
            #expect(try await dispatcher.deliverDue() == 0, "the second retry waits 5 minutes")
            clock.advance(by: .seconds(1))
            #expect(try await dispatcher.deliverDue() == 1)
            let deliveredAt = clock.now().microsecondsSinceEpoch / 1_000_000
            clock.advance(by: .seconds(86_400))
            #expect(try await dispatcher.deliverDue() == 0, "a delivered event is not sent again")

            let sent = receiver.received(at: "hooks")
            #expect(sent.count == 3)
            #expect(Set(sent.map { $0.headers["webhook-id"] }).count == 1, "every retry carries the event's id")
            let last = try #require(sent.last)
            try StandardWebhooks.verify(
                id: try #require(last.headers["webhook-id"]),
                timestamp: try #require(last.headers["webhook-timestamp"]),
                signatureHeader: try #require(last.headers["webhook-signature"]), body: last.body,
                keys: [try StandardWebhooks.keyBytes(fromSecret: secret)],
                now: deliveredAt)
            #expect(throws: IngestionError.invalidSignature) {
                try StandardWebhooks.verify(
                    id: last.headers["webhook-id"] ?? "", timestamp: last.headers["webhook-timestamp"] ?? "",
                    signatureHeader: last.headers["webhook-signature"] ?? "", body: last.body + Array(" ".utf8),
                    keys: [try StandardWebhooks.keyBytes(fromSecret: secret)],
                    now: deliveredAt)
            }
            let event = try JSONValue(parsing: last.body)
            #expect(event["type"] == "sync.needs_mapping")
            #expect(event["id"]?.stringValue == last.headers["webhook-id"])
            #expect(event["data"]?["local_id"] == "inv_1" && event["data"]?["record_type"] == "invoice")
            #expect(event["data"]?["error"]?["code"] == "unmapped")
            #expect(
                event["data"]?["error"]?["message"]
                    == "billing's revenue account 4000-TUITION and tax code GST18 are not mapped")
            #expect(
                event["data"]?["error"]?["missing"]
                    == [["kind": "account", "code": "4000-TUITION"], ["kind": "tax_code", "code": "GST18"]])

            let attempts = try await database.webhookSubscriptionAttempts(
                subscriptionID: subscription.id, page: PageRequest()
            ).items
            #expect(attempts.map(\.attempt) == [1, 2, 3])
            #expect(attempts.map(\.responseStatus) == [503, 503, 204])
            #expect(attempts.map(\.delivered) == [false, false, true])
            #expect(attempts[0].error == "the receiver answered HTTP 503")
        }
    }

    @Test func anEventIsRetriedForMoreThanADayThenGivenUp() async throws {
        let (database, integrations) = try await setUp()
        let receiver = Receiver()
        try await receiver.run { base in
            let subscription = try await database.createWebhookSubscription(
                tenantID: tenant, url: base + "/down", eventTypes: ["*"], description: nil,
                secret: StandardWebhooks.generateSecret(), box: box, actor: "test", at: clock.now())
            receiver.answer("down", with: .internalServerError)
            let first = clock.now()
            try await database.setIntegrationStatus(
                id: integrations[0].id, to: .disconnected, actor: "test", reason: "refresh token refused",
                at: clock.now())
            let dispatcher = dispatcher(database)
            for _ in 0..<(30 * 6) {
                try await dispatcher.deliverDue()
                clock.advance(by: .seconds(600))
            }
            let attempts = try await database.webhookSubscriptionAttempts(
                subscriptionID: subscription.id, page: PageRequest()
            ).items
            #expect(attempts.count == 8)
            #expect(attempts.allSatisfy { $0.eventType == "integration.disconnected" && !$0.delivered })
            let span = try #require(attempts.last).attemptedAt.microsecondsSinceEpoch - first.microsecondsSinceEpoch
            #expect(span >= 24 * 3_600_000_000, "retried for at least 24 hours")
            let event = try JSONValue(parsing: try #require(receiver.received(at: "down").first).body)
            #expect(event["data"]?["reason"] == "refresh token refused")
            #expect(event["tenant_id"] == .string(tenant))
        }
    }

    @Test func aSubscriptionFailingForDaysIsDisabledAndThatIsReported() async throws {
        let (database, integrations) = try await setUp()
        let receiver = Receiver()
        try await receiver.run { base in
            let failing = try await database.createWebhookSubscription(
                tenantID: nil, url: base + "/down", eventTypes: ["integration.disconnected"], description: nil,
                secret: StandardWebhooks.generateSecret(), box: box, actor: "test", at: clock.now())
            _ = try await database.createWebhookSubscription(
                tenantID: nil, url: base + "/ops", eventTypes: ["subscription.disabled"], description: nil,
                secret: StandardWebhooks.generateSecret(), box: box, actor: "test", at: clock.now())
            receiver.answer("down", with: .badGateway)
            let dispatcher = dispatcher(database)
            // One disconnection a day, each retried on schedule, none delivered.
            for _ in 0..<7 {
                try await database.setIntegrationStatus(
                    id: integrations[0].id, to: .connected, actor: "test", at: clock.now())
                try await database.setIntegrationStatus(
                    id: integrations[0].id, to: .disconnected, actor: "test", at: clock.now())
                for _ in 0..<24 {
                    try await dispatcher.deliverDue()
                    clock.advance(by: .seconds(3_600))
                }
            }
            let subscription = try #require(
                try await database.webhookSubscription(id: failing.id, tenantID: nil))
            #expect(subscription.status == .disabled)
            #expect(subscription.disabledReason?.contains("HTTP 502") == true)
            let attempts = try await database.webhookSubscriptionAttempts(
                subscriptionID: failing.id, page: PageRequest()
            ).items
            let span =
                try #require(attempts.last).attemptedAt.microsecondsSinceEpoch
                - attempts[0].attemptedAt.microsecondsSinceEpoch
            #expect(span >= 5 * 86_400_000_000 && span < 6 * 86_400_000_000, "disabled after five days, not before")

            let reports = receiver.received(at: "ops")
            #expect(reports.count == 1)
            let report = try JSONValue(parsing: try #require(reports.first).body)
            #expect(report["type"] == "subscription.disabled")
            #expect(report["data"]?["subscription_id"] == .string(failing.id))
            let schema = try JSONSchema(
                contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent()
                    .appendingPathComponent("../../docs/events/subscription.disabled.schema.json").standardized)
            #expect(schema.violations(of: report).isEmpty, "\(schema.violations(of: report))")
            let audit = try await database.auditEntries(page: PageRequest(limit: 500)).items
            #expect(audit.contains { $0.action == "subscription.disabled" && $0.entityID == failing.id })

            // Turned back on, it gets what it missed.
            receiver.answer("down", with: .ok)
            let before = receiver.received(at: "down").count
            _ = try await database.enableWebhookSubscription(
                id: failing.id, tenantID: nil, actor: "test", at: clock.now())
            try await dispatcher.deliverDue()
            #expect(receiver.received(at: "down").count > before)
        }
    }
}
