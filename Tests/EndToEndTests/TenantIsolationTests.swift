import Accounting
import Foundation
import Persistence
import Sandbox
import Testing

/// Two schools, each with its own QuickBooks company: a key scoped to one school neither sees nor touches the
/// other's jobs, audit, sync operations, records, conflicts, deliveries or integration (404 by id, absent from
/// lists), and each school's invoices land in its own company only.
@Suite struct TenantIsolationTests {
    typealias World = QuickBooksWorld

    static let schoolA = "school-a"
    static let schoolB = "school-b"
    static let realmA = "4620816365000000001"
    static let realmB = "4620816365000000002"

    @Test func aTenantsKeyCannotSeeOrTouchAnotherTenantsRealm() async throws {
        try await World.run { world in
            for (tenant, prefix) in [(Self.schoolA, "a"), (Self.schoolB, "b")] {
                try await world.bill(
                    "customer.created", World.customer("cus_\(prefix)", name: "Family \(prefix)"), tenant: tenant)
                try await world.bill(
                    "invoice.issued",
                    World.invoice("inv_\(prefix)", number: "\(prefix.uppercased())-0001", customer: "cus_\(prefix)"),
                    tenant: tenant)
            }
            let integrationA = try await world.connect(tenant: Self.schoolA, realm: Self.realmA)
            let integrationB = try await world.connect(
                tenant: Self.schoolB, realm: Self.realmB, conflictPolicy: "manual")
            for integration in [integrationA, integrationB] {
                _ = try await world.mapAccounts(integration)
                try await world.fullSync(integration)
            }

            // Each school's pushes landed in its own company only.
            let numbers = { (realm: String) in
                await world.sandbox.objects(realmID: realm, entity: "Invoice").compactMap {
                    $0["DocNumber"]?.stringValue
                }
            }
            #expect(await numbers(Self.realmA) == ["A-0001"])
            #expect(await numbers(Self.realmB) == ["B-0001"])
            let customers = { (realm: String) in
                await world.sandbox.objects(realmID: realm, entity: "Customer").compactMap {
                    $0["DisplayName"]?.stringValue
                }
            }
            #expect(await customers(Self.realmA).allSatisfy { !$0.contains("Family b") })
            #expect(await customers(Self.realmB).allSatisfy { !$0.contains("Family a") })

            // School B: billing and the bookkeeper both change the invoice; B's policy holds the conflict.
            try await world.bill(
                "invoice.updated",
                World.invoice("inv_b", number: "B-0001", customer: "cus_b").merging(["due_date": "2026-11-30"]),
                tenant: Self.schoolB)
            let invoiceB = try #require(await world.sandbox.objects(realmID: Self.realmB, entity: "Invoice").first)
            let edited = try await world.bookkeeper(
                "POST", "invoice",
                [
                    "Id": invoiceB["Id"] ?? .null, "SyncToken": invoiceB["SyncToken"] ?? .null, "sparse": true,
                    "DueDate": "2026-12-01",
                ], realm: Self.realmB)
            #expect(edited.status == 200, "\(edited.json)")
            try await world.announce()
            try await world.hearFromTheBooks()

            // What B has, as the unscoped admin sees it.
            let admin = Viewer(world: world, token: QuickBooksWorld.adminToken)
            let jobB = try #require(try await admin.items("/jobs?integration_id=\(integrationB)").first?["id"])
            let operationB = try #require(
                try await admin.items("/sync-operations?integration_id=\(integrationB)").first?["id"])
            let recordB = try #require(
                try await admin.items("/records?tenant_id=\(Self.schoolB)&type=invoice").first?["id"])
            let conflictB = try #require(
                try await admin.items("/conflicts?status=open").first {
                    $0["integration_id"] == .string(integrationB)
                }?[
                    "id"])
            let deliveryB = try #require(
                try await admin.items("/deliveries?tenant_id=\(Self.schoolB)").first?["id"])
            #expect(try await admin.items("/audit?integration_id=\(integrationB)").isEmpty == false)
            let jobBefore = try await admin.get("/jobs/\(jobB.stringValue ?? "")").json

            // A's own key, as powerful as a key of A can be.
            let key = try await world.api(
                "POST", "/api-keys", ["name": "school A admin", "role": "admin", "tenant_id": .string(Self.schoolA)])
            let a = Viewer(world: world, token: try #require(key.json["token"]?.stringValue, "\(key.json)"))

            // A sees its own: the checks below cannot pass by seeing nothing at all.
            #expect(try await a.get("/integrations/\(integrationA)").status == 200)
            #expect(try await a.items("/records?type=invoice").count == 1)
            #expect(try await a.items("/jobs").isEmpty == false)
            #expect(try await a.items("/sync-operations").isEmpty == false)
            #expect(try await a.items("/audit").isEmpty == false)
            #expect(try await a.items("/deliveries").isEmpty == false)

            // By list, B's are nowhere, whatever filter A asks for.
            for path in [
                "/integrations", "/integrations?tenant_id=\(Self.schoolB)", "/jobs",
                "/jobs?integration_id=\(integrationB)",
                "/sync-operations", "/sync-operations?integration_id=\(integrationB)", "/records",
                "/records?tenant_id=\(Self.schoolB)", "/records?integration_id=\(integrationB)", "/conflicts",
                "/conflicts?integration_id=\(integrationB)", "/audit", "/audit?integration_id=\(integrationB)",
                "/audit?tenant_id=\(Self.schoolB)", "/deliveries", "/deliveries?tenant_id=\(Self.schoolB)",
            ] {
                let items = try await a.items(path)
                let leaked = items.filter {
                    $0["tenant_id"] == .string(Self.schoolB) || $0["integration_id"] == .string(integrationB)
                        || $0["id"] == .string(integrationB)
                }
                #expect(leaked.isEmpty, "\(path) shows school B's: \(leaked)")
                #expect(items.allSatisfy { $0["tenant_id"] == .string(Self.schoolA) }, "\(path): \(items)")
            }

            // By id, B's do not exist for A: 404, not 403.
            let ids = [jobB, operationB, recordB, conflictB, deliveryB].map { $0.stringValue ?? "" }
            for path in [
                "/integrations/\(integrationB)", "/integrations/\(integrationB)/mappings",
                "/integrations/\(integrationB)/remote-accounts", "/integrations/\(integrationB)/connect",
                "/jobs/\(ids[0])", "/sync-operations/\(ids[1])", "/records/\(ids[2])", "/records/\(ids[2])/versions",
                "/conflicts/\(ids[3])", "/deliveries/\(ids[4])",
            ] {
                let answer = try await a.get(path)
                #expect(answer.status == 404, "GET \(path) as school A: \(answer.status) \(answer.json)")
            }

            // Nor can A act on them: each is 404, and B's things are as they were.
            let actions: [(String, String, JSONValue?)] = [
                ("POST", "/jobs/\(ids[0])/retry", nil),
                ("POST", "/conflicts/\(ids[3])/resolve", ["resolution": "use_local"]),
                ("POST", "/deliveries/\(ids[4])/replay", nil),
                ("POST", "/integrations/\(integrationB)/sync", ["mode": "full"]),
                ("PATCH", "/integrations/\(integrationB)", ["name": "taken over"]),
                ("PUT", "/integrations/\(integrationB)/mappings", ["accounts": [:]]),
                (
                    "PUT", "/integrations/\(integrationB)/credentials",
                    [
                        "access_token": "stolen", "refresh_token": "stolen", "expires_at": "2027-01-01T00:00:00Z",
                        "realm_id": .string(Self.realmA),
                    ]
                ),
                ("DELETE", "/integrations/\(integrationB)", nil),
            ]
            let operationsBefore = try await admin.items("/sync-operations?integration_id=\(integrationB)").count
            for (method, path, json) in actions {
                let answer = try await world.call(
                    method, world.ledgerwire + "/api/v1" + path, token: a.token, json: json)
                #expect(answer.status == 404, "\(method) \(path) as school A: \(answer.status) \(answer.json)")
            }
            let integration = try await admin.get("/integrations/\(integrationB)").json
            #expect(integration["name"]?.stringValue == "\(Self.schoolB) books" && integration["status"] == "connected")
            #expect(integration["remote_tenant_id"] == .string(Self.realmB))
            #expect(try await admin.get("/conflicts/\(ids[3])").json["status"] == "open")
            #expect(try await admin.get("/jobs/\(ids[0])").json == jobBefore)
            #expect(try await admin.items("/sync-operations?integration_id=\(integrationB)").count == operationsBefore)
            let mappings = try await admin.get("/integrations/\(integrationB)/mappings").json
            #expect(mappings["accounts"]?.objectValue?.isEmpty == false, "\(mappings)")
            #expect(await numbers(Self.realmA) == ["A-0001"])
        }
    }

    /// The admin API as one key sees it.
    struct Viewer {
        let world: QuickBooksWorld
        let token: String

        func get(_ path: String) async throws -> QuickBooksWorld.Answer {
            try await world.call("GET", world.ledgerwire + "/api/v1" + path, token: token)
        }

        /// Every item of a list, through all its pages.
        func items(_ path: String) async throws -> [JSONValue] {
            var items: [JSONValue] = []
            var cursor: String?
            repeat {
                let separator = path.contains("?") ? "&" : "?"
                let page = try await get(path + (cursor.map { "\(separator)cursor=\($0)" } ?? ""))
                #expect(page.status == 200, "GET \(path): \(page.status) \(page.json)")
                items += page.json["items"]?.arrayValue ?? []
                cursor = page.json["next_cursor"]?.stringValue
            } while cursor != nil
            return items
        }
    }
}
