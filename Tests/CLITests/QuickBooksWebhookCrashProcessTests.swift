import Accounting
import Connectors
import Foundation
import GRDB
import Sandbox
import TestSupport
import Testing

/// A QuickBooks webhook answered 200 is a promise: Intuit will not send it again. A real `ledgerwire serve` killed
/// after the 200 and before it fetched the change must fetch it once restarted, and tell billing once.
@Suite struct QuickBooksWebhookCrashProcessTests {
    static let realm = "4620816365000000021"

    @Test func aChangeAcknowledgedButNotFetchedBeforeSIGKILLIsFetchedOnceAfterTheRestart() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try await QuickBooksTap().run { tap in
            let database = directory.database
            let server = try await ServerProcess(database: database, directory: directory.url)
            defer { if server.process.isRunning { server.signal(SIGKILL) } }
            let signer = Signer()
            try await tap.registerWebhookSecrets(on: server, billing: signer)
            // A day between scheduled polls: only the webhook can bring the change within this test.
            let integration = try await tap.connect(server, realm: Self.realm, intervalSeconds: 86_400)
            try await QuickBooksTap.bill(
                server, signer: signer, "customer.created", QuickBooksTap.customer("cus_1", name: "Asha Rao"))
            try await QuickBooksTap.bill(
                server, signer: signer, "invoice.issued",
                QuickBooksTap.invoice("inv_1", number: "GF-0001", customer: "cus_1"))

            // The invoice is in the books, the first poll of the books is done and the echoes of Ledgerwire's own
            // writes are handled: nothing is left to do.
            let pushed = try await QuickBooksTap.eventually("the invoice is pushed to the books") {
                await tap.sandbox.count(realmID: Self.realm, entity: "Invoice") == 1
            }
            try #require(pushed)
            #expect(await tap.announce(to: server).allSatisfy { $0 == 200 })
            let settled = try await QuickBooksTap.eventually("the first poll and the echoes are done") {
                let operations = try await QuickBooksTap.api(
                    server, "GET", "/sync-operations?integration_id=\(integration)")
                let items = operations.json["items"]?.arrayValue ?? []
                let waiting = try await Self.waiting(in: database)
                return !items.isEmpty && items.allSatisfy { $0["status"] == "completed" } && waiting == 0
            }
            let operations = try await QuickBooksTap.api(
                server, "GET", "/sync-operations?integration_id=\(integration)")
            let left = try await Self.waiting(in: database)
            try #require(settled, "\(operations.json); \(left) waiting")
            let operationsBefore = try await QuickBooksTap.api(
                server, "GET", "/sync-operations?integration_id=\(integration)"
            ).json["items"]?.arrayValue?.count
            #expect(try await Self.changesTold(in: database).isEmpty)

            // The bookkeeper moves the due date.
            let invoice = try #require(await tap.sandbox.objects(realmID: Self.realm, entity: "Invoice").first)
            let invoiceID = try #require(invoice["Id"]?.stringValue)
            let (access, _) = await tap.sandbox.issueTokens(clientID: QuickBooksTap.clientID, realmID: Self.realm)
            let edited = try await QuickBooksTap.call(
                "POST", tap.base + "/v3/company/\(Self.realm)/invoice", token: access,
                json: [
                    "Id": .string(invoiceID), "SyncToken": invoice["SyncToken"] ?? .null, "sparse": true,
                    "DueDate": "2026-12-01",
                ])
            #expect(edited.status == 200)

            // From now on QuickBooks answers slowly: Ledgerwire's fetch of the change is still waiting when it dies.
            await tap.sandbox.setResponseDelay(.seconds(5))
            let callsBefore = tap.calls.count
            #expect(await tap.announce(to: server) == [200])
            let asked = try await QuickBooksTap.eventually("Ledgerwire asks QuickBooks for the announced invoice") {
                tap.calls.dropFirst(callsBefore).contains("GET /v3/company/\(Self.realm)/invoice/\(invoiceID)")
            }
            try #require(asked)
            server.signal(SIGKILL)
            #expect(try await server.waitForExit().signaled)
            #expect(try await Self.changesTold(in: database).isEmpty)
            #expect(try await Self.waiting(in: database) == 1, "the acknowledged notification is not kept")

            await tap.sandbox.setResponseDelay(.zero)
            let restarted = try await ServerProcess(database: database, directory: directory.url)
            defer { if restarted.process.isRunning { restarted.signal(SIGKILL) } }
            let toldInTime = try await QuickBooksTap.eventually("billing is told of the bookkeeper's change") {
                let told = try await Self.changesTold(in: database)
                let waiting = try await Self.waiting(in: database)
                return !told.isEmpty && waiting == 0
            }
            try #require(toldInTime)
            let told = try await Self.changesTold(in: database)
            #expect(told.count == 1, "\(told)")
            #expect(told.first?["type"] == "ledger.invoice.changed")
            #expect(told.first?["data"]?["invoice_id"] == "inv_1")
            #expect(told.first?["data"]?["data"]?["due_date"] == "2026-12-01")
            // Heard from the webhook, not from a poll.
            let sources = try await DatabaseQueue(path: database).read { db in
                try String.fetchAll(
                    db, sql: "SELECT source FROM remote_changes WHERE remote_id = ? AND status = 'applied'",
                    arguments: [invoiceID])
            }
            #expect(sources == ["webhook"])
            let operationsAfter = try await QuickBooksTap.api(
                restarted, "GET", "/sync-operations?integration_id=\(integration)"
            ).json["items"]?.arrayValue?.count
            #expect(operationsAfter == operationsBefore)
            restarted.signal(SIGTERM)
            _ = try await restarted.waitForExit()
        }
    }

    /// The `ledger.*` events billing is sent, oldest first.
    static func changesTold(in path: String) async throws -> [JSONValue] {
        try await DatabaseQueue(path: path).read { db in
            try String.fetchAll(db, sql: "SELECT payload FROM events WHERE type LIKE 'ledger.%' ORDER BY seq")
                .map { try JSONValue(parsing: Array($0.utf8)) }
        }
    }

    /// Notifications acknowledged and not yet fetched, and changes fetched and not yet handled.
    static func waiting(in path: String) async throws -> Int {
        try await DatabaseQueue(path: path).read { db in
            try Int.fetchOne(
                db,
                sql: """
                    SELECT (SELECT COUNT(*) FROM ledger_notifications WHERE status = 'pending')
                        + (SELECT COUNT(*) FROM remote_changes WHERE status = 'pending')
                    """) ?? 0
        }
    }
}
