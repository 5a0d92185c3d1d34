import Accounting
import Connectors
import Persistence
import SyncEngine
import TestSupport
import Testing

/// Connectors declare the record types they keep in the books: a record of another type queues no job for their
/// integrations.
@Suite struct RecordTypeTests: SyncScenario {
    let clock = ManualClock()
    let tenant = "school"

    @Test func aRecordTypeAConnectorDoesNotDeclareGetsNoJobForItsIntegrations() async throws {
        // A platform that keeps customers and invoices, not payments, beside QuickBooks Online (which keeps all).
        let customersAndInvoices = ScriptedConnector(
            platform: .xero,
            capabilities: ConnectorCapabilities(
                webhooks: false, maximumBatchSize: 1, changeFeed: false, recordTypes: [.customer, .invoice]))
        let registry = ConnectorRegistry(connectors: [QuickBooksOnlineConnector(), customersAndInvoices])
        let database = try AppDatabase.inMemory().pushing(registry.recordTypes)
        var integrations: [Platform: Integration] = [:]
        for platform in [Platform.quickBooksOnline, .xero] {
            let integration = try await database.createIntegration(
                tenantID: tenant, platform: platform, name: "Books", settings: [:], box: box, actor: "test",
                at: clock.now())
            try await database.setIntegrationStatus(id: integration.id, to: .connected, actor: "test", at: clock.now())
            integrations[platform] = integration
        }
        let payment = SyncCommand(
            tenantID: Tenant.ID(tenant), recordType: .payment, localID: "pay_1", action: .upsert,
            updatedAt: Timestamp(secondsSinceEpoch: 1_795_000_100),
            data: [
                "id": "pay_1", "customer_id": "cus_1", "currency": "INR", "amount": "100.00",
                "received_at": "2026-11-20T10:00:00Z", "method": "upi", "deposit_account": "1100-BANK",
                "allocations": [], "updated_at": "2026-11-20T10:00:00Z",
            ])
        try await deliver(database, "msg_1", [customer("cus_1"), payment])

        let jobs = try await database.jobs(status: .pending, page: PageRequest()).items
        let quickBooks = try #require(integrations[.quickBooksOnline]).id
        let xero = try #require(integrations[.xero]).id
        #expect(
            Set(jobs.filter { $0.integrationID == quickBooks }.map(\.localID)) == ["cus_1", "pay_1"],
            "QuickBooks Online keeps payments: its integration gets the payment's job")
        #expect(
            jobs.filter { $0.integrationID == xero }.map(\.localID) == ["cus_1"],
            "the platform that does not keep payments gets its customer's job only")
    }
}
