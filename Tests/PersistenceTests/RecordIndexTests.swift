import Accounting
import Foundation
import GRDB
import TestSupport
import Testing

@testable import Persistence

/// What ingestion keeps for the dashboard beside each stored version — the terms a record is searched by and the
/// codes billing uses — is written with the transaction that stores it, and only for what that transaction kept.
@Suite struct RecordIndexTests {
    let tenant = Tenant.ID("school")

    func invoice(_ id: String, number: String, customer: String, account: String) -> SyncCommand {
        SyncCommand(
            tenantID: tenant, recordType: .invoice, localID: id, action: .upsert,
            updatedAt: Timestamp(secondsSinceEpoch: 100),
            data: [
                "id": .string(id), "number": .string(number), "customer_id": .string(customer),
                "lines": [["revenue_account": .string(account), "tax_code": "GST18", "course_id": "grade-6"]],
            ])
    }

    func customer(_ id: String, name: String) -> SyncCommand {
        SyncCommand(
            tenantID: tenant, recordType: .customer, localID: id, action: .upsert,
            updatedAt: Timestamp(secondsSinceEpoch: 100), data: ["id": .string(id), "name": .string(name)])
    }

    func delivery(_ webhookID: String, _ content: IncomingDelivery.Content) -> IncomingDelivery {
        IncomingDelivery(
            source: "billing", webhookID: webhookID, receivedAt: .now(), tenantID: tenant,
            eventType: "invoice.issued", headers: [:], body: Array("{}".utf8), content: content)
    }

    func found(_ text: String, in database: AppDatabase) async throws -> [String] {
        try await database.searchRecords(text, tenantID: tenant.rawValue, page: PageRequest()).items.map(\.localID)
    }

    @Test func aBatchIsFoundByIdNumberCustomerAndNameAndItsCodesAreKnown() async throws {
        let database = try AppDatabase.inMemory()
        let outcomes = try await database.record([
            delivery(
                "msg_1",
                .commands([
                    customer("cus_1", name: "Asha Rao"),
                    invoice("inv_1", number: "B-1", customer: "cus_1", account: "4000"),
                ])),
            delivery("msg_2", .commands([invoice("inv_2", number: "B-2", customer: "cus_1", account: "4100")])),
            delivery("msg_3", .commands([customer("cus_2", name: "Ravi Iyer")])),
        ])
        #expect(try outcomes.map { try $0.get().status } == [.accepted, .accepted, .accepted])

        #expect(try await found("B-2", in: database) == ["inv_2"])
        #expect(try await found("inv_1", in: database) == ["inv_1"])
        #expect(try await found("cus_1", in: database) == ["cus_1", "inv_1", "inv_2"])
        #expect(try await found("asha", in: database) == ["cus_1", "inv_1", "inv_2"])
        #expect(try await found("RAVI", in: database) == ["cus_2"])
        let codes = try await database.billingCodes(tenantID: tenant.rawValue)
        #expect(codes[.account] == ["4000", "4100"])
        #expect(codes[.taxCode] == ["GST18"])
        #expect(codes[.item] == ["grade-6"])
    }

    /// A delivery that fails after its versions were gathered leaves no term and no code behind: the rest of its
    /// batch commits with theirs.
    @Test func aFailedDeliveryLeavesNothingIndexed() async throws {
        let database = try AppDatabase.inMemory()
        try await database.writer.write { db in
            try db.execute(
                sql: """
                    CREATE TRIGGER poison BEFORE INSERT ON integration_audit_log WHEN NEW.entity_id = 'poison'
                    BEGIN SELECT RAISE(ABORT, 'poisoned'); END
                    """)
        }
        let outcomes = try await database.record([
            delivery("msg_1", .commands([customer("cus_1", name: "Asha Rao")])),
            delivery(
                "msg_2",
                .commands([
                    customer("cus_2", name: "Ravi Iyer"),
                    invoice("poison", number: "B-9", customer: "cus_2", account: "9999-POISON"),
                ])),
            delivery("msg_3", .commands([invoice("inv_3", number: "B-3", customer: "cus_1", account: "4000")])),
        ])
        #expect(try outcomes[0].get().status == .accepted)
        #expect(throws: (any Error).self) { try outcomes[1].get() }
        #expect(try outcomes[2].get().status == .accepted)

        let orphans = try await database.writer.read { db in
            try String.fetchAll(
                db, sql: "SELECT term FROM record_search WHERE record_id NOT IN (SELECT id FROM records) ORDER BY term")
        }
        #expect(orphans == [])
        #expect(try await found("asha", in: database) == ["cus_1", "inv_3"])
        #expect(try await database.billingCodes(tenantID: tenant.rawValue)[.account] == ["4000"])
    }

    @Test func aCorrectedDeliveryIsFoundOnceReplayed() async throws {
        let database = try AppDatabase.inMemory()
        let rejected = try await database.record([
            delivery("msg_1", .rejected([FieldError(field: "data.number", message: "must be a string")]))
        ])[0].get()
        #expect(rejected.status == .rejected)
        #expect(try await found("B-7", in: database) == [])

        let replayed = try await database.replayDelivery(
            id: rejected.deliveryID, tenantID: nil,
            content: .commands([invoice("inv_7", number: "B-7", customer: "cus_7", account: "4200")]),
            correctedBody: Array(#"{"corrected":true}"#.utf8), deliveryTenantID: tenant, eventType: "invoice.issued",
            actor: "admin:test", at: .now())
        #expect(replayed.status == .accepted)
        #expect(try await found("B-7", in: database) == ["inv_7"])
        #expect(try await database.billingCodes(tenantID: tenant.rawValue)[.account] == ["4200"])
    }
}
