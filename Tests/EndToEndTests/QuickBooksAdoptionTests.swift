import Accounting
import SyncEngine
import Testing

/// A customer already in the books is adopted, not created again: by its name even when the bookkeeper made it
/// inactive (QuickBooks leaves it out of a query that does not name `Active`, yet counts its name as taken), and by
/// its email address.
@Suite struct QuickBooksAdoptionTests {
    typealias World = QuickBooksWorld

    @Test func anInactiveCustomerOfTheSameNameIsAdopted() async throws {
        try await World.run { world in
            let made = try await world.bookkeeper("POST", "customer", ["DisplayName": "Priya Raghavan"])
            let id = try #require(made.json["Customer"]?["Id"])
            let inactive = try await world.bookkeeper(
                "POST", "customer", ["Id": id, "SyncToken": "0", "sparse": true, "Active": false])
            #expect(inactive.json["Customer"]?["Active"] == false, "\(inactive.json)")

            try await world.bill("customer.created", World.customer("cus_1", name: "Priya Raghavan"))
            let integration = try await world.connect()
            _ = try await world.mapAccounts(integration)
            try await world.fullSync(integration)

            #expect(await world.objects("Customer").count == 1)
            let records = try await world.api("GET", "/records?type=customer&local_id=cus_1")
            #expect(records.json["items"]?[0]?["links"]?[0]?["remote_id"] == id, "\(records.json)")
        }
    }

    /// A full sync checks its links are still in the books: a customer the bookkeeper made inactive still is, and
    /// is neither pushed again nor counted lost.
    @Test func aFullSyncFindsACustomerMadeInactiveStillInTheBooks() async throws {
        try await World.run { world in
            let integration = try await world.connect()
            _ = try await world.mapAccounts(integration)
            try await world.bill("customer.created", World.customer("cus_1", name: "Priya Raghavan"))
            try await world.drain()
            let customer = try #require(await world.objects("Customer").first)
            let inactive = try await world.bookkeeper(
                "POST", "customer",
                [
                    "Id": customer["Id"] ?? .null, "SyncToken": customer["SyncToken"] ?? .null, "sparse": true,
                    "Active": false,
                ])
            #expect(inactive.json["Customer"]?["Active"] == false, "\(inactive.json)")

            let requested = try await world.api("POST", "/integrations/\(integration)/sync", ["mode": "full"])
            let id = try #require(requested.json["id"]?.stringValue, "\(requested.json)")
            while try await world.runner.runDueOperation() {}
            try await world.drain()
            while try await world.runner.runDueOperation() {}
            let operation = try await world.api("GET", "/sync-operations/\(id)").json
            #expect(operation["records_verified"] == 1 && operation["records_repushed"] == 0, "\(operation)")
            #expect(await world.objects("Customer").count == 1)
        }
    }

    @Test func aCustomerOfTheSameEmailIsAdopted() async throws {
        try await World.run { world in
            let made = try await world.bookkeeper(
                "POST", "customer", ["DisplayName": "P. Raghavan", "PrimaryEmailAddr": ["Address": "priya@example.in"]])
            let id = try #require(made.json["Customer"]?["Id"])

            try await world.bill(
                "customer.created", World.customer("cus_1", name: "Priya Raghavan", email: "priya@example.in"))
            let integration = try await world.connect()
            _ = try await world.mapAccounts(integration)
            try await world.fullSync(integration)

            #expect(await world.objects("Customer").count == 1)
            let records = try await world.api("GET", "/records?type=customer&local_id=cus_1")
            #expect(records.json["items"]?[0]?["links"]?[0]?["remote_id"] == id, "\(records.json)")
        }
    }
}
