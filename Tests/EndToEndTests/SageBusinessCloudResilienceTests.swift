import Accounting
import App
import Connectors
import Foundation
import Persistence
import Sandbox
import SyncEngine
import Testing

/// Sage misbehaving under a sync, as it does in production: access tokens that die every five minutes, a refresh
/// token spent elsewhere, a validation error, and 429s. Nothing is lost, nothing is made twice, and Ledgerwire never
/// goes over Sage's per-business limit (the emulator counts every request beyond it).
@Suite struct SageBusinessCloudResilienceTests {
    typealias World = SageWorld

    /// Limits far above Sage's on both sides, for the stories about tokens.
    static let roomy = RateLimitPolicy(windows: [.init(limit: 10_000, period: .seconds(61))], maxConcurrent: 5)
    static var roomySandbox: SageBusinessCloudSandbox.Limits {
        var limits = SageBusinessCloudSandbox.Limits()
        limits.requestsPerWindow = 10_000
        return limits
    }

    static func number(_ index: Int) -> String { String(format: "GF-%04d", index) }

    /// A long sync outlives three access tokens (five minutes each): each expiry costs one refresh, though several
    /// pushes run at once, every rotated refresh token is stored and used, and every invoice is made once.
    @Test func tokensExpiringEveryFiveMinutesAreRefreshedOnceEachTime() async throws {
        try await World.run(limits: Self.roomy, sandboxLimits: Self.roomySandbox) { world in
            try await world.bill("customer.created", World.customer("cus_1", name: "Amelia Hart"))
            for index in 1...90 {
                try await world.bill("invoice.issued", World.invoice("inv_\(index)", number: Self.number(index)))
            }
            let (integration, callback) = try await world.connect()
            #expect(callback.json["status"] == "connected", "\(callback.json)")
            try await world.map(integration)
            let requested = try await world.api("POST", "/integrations/\(integration)/sync", ["mode": "full"])
            #expect(requested.status < 300, "\(requested.json)")
            while try await world.runner.runDueOperation() {}
            let life = await world.sandbox.accessTokenLifetime
            for (expiry, made) in [10, 40, 70].enumerated() {
                try await world.drain { await world.records("sales_invoices").count >= made }
                let count = await world.records("sales_invoices").count
                #expect(count < 90, "the sync is partway: \(count) of 90 made")
                #expect(await world.sandbox.refreshGrants == expiry)
                // Five minutes and a second: the token Ledgerwire holds has expired, at Sage and on Ledgerwire's
                // clock.
                await world.sandbox.advance(by: life + 1)
                world.clock.advance(by: .seconds(Int64(life) + 1))
            }
            try await world.drain()
            while try await world.runner.runDueOperation() {}

            #expect(await world.sandbox.refreshGrants == 3)
            let references = await world.records("sales_invoices").compactMap { $0["reference"]?.stringValue }
            #expect(references.count == 90 && Set(references) == Set((1...90).map(Self.number)))
            #expect(await world.records("contacts").count == 1)
            let jobs = try await world.components.database.jobs(page: PageRequest(limit: 500)).items
            #expect(jobs.count == 91 && jobs.allSatisfy { $0.status == .succeeded })
            #expect(try await world.api("GET", "/integrations/\(integration)").json["status"] == "connected")
            #expect(try await world.events("integration.disconnected").isEmpty)
        }
    }

    /// The refresh token is spent elsewhere (Sage rotates them: the one Ledgerwire holds is refused, `invalid_grant`):
    /// the integration is `disconnected` and its jobs wait without using an attempt; connecting again lands them once.
    @Test func aRefusedRefreshDisconnectsAndReconnectingResumes() async throws {
        try await World.run(limits: Self.roomy, sandboxLimits: Self.roomySandbox) { world in
            let (integration, _) = try await world.connect()
            try await world.map(integration)
            try await world.bill("customer.created", World.customer("cus_1", name: "Amelia Hart"))
            try await world.bill("invoice.issued", World.invoice("inv_1", number: Self.number(1)))
            try await world.drain()
            #expect(await world.records("sales_invoices").count == 1)

            let stored = try await world.components.database.credentials(
                integrationID: integration, box: world.components.box)
            let refresh = try #require(stored?.tokens.refreshToken)
            let form =
                "grant_type=refresh_token&refresh_token=\(refresh)&client_id=\(World.clientID)"
                + "&client_secret=\(World.clientSecret)"
            let spent = try await world.call(
                "POST", world.emulator + "/token", token: nil,
                headers: ["Content-Type": "application/x-www-form-urlencoded"], body: Array(form.utf8))
            #expect(spent.status == 200, "\(spent.json)")
            let life = await world.sandbox.accessTokenLifetime
            await world.sandbox.advance(by: life + 1)
            world.clock.advance(by: .seconds(Int64(life) + 1))

            try await world.bill("invoice.issued", World.invoice("inv_2", number: Self.number(2)))
            try await world.engine.runDueJobs()
            let disconnected = try await world.api("GET", "/integrations/\(integration)")
            #expect(disconnected.json["status"] == "disconnected", "\(disconnected.json)")
            #expect(try await world.events("integration.disconnected").count == 1)
            world.clock.advance(by: .seconds(3600))
            #expect(try await world.engine.runDueJobs() == 0)
            let database = world.components.database
            let waiting = try await database.jobs(status: .pending, page: PageRequest(limit: 100)).items
            #expect(waiting.count == 1 && waiting.allSatisfy { $0.attempts <= 1 }, "\(waiting)")
            #expect(await world.records("sales_invoices").count == 1)

            let again = try await world.authorize(integration)
            #expect(again.status == 200 && again.json["status"] == "connected", "\(again.json)")
            try await world.drain()
            let references = await world.records("sales_invoices").compactMap { $0["reference"]?.stringValue }
            #expect(references.sorted() == [Self.number(1), Self.number(2)])
            #expect(try await database.jobs(status: .failed, page: PageRequest(limit: 10)).items.isEmpty)
        }
    }

