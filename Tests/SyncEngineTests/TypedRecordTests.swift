import Accounting
import Connectors
import Persistence
import SyncEngine
import Synchronization
import TestSupport
import Testing

/// The engine decodes a job's record once, when it claims the job, and hands the connector typed values.
@Suite struct TypedRecordTests: SyncScenario {
    let clock = ManualClock()
    let tenant = "school"

    @Test func theConnectorIsGivenTheTypedRecord() async throws {
        let (database, _) = try await setUp()
        let records = Mutex<[CanonicalRecord]>([])
        let connector = ScriptedConnector { request, _ in records.withLock { $0.append(request.record) } }
        try await deliver(database, "msg_1", [invoice("inv_1")])
        try await drain(engine(database, connector), database)
        guard case .invoice(let invoice)? = records.withLock({ $0.first }) else {
            Issue.record("no invoice pushed: \(records.withLock { $0 })")
            return
        }
        #expect(invoice.total == Money(minorUnits: 5_310_000, currency: Currency(code: "INR")!))
        #expect(invoice.issueDate == LocalDate(parsing: "2026-11-20"))
        #expect(invoice.lines.map(\.revenueAccount) == ["4000-TUITION"])
    }

    @Test func aStoredRecordThatDoesNotReadAsItsTypeFailsItsJobSayingWhy() async throws {
        let (database, _) = try await setUp()
        let connector = ScriptedConnector()
        let broken = SyncCommand(
            tenantID: Tenant.ID(tenant), recordType: .invoice, localID: "inv_9", action: .upsert,
            updatedAt: Timestamp(secondsSinceEpoch: 1_795_000_000),
            data: ["id": "inv_9", "number": "INV-9", "customer_id": "cus_1", "currency": "INR"])
        try await deliver(database, "msg_1", [broken])
        try await drain(engine(database, connector), database)
        let failed = try await database.jobs(status: .failed, page: PageRequest()).items
        #expect(failed.map(\.localID) == ["inv_9"])
        let error = try #require(failed.first?.lastError)
        #expect(error.code == "unreadable_record")
        #expect(error.message.contains("lines: is required"), "\(error.message)")
        #expect(connector.pushes.isEmpty, "nothing was sent to the books")
    }
}
