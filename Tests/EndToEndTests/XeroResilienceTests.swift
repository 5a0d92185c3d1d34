import Accounting
import App
import Connectors
import Foundation
import Persistence
import Sandbox
import SyncEngine
import Testing

/// Xero misbehaving under a sync, as it does in production: the access token dies in the middle (30 minutes), the
/// school revokes the app, Xero throttles (its minute limit, its day budget), goes into maintenance, and drops
/// connections after making a write. Nothing is lost, nothing is made twice, and Ledgerwire never goes over
/// Xero's limits (the emulator counts every request beyond them).
@Suite struct XeroResilienceTests {
    typealias World = XeroWorld

    /// Limits far above Xero's on both sides, for the stories about tokens (the throttling story keeps Xero's).
    static let roomy = RateLimitPolicy(windows: [.init(limit: 10_000, period: .seconds(61))], maxConcurrent: 5)
    static var roomySandbox: XeroSandbox.Limits {
        var limits = XeroSandbox.Limits()
        limits.requestsPerMinute = 10_000
        limits.requestsPerDay = 100_000
        return limits
    }

    /// A full sync of 300 invoices outlives the access token: the sandbox's clock and the workers' move past its 30
    /// minutes after the first batches. One refresh, though several pushes run at once, and every invoice made once.
    @Test func anAccessTokenExpiringMidSyncIsRefreshedExactlyOnce() async throws {
        // Rounds of 200 jobs (four of Xero's batches), so the first is partway through the 300 invoices.
        let rounds = SyncEngine.Limits(concurrency: 16, perIntegration: 5, lease: .seconds(60), batchedJobs: 200)
        try await World.run(limits: Self.roomy, sandboxLimits: Self.roomySandbox, engineLimits: rounds) { world in
            try await world.bill("customer.created", QuickBooksWorld.customer("cus_1", name: "Priya Raghavan"))
            for index in 1...300 {
                try await world.bill(
                    "invoice.issued",
                    QuickBooksWorld.invoice("inv_\(index)", number: Self.number(index), customer: "cus_1"))
            }
            let (integration, callback) = try await world.connect()
            #expect(callback.json["status"] == "connected", "\(callback.json)")
            try await world.map(integration)
            #expect(await world.sandbox.refreshGrants == 0)

            let requested = try await world.api("POST", "/integrations/\(integration)/sync", ["mode": "full"])
            #expect(requested.status < 300, "\(requested.json)")
            while try await world.runner.runDueOperation() {}
            try await world.drain {
                await world.sandbox.count(tenantID: world.organisation, collection: "Invoices") > 0
            }
            let before = await world.sandbox.count(tenantID: world.organisation, collection: "Invoices")
            #expect(before > 0 && before < 300, "the sync is partway: \(before) of 300 made")

            // 30 minutes and a second: the token Ledgerwire holds has expired, at Xero and on Ledgerwire's clock.
            let life = await world.sandbox.accessTokenLifetime
            await world.sandbox.advance(by: life + 1)
            world.clock.advance(by: .seconds(Int64(life) + 1))
            try await world.drain()
            while try await world.runner.runDueOperation() {}

            #expect(await world.sandbox.refreshGrants == 1)
            let numbers = await world.objects("Invoices").compactMap { $0["InvoiceNumber"]?.stringValue }
            #expect(numbers.count == 300 && Set(numbers) == Set((1...300).map(Self.number)), "\(numbers.count)")
            #expect(await world.objects("Contacts").count == 1)
            try await Self.expectEverythingSucceeded(world, count: 301)
            #expect(try await world.api("GET", "/integrations/\(integration)").json["status"] == "connected")
            #expect(try await world.events("integration.disconnected").isEmpty)
            #expect(await world.sandbox.limitViolations == 0)
        }
    }