    /// Sage refuses a receipt (the invoice was already paid in full there by hand): the job fails with Sage's own
    /// `$message`, naming the field (`$source`), after one attempt, and nothing is written.
    @Test func aValidationErrorFailsTheJobWithSagesMessage() async throws {
        try await World.run { world in
            let (integration, _) = try await world.connect()
            try await world.map(integration)
            try await world.bill("customer.created", World.customer("cus_1", name: "Amelia Hart"))
            try await world.bill("invoice.issued", World.invoice("inv_1", number: "GF-0001"))
            try await world.drain()
            let invoiceID = try #require(await world.invoice("GF-0001")?["id"]?.stringValue)
            #expect(
                await world.sandbox.enterReceipt(
                    businessID: world.business, invoiceID: invoiceID, amount: Decimal(string: "1351.80") ?? 0) != nil)

            try await world.bill("payment.received", World.payment("pay_1", invoice: "inv_1", amount: "500.00"))
            try await world.drain()
            let failed = try await world.components.database.jobs(status: .failed, page: PageRequest(limit: 10)).items
            #expect(failed.count == 1 && failed.first?.localID == "pay_1", "\(failed)")
            let message = failed.first?.lastError?.message ?? ""
            #expect(message.contains("must be greater than 0 and no more than the outstanding amount"), "\(message)")
            #expect(message.contains("allocated_artefacts[0].amount"), "\(message)")
            #expect(failed.first?.attempts == 1)
            #expect(await world.records("contact_payments").count == 1, "only the receipt entered by hand")
        }
    }

    /// Listing the businesses a new grant opens is a call Sage counts like any other: a sync begun at once after
    /// connecting keeps within the limit with it (5 calls in 2 seconds here; the connector's window a second longer).
    @Test func theBusinessListOfTheConsentCountsAgainstTheLimit() async throws {
        var sandboxLimits = SageBusinessCloudSandbox.Limits()
        sandboxLimits.requestsPerWindow = 5
        sandboxLimits.window = 2
        let limits = RateLimitPolicy(
            windows: [.init(limit: 5, period: .seconds(3))], maxConcurrent: 2, throttlePause: .milliseconds(50))
        try await World.run(limits: limits, sandboxLimits: sandboxLimits) { world in
            let (integration, _) = try await world.connect()
            try await world.map(integration)
            try await world.bill("customer.created", World.customer("cus_1", name: "Amelia Hart"))
            for index in 1...2 {
                try await world.bill("invoice.issued", World.invoice("inv_\(index)", number: Self.number(index)))
            }
            try await world.drain()
            #expect(await world.records("sales_invoices").count == 2)
            #expect(await world.sandbox.limitViolations == 0)
        }
    }

    /// Sage's limit, made small and short so the test need not wait minutes (20 calls in 2 seconds; the connector's
    /// window a second longer), and 429s Sage sends whatever the rate: everything lands once, and the emulator counts
    /// no request beyond its limit.
    @Test func throttlingKeepsWithinSagesLimit() async throws {
        var sandboxLimits = SageBusinessCloudSandbox.Limits()
        sandboxLimits.requestsPerWindow = 20
        sandboxLimits.window = 2
        let limits = RateLimitPolicy(
            windows: [.init(limit: 20, period: .seconds(3))], maxConcurrent: 2, throttlePause: .milliseconds(50))
        try await World.run(limits: limits, sandboxLimits: sandboxLimits) { world in
            let (integration, _) = try await world.connect()
            try await world.map(integration)
            try await world.bill("customer.created", World.customer("cus_1", name: "Amelia Hart"))
            try await world.drain()
            // An empty window: the throttles' `Retry-After` is a second.
            await world.sandbox.advance(by: 3)
            await world.sandbox.throttle(next: 2)
            for index in 1...45 {
                try await world.bill("invoice.issued", World.invoice("inv_\(index)", number: Self.number(index)))
            }
            try await world.drain()
            #expect(await world.sandbox.injectedThrottles == 0, "the throttles were met")
            let references = await world.records("sales_invoices").compactMap { $0["reference"]?.stringValue }
            #expect(references.count == 45 && Set(references) == Set((1...45).map(Self.number)))
            let jobs = try await world.components.database.jobs(page: PageRequest(limit: 500)).items
            #expect(jobs.allSatisfy { $0.status == .succeeded }, "\(jobs.filter { $0.status != .succeeded })")
            #expect(await world.sandbox.limitViolations == 0)
        }
    }
}
