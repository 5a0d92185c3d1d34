import Accounting
import Logging
import Persistence
import ServiceLifecycle
import SyncEngine
import TestSupport
import Testing

@Suite struct WorkerServiceTests {
    /// The service runs jobs as they come, and a graceful shutdown ends it with the queue intact.
    @Test func runsQueuedJobsAndStopsOnGracefulShutdown() async throws {
        let clock = ManualClock()
        let database = try AppDatabase.inMemory()
        let integration = try await database.createIntegration(
            tenantID: "school", platform: .quickBooksOnline, name: "Books", actor: "test", at: clock.now())
        try await database.setIntegrationStatus(id: integration.id, to: .connected, actor: "test", at: clock.now())
        let connector = ScriptedConnector()
        let tokens = TokenStore(
            database: database, box: try SecretBox(masterKey: Array(repeating: 7, count: 32)),
            transport: TokenAuthority(now: clock.now), connectors: [connector], clock: clock)
        let engine = SyncEngine(
            database: database, connectors: [connector], tokens: tokens, workerID: "w1", clock: clock)
        let group = ServiceGroup(
            services: [WorkerService(engine: engine, pollInterval: .milliseconds(5))],
            logger: Logger(label: "test"))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            let customer = SyncCommand(
                tenantID: Tenant.ID("school"), recordType: .customer, localID: "cus_1", action: .upsert,
                updatedAt: clock.now(), data: ["id": "cus_1", "name": "Asha", "updated_at": "2026-11-20T10:00:00Z"])
            _ = try await database.record([
                IncomingDelivery(
                    source: "billing", webhookID: "msg_1", receivedAt: clock.now(), tenantID: Tenant.ID("school"),
                    eventType: "customer.created", headers: [:], body: Array("{}".utf8), content: .commands([customer]))
            ])
            let deadline = ContinuousClock.now + .seconds(10)
            while try await database.jobs(status: .succeeded, page: PageRequest()).items.isEmpty,
                ContinuousClock.now < deadline
            {
                try await Task.sleep(for: .milliseconds(5))
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        #expect(try await database.jobs(status: .succeeded, page: PageRequest()).items.count == 1)
        #expect(connector.written.count == 1)
    }

    /// SIGTERM (a graceful shutdown) while pushes are in flight: they finish and are recorded, nothing is lost,
    /// and the service ends without an error.
    @Test func aGracefulShutdownWithJobsInFlightLetsThemFinish() async throws {
        let clock = ManualClock()
        let database = try AppDatabase.inMemory()
        let integration = try await database.createIntegration(
            tenantID: "school", platform: .quickBooksOnline, name: "Books", actor: "test", at: clock.now())
        try await database.setIntegrationStatus(id: integration.id, to: .connected, actor: "test", at: clock.now())
        let connector = ScriptedConnector(latency: .milliseconds(400))
        let tokens = TokenStore(
            database: database, box: try SecretBox(masterKey: Array(repeating: 7, count: 32)),
            transport: TokenAuthority(now: clock.now), connectors: [connector], clock: clock)
        let engine = SyncEngine(
            database: database, connectors: [connector], tokens: tokens, workerID: "w1",
            limits: .init(concurrency: 8, perIntegration: 8, shutdownGrace: .seconds(30)), clock: clock)
        let customers = (1...8).map { index in
            SyncCommand(
                tenantID: Tenant.ID("school"), recordType: .customer, localID: "cus_\(index)", action: .upsert,
                updatedAt: clock.now(),
                data: [
                    "id": .string("cus_\(index)"), "name": .string("Student \(index)"),
                    "updated_at": "2026-11-20T10:00:00Z",
                ])
        }
        _ = try await database.record([
            IncomingDelivery(
                source: "billing", webhookID: "msg_1", receivedAt: clock.now(), tenantID: Tenant.ID("school"),
                eventType: "customer.created", headers: [:], body: Array("{}".utf8), content: .commands(customers))
        ])
        let group = ServiceGroup(
            services: [WorkerService(engine: engine, pollInterval: .milliseconds(5))],
            gracefulShutdownSignals: [], logger: Logger(label: "test"))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            let deadline = ContinuousClock.now + .seconds(10)
            while try await database.jobs(status: .running, page: PageRequest()).items.count < 8,
                ContinuousClock.now < deadline
            {
                try await Task.sleep(for: .milliseconds(5))
            }
            #expect(connector.written.isEmpty, "the pushes are still in flight")
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        #expect(try await database.jobs(status: .succeeded, page: PageRequest()).items.count == 8)
        #expect(try await database.jobs(status: .running, page: PageRequest()).items.isEmpty)
        #expect(connector.written.count == 8)
    }

    /// A push that never ends (a platform that keeps the connection open) holds a graceful shutdown up only for
    /// the grace: then it is cut short, and its job stays claimed until its lease expires, for another attempt.
    @Test(.timeLimit(.minutes(1))) func aGracefulShutdownCutsAHangingPushShortAfterTheGrace() async throws {
        let clock = ManualClock()
        let database = try AppDatabase.inMemory()
        let integration = try await database.createIntegration(
            tenantID: "school", platform: .quickBooksOnline, name: "Books", actor: "test", at: clock.now())
        try await database.setIntegrationStatus(id: integration.id, to: .connected, actor: "test", at: clock.now())
        let connector = ScriptedConnector(latency: .seconds(3600))
        let tokens = TokenStore(
            database: database, box: try SecretBox(masterKey: Array(repeating: 7, count: 32)),
            transport: TokenAuthority(now: clock.now), connectors: [connector], clock: clock)
        let engine = SyncEngine(
            database: database, connectors: [connector], tokens: tokens, workerID: "w1",
            limits: .init(shutdownGrace: .milliseconds(300)), clock: clock)
        let customer = SyncCommand(
            tenantID: Tenant.ID("school"), recordType: .customer, localID: "cus_1", action: .upsert,
            updatedAt: clock.now(), data: ["id": "cus_1", "name": "Asha", "updated_at": "2026-11-20T10:00:00Z"])
        _ = try await database.record([
            IncomingDelivery(
                source: "billing", webhookID: "msg_1", receivedAt: clock.now(), tenantID: Tenant.ID("school"),
                eventType: "customer.created", headers: [:], body: Array("{}".utf8), content: .commands([customer]))
        ])
        let group = ServiceGroup(
            services: [WorkerService(engine: engine, pollInterval: .milliseconds(5))],
            gracefulShutdownSignals: [], logger: Logger(label: "test"))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            let deadline = ContinuousClock.now + .seconds(10)
            while try await database.jobs(status: .running, page: PageRequest()).items.isEmpty,
                ContinuousClock.now < deadline
            {
                try await Task.sleep(for: .milliseconds(5))
            }
            let started = ContinuousClock.now
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            // Far less than the hour the push would hang for; loose enough for a loaded machine.
            #expect(ContinuousClock.now - started < .seconds(30))
        }
        #expect(try await database.jobs(status: .running, page: PageRequest()).items.count == 1)
        #expect(connector.written.isEmpty)
    }
}