    /// The school revokes Ledgerwire's access in Xero: the refresh is refused (`invalid_grant`), the integration is
    /// `disconnected` (audited, and billing told by `integration.disconnected`), and its jobs wait without using an
    /// attempt. Connecting again through OAuth, on the same integration, lands everything once.
    @Test func aRefusedRefreshDisconnectsLosesNothingAndReconnectingResumes() async throws {
        try await World.run(limits: Self.roomy, sandboxLimits: Self.roomySandbox) { world in
            let (integration, _) = try await world.connect()
            try await world.map(integration)
            try await world.bill("customer.created", QuickBooksWorld.customer("cus_1", name: "Priya Raghavan"))
            for index in 1...3 {
                try await world.bill(
                    "invoice.issued",
                    QuickBooksWorld.invoice("inv_\(index)", number: Self.number(index), customer: "cus_1"))
            }
            try await world.drain()
            #expect(await world.objects("Invoices").count == 3)

            // Xero's own revocation endpoint, as "Disconnect" in Xero's connected apps does: the tokens and the
            // connection are gone.
            let stored = try await world.components.database.credentials(
                integrationID: integration, box: world.components.box)
            let refresh = try #require(stored?.tokens.refreshToken)
            let basic = Data("\(World.clientID):\(World.clientSecret)".utf8).base64EncodedString()
            let revoked = try await world.call(
                "POST", world.emulator + "/connect/revocation", token: nil,
                headers: ["Authorization": "Basic \(basic)", "Content-Type": "application/x-www-form-urlencoded"],
                body: Array("token=\(refresh)".utf8))
            #expect(revoked.status == 200)

            for index in 4...6 {
                try await world.bill(
                    "invoice.issued",
                    QuickBooksWorld.invoice("inv_\(index)", number: Self.number(index), customer: "cus_1"))
            }
            try await world.engine.runDueJobs()
            let disconnected = try await world.api("GET", "/integrations/\(integration)")
            #expect(disconnected.json["status"] == "disconnected", "\(disconnected.json)")
            #expect(try await world.events("integration.disconnected").count == 1)
            let audit = try await world.api("GET", "/audit?integration_id=\(integration)")
            let changes = (audit.json["items"]?.arrayValue ?? []).filter {
                $0["action"] == "integration.status_changed"
                    && ($0["new_value"]?.stringValue ?? "\($0["new_value"] ?? .null)").contains("disconnected")
            }
            #expect(changes.count == 1, "\(audit.json)")
            // Nothing more is sent while it is disconnected, and nothing is lost: the three jobs wait for the
            // connection (no time brings them due).
            world.clock.advance(by: .seconds(3600))
            #expect(try await world.engine.runDueJobs() == 0)
            #expect(try await world.engine.nextJobDue() == nil)
            let database = world.components.database
            let waiting = try await database.jobs(status: .pending, page: PageRequest(limit: 100)).items
            #expect(waiting.count == 3 && waiting.allSatisfy { $0.attempts <= 1 }, "\(waiting)")
            #expect(try await database.jobs(status: .failed, page: PageRequest(limit: 10)).items.isEmpty)
            #expect(try await database.jobs(status: .dead, page: PageRequest(limit: 10)).items.isEmpty)
            #expect(await world.objects("Invoices").count == 3)

            // The finance manager connects again, on the same integration.
            let again = try await Self.authorize(world, integration)
            #expect(again.status == 200 && again.json["status"] == "connected", "\(again.json)")
            try await world.drain()
            let numbers = await world.objects("Invoices").compactMap { $0["InvoiceNumber"]?.stringValue }
            #expect(numbers.sorted() == (1...6).map(Self.number), "\(numbers)")
            #expect(await world.objects("Contacts").count == 1)
            try await Self.expectEverythingSucceeded(world, count: 7)
            #expect(try await world.events("sync.failed").isEmpty)
        }
    }

