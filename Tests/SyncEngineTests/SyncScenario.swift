import Accounting
import Connectors
import GRDB
import Logging
import SyncEngine
import TestSupport
import Testing

@testable import Persistence

/// What the engine's test suites share: a tenant, a manual clock, integrations, billing deliveries and an engine.
protocol SyncScenario {
    var clock: ManualClock { get }
    var tenant: String { get }
}

extension SyncScenario {
    /// A database with `count` connected QuickBooks Online integrations of the tenant, whose accounts are mapped.
    func setUp(
        integrations count: Int = 1, maxAttempts: Int = 3, mapped: Bool = true, customerInTheBooks: Bool = true,
        policy: Integration.ConflictPolicy = .lastModifiedWins
    ) async throws
        -> (AppDatabase, [Integration])
    {
        let database = try AppDatabase.inMemory()
        var integrations: [Integration] = []
        for index in 0..<count {
            let integration = try await database.createIntegration(
                tenantID: tenant, platform: .quickBooksOnline, name: "Books \(index)",
                settings: [
                    "client_id": "client-1", "client_secret": "secret-1",
                    "redirect_uri": "https://ledgerwire.test/oauth/callback",
                ],
                sync: .init(conflictPolicy: policy, maxAttempts: maxAttempts), box: box, actor: "test", at: clock.now())
            try await database.setIntegrationStatus(id: integration.id, to: .connected, actor: "test", at: clock.now())
            if mapped {
                try await database.saveMappings(
                    integrationID: integration.id,
                    CodeMappings(accounts: ["4000-TUITION": "79"], taxCodes: ["GST18": "5"]), actor: "test",
                    at: clock.now())
            }
            integrations.append(integration)
        }
        if customerInTheBooks { try await putCustomerInTheBooks(database) }
        return (database, integrations)
    }

    /// Billing's customer `cus_1` (whom `invoice(_:)` bills), already in every integration's books as `C1`.
    func putCustomerInTheBooks(_ database: AppDatabase) async throws {
        try await deliver(database, "msg_customer", [customer("cus_1")])
        try await database.writer.write { db in
            try db.execute(
                sql: """
                    INSERT INTO synchronized_records (id, record_id, integration_id, remote_id, status, last_synced_at)
                    SELECT 'lnk_' || j.id, j.record_id, j.integration_id, 'C1', 'synced', j.created_at FROM jobs j
                    """)
            try db.execute(sql: "DELETE FROM jobs")
        }
    }

    func customer(_ id: String, at seconds: Int64 = 1_795_000_000) -> SyncCommand {
        SyncCommand(
            tenantID: Tenant.ID(tenant), recordType: .customer, localID: id, action: .upsert,
            updatedAt: Timestamp(secondsSinceEpoch: seconds),
            data: [
                "id": .string(id), "name": "Asha Rao",
                "updated_at": .string(Timestamp(secondsSinceEpoch: seconds).rfc3339),
            ])
    }

    func invoice(_ id: String, total: String = "53100.00", at seconds: Int64 = 1_795_000_000) -> SyncCommand {
        SyncCommand(
            tenantID: Tenant.ID(tenant), recordType: .invoice, localID: id, action: .upsert,
            updatedAt: Timestamp(secondsSinceEpoch: seconds),
            data: [
                "id": .string(id), "number": "INV-1", "customer_id": "cus_1", "currency": "INR",
                "issue_date": "2026-11-20",
                "lines": [
                    [
                        "id": "line_1", "description": "Tuition", "quantity": 1, "unit_amount": "45000.00",
                        "revenue_account": "4000-TUITION", "tax_code": "GST18", "amount": "45000.00",
                    ]
                ],
                "subtotal": "45000.00", "tax_total": "8100.00", "total": .string(total),
                "updated_at": .string(Timestamp(secondsSinceEpoch: seconds).rfc3339),
            ]
        )
    }

    func deliver(_ database: AppDatabase, _ webhookID: String, _ commands: [SyncCommand]) async throws {
        let outcome = try await database.record([
            IncomingDelivery(
                source: "billing", webhookID: webhookID, receivedAt: clock.now(), tenantID: Tenant.ID(tenant),
                eventType: "invoice.issued", headers: [:], body: Array("{}".utf8), content: .commands(commands))
        ])[0].get()
        #expect(outcome.status != .rejected)
    }

    var box: SecretBox { try! SecretBox(masterKey: Array(repeating: 7, count: 32)) }

    /// The engine's token store, refreshing at `authority` (by default one nobody has tokens from).
    func tokens(_ database: AppDatabase, _ connector: ScriptedConnector, authority: TokenAuthority? = nil) -> TokenStore
    {
        TokenStore(
            database: database, box: box, transport: authority ?? TokenAuthority(now: clock.now),
            connectors: [connector], clock: clock, logger: quietLogger)
    }

    func engine(
        _ database: AppDatabase, _ connector: ScriptedConnector, worker: String = "w1", lease: Duration = .seconds(60),
        concurrency: Int = 8, perIntegration: Int = 4, tokens: TokenStore? = nil
    ) -> SyncEngine {
        SyncEngine(
            database: database, connectors: [connector],
            tokens: tokens ?? self.tokens(database, connector, authority: connector.authority), workerID: worker,
            retry: RetryStrategy(base: .seconds(2), cap: .seconds(60)),
            limits: .init(concurrency: concurrency, perIntegration: perIntegration, lease: lease), clock: clock,
            logger: quietLogger)
    }

    /// A sync-operation runner that reads `connector`'s change feed.
    func runner(_ database: AppDatabase, _ connector: ScriptedConnector, worker: String = "s1") -> SyncOperationRunner {
        SyncOperationRunner(
            database: database, workerID: worker,
            platforms: PlatformAccess(connectors: [connector], tokens: tokens(database, connector)), clock: clock,
            retry: RetryStrategy(base: .seconds(2), cap: .seconds(60)), logger: quietLogger)
    }

    /// Polls the integration's change feed once (an incremental sync, run to its end or its first failure).
    @discardableResult
    func poll(_ runner: SyncOperationRunner, _ database: AppDatabase, _ integration: Integration) async throws
        -> SyncOperation
    {
        let operation = try #require(
            try await database.requestSync(
                integrationID: integration.id, tenantID: nil, mode: .incremental, actor: "test", at: clock.now()))
        try await runner.runDueOperation()
        return try #require(try await database.syncOperation(id: operation.id, tenantID: nil))
    }

    /// The data of the events of `type` emitted so far, oldest first.
    func events(_ database: AppDatabase, _ type: EventType) async throws -> [JSONValue] {
        try await database.events(tenantID: nil, type: type.rawValue, page: try PageRequest(limit: 500)).items
            .compactMap {
                $0["data"]
            }
    }

    var quietLogger: Logger {
        var logger = Logger(label: "test.sync")
        logger.logLevel = .critical
        return logger
    }

    /// Runs due jobs, moving the clock a minute at a time, until none is pending.
    func drain(_ engine: SyncEngine, _ database: AppDatabase) async throws {
        for _ in 0..<50 {
            try await engine.runDueJobs()
            if try await database.jobs(status: .pending, page: PageRequest()).items.isEmpty { return }
            clock.advance(by: .seconds(60))
        }
        Issue.record("jobs still pending after 50 minutes")
    }
}
