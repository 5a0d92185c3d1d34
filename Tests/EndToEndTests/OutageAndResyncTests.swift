import Accounting
import App
import Connectors
import Foundation
import Persistence
import Sandbox
import SyncEngine
import TestSupport
import Testing

/// QuickBooks out of reach for minutes, and QuickBooks' company reset under Ledgerwire's links.
@Suite struct OutageAndResyncTests {
    typealias World = QuickBooksWorld

    /// Two minutes of connections refused in the middle of 100 invoices: every job waits it out without using an
    /// attempt, the integration shows as unreachable meanwhile, and afterwards the books hold each invoice once.
    @Test func anOutageOfTwoMinutesInTheMiddleOf100InvoicesKillsNothing() async throws {
        // The production waits: 30 s doubling while unreachable, 30 s and 2 min between failed attempts.
        try await World.run(retry: RetryStrategy()) { world in
            let integration = try await world.connect()
            _ = try await world.mapAccounts(integration)
            try await world.bill("customer.created", World.customer("cus_1", name: "Priya Raghavan"))
            for index in 1...40 {
                try await world.bill(
                    "invoice.issued",
                    World.invoice("inv_\(index)", number: String(format: "GF-%04d", index), customer: "cus_1"))
            }
            try await run(world, for: .seconds(60))
            #expect(await world.objects("Invoice").count == 40)

            // QuickBooks goes away: nothing listens where it was.
            let closed = try ClosedPort()
            let patched = try await world.api(
                "PATCH", "/integrations/\(integration)", ["settings": ["api_base_url": .string(closed.url)]])
            #expect(patched.status == 200, "\(patched.json)")
            for index in 41...100 {
                try await world.bill(
                    "invoice.issued",
                    World.invoice("inv_\(index)", number: String(format: "GF-%04d", index), customer: "cus_1"))
            }
            try await run(world, for: .seconds(120))
            let down = try await world.api("GET", "/integrations/\(integration)")
            #expect(down.json["reachability"]?["status"] == "unreachable", "\(down.json)")
            #expect(down.json["reachability"]?["last_error"]?["code"] == "unreachable")
            #expect(down.json["reachability"]?["since"]?.stringValue != nil)
            #expect(down.json["reachability"]?["next_check_at"]?.stringValue != nil)
            let waiting = try await world.components.database.jobs(status: .pending, page: PageRequest(limit: 100))
            #expect(waiting.items.count == 60)
            #expect(waiting.items.allSatisfy { $0.attempts == 0 && $0.deferrals >= 1 })

            // It is back.
            _ = try await world.api(
                "PATCH", "/integrations/\(integration)", ["settings": ["api_base_url": .string(world.emulator)]])
            try await run(world, for: .seconds(600))

            let database = world.components.database
            #expect(try await database.jobs(status: .dead, page: PageRequest(limit: 10)).items.isEmpty)
            #expect(try await database.jobs(status: .failed, page: PageRequest(limit: 10)).items.isEmpty)
            #expect(try await database.jobs(status: .succeeded, page: PageRequest(limit: 500)).items.count == 101)
            #expect(try await world.events("sync.failed").isEmpty)
            let numbers = await world.objects("Invoice").compactMap { $0["DocNumber"]?.stringValue }
            #expect(numbers.count == 100)
            #expect(Set(numbers) == Set((1...100).map { String(format: "GF-%04d", $0) }))
            let up = try await world.api("GET", "/integrations/\(integration)")
            #expect(up.json["reachability"] == ["status": "reachable"], "\(up.json)")
        }
    }

    /// The company was reset: a full sync finds none of its links in the books and writes everything again, once;
    /// a full sync of books that hold everything writes nothing. Both say what they verified and re-pushed.
    @Test func aFullSyncChecksItsLinksAndPushesWhatTheBooksLost() async throws {
        try await World.run { world in
            let integration = try await world.connect()
            _ = try await world.mapAccounts(integration)
            try await world.bill("customer.created", World.customer("cus_1", name: "Priya Raghavan"))
            for index in 1...5 {
                try await world.bill(
                    "invoice.issued", World.invoice("inv_\(index)", number: "GF-000\(index)", customer: "cus_1"))
            }
            try await world.drain()
            #expect(await world.objects("Invoice").count == 5)

            let intact = try await fullSync(world, integration)
            #expect(intact["status"] == "completed", "\(intact)")
            #expect(intact["records_verified"] == 6 && intact["records_repushed"] == 0, "\(intact)")
            #expect(intact["records_skipped"] == 6)
            #expect(await world.objects("Invoice").count == 5)
            #expect(await world.objects("Customer").count == 1)

            await world.sandbox.resetCompany(realmID: World.realm)
            #expect(await world.objects("Invoice").isEmpty)
            let resynced = try await fullSync(world, integration)
            #expect(resynced["status"] == "completed", "\(resynced)")
            #expect(resynced["records_verified"] == 0 && resynced["records_repushed"] == 6, "\(resynced)")
            #expect(resynced["records_failed"] == 0 && resynced["errors"] == [])
            let numbers = await world.objects("Invoice").compactMap { $0["DocNumber"]?.stringValue }
            #expect(numbers.sorted() == ["GF-0001", "GF-0002", "GF-0003", "GF-0004", "GF-0005"])
            #expect(await world.objects("Customer").count == 1)
            let records = try await world.api("GET", "/records?type=invoice&local_id=inv_1")
            let link = records.json["items"]?[0]?["links"]?[0]?["remote_id"]
            #expect(link == (await world.objects("Invoice").first { $0["DocNumber"] == "GF-0001" })?["Id"])
        }
    }

    /// A full sync requested through the API, run to its end; the operation as `GET /sync-operations/{id}` shows it.
    private func fullSync(_ world: World, _ integration: String) async throws -> JSONValue {
        let requested = try await world.api("POST", "/integrations/\(integration)/sync", ["mode": "full"])
        let id = try #require(requested.json["id"]?.stringValue, "\(requested.json)")
        while try await world.runner.runDueOperation() {}
        try await world.drain()
        while try await world.runner.runDueOperation() {}
        return try await world.api("GET", "/sync-operations/\(id)").json
    }

    /// Runs the workers for `duration` of the engine's time, ten seconds a round.
    private func run(_ world: World, for duration: Duration) async throws {
        var elapsed = Duration.zero
        while elapsed < duration {
            try await world.engine.runDueJobs()
            world.clock.advance(by: .seconds(10))
            elapsed += .seconds(10)
        }
    }
}