    /// The same limits on both sides, two requests at once (Xero's day, a minute ten times Xero's so that the test
    /// never waits a real minute): the minute's budget spent by another install of the app (429 `minute`),
    /// maintenance (503), writes made whose answers are lost with the connection, and the day's budget spent (429
    /// `day`, deferred until the day rolls over). Every invoice lands once, no job fails, and the emulator counts no
    /// request beyond its limits.
    @Test func throttlesMaintenanceAndLostAnswersLandEverythingOnceWithinTheLimits() async throws {
        // The limiter's pause after a 429 is real time, so the throttles' `Retry-After`s are seconds here.
        let limits = RateLimitPolicy(
            windows: [
                .init(limit: 600, period: .seconds(61)), .init(name: "day", limit: 5000, period: .seconds(86_401)),
            ],
            maxConcurrent: 2, throttlePause: .milliseconds(50))
        var sandboxLimits = XeroSandbox.Limits()
        sandboxLimits.concurrentRequests = 2
        sandboxLimits.requestsPerMinute = 600
        try await World.run(limits: limits, sandboxLimits: sandboxLimits) { world in
            let database = world.components.database
            let (integration, _) = try await world.connect()
            try await world.map(integration)
            try await world.bill("customer.created", QuickBooksWorld.customer("cus_1", name: "Asha Rao"))
            try await world.drain()

            /// Invoices `range`, billed.
            func bill(_ range: ClosedRange<Int>) async throws {
                for index in range {
                    try await world.bill(
                        "invoice.issued",
                        QuickBooksWorld.invoice("inv_\(index)", number: Self.number(index), customer: "cus_1"))
                }
            }

            // The minute's budget spent elsewhere: three 429s, each waited out.
            await world.sandbox.throttle(next: 3)
            try await bill(1...8)
            try await world.drain()
            #expect(await world.sandbox.injectedThrottles == 0, "the throttles were met")
            #expect(await world.objects("Invoices").count == 8)

            // Maintenance for longer than a job's attempts last: turned away again and again, no job dies.
            await world.sandbox.setMaintenance(true)
            try await bill(9...16)
            try await world.drain {
                try await database.jobs(page: PageRequest(limit: 100)).items.map(\.deferrals).max() ?? 0 >= 5
            }
            #expect(await world.objects("Invoices").count == 8)
            await world.sandbox.setMaintenance(false)
            try await world.drain()
            #expect(await world.objects("Invoices").count == 16)

            // Writes made in Xero whose answers are lost with their connections, a batch's and then a single
            // invoice's: found by their numbers, not made again.
            await world.sandbox.dropAnswers(1)
            try await bill(17...23)
            try await world.drain()
            #expect(await world.sandbox.droppedAnswers == 0, "a write lost its answer")
            await world.sandbox.dropAnswers(1)
            try await bill(24...24)
            try await world.drain()
            #expect(await world.sandbox.droppedAnswers == 0, "a write lost its answer")
            #expect(await world.objects("Invoices").count == 24)

            // The day's budget spent: the work is deferred, not failed, until the day rolls over.
            await world.sandbox.throttle(next: 1, problem: "day", retryAfter: 3)
            try await bill(25...28)
            let startedAt = world.clock.now()
            try await world.engine.runDueJobs()
            #expect(await world.sandbox.injectedThrottles == 0)
            let deferred = try await database.jobs(status: .pending, page: PageRequest(limit: 100)).items
            #expect(!deferred.isEmpty, "the day's 429 deferred work")
            for job in deferred {
                #expect(job.attempts == 0 && job.deferrals >= 1, "\(job)")
                #expect(job.lastError?.code == "throttled" && job.lastError?.message.contains("day") == true)
                #expect(job.nextAttemptAt.microsecondsSinceEpoch >= startedAt.microsecondsSinceEpoch + 3_000_000)
            }
            #expect(try await database.jobs(status: .failed, page: PageRequest(limit: 10)).items.isEmpty)
            try await world.drain()

            let numbers = await world.objects("Invoices").compactMap { $0["InvoiceNumber"]?.stringValue }
            #expect(numbers.sorted() == (1...28).map(Self.number), "each invoice once: \(numbers.sorted())")
            #expect(await world.objects("Contacts").count == 1)
            try await Self.expectEverythingSucceeded(world, count: 29)
            #expect(try await world.events("sync.failed").isEmpty)
            #expect(await world.sandbox.limitViolations == 0)
        }
    }

    // MARK: Helpers

    static func number(_ index: Int) -> String { String(format: "GF-%04d", index) }

    /// Every job succeeded, `count` of them.
    static func expectEverythingSucceeded(
        _ world: World, count: Int, sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let jobs = try await world.components.database.jobs(page: PageRequest(limit: 500)).items
        #expect(jobs.count == count, "\(jobs.count) jobs", sourceLocation: sourceLocation)
        let open = jobs.filter { $0.status != .succeeded }
        #expect(
            open.isEmpty, "\(open.map { "\($0.localID) \($0.status) \($0.lastError?.message ?? "")" })",
            sourceLocation: sourceLocation)
    }

    /// Connects `integration` again through Xero's consent, granting the world's organisation: the callback's answer.
    static func authorize(_ world: World, _ integration: String) async throws -> World.Answer {
        let connect = try await world.api("GET", "/integrations/\(integration)/connect")
        #expect(connect.status == 302)
        let authorize = try #require(connect.headers["location"])
        let form = try #require(XeroConsent(authorizeURL: authorize, tenantIDs: [world.organisation]))
        let consent = try await world.call(
            "POST", form.action, token: nil, headers: ["Content-Type": XeroConsent.contentType],
            body: Array(form.body.utf8))
        #expect(consent.status == 302)
        let back = try #require(consent.headers["location"])
        return try await world.call("GET", back, token: nil)
    }
}
