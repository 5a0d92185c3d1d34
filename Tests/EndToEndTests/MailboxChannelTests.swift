import Accounting
import App
import Connectors
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Persistence
import Sandbox
import SyncEngine
import TestSupport
import Testing

/// A platform that answers later, through the mailbox channel (issue 14): `MailboxBooks` from the sandbox, whose
/// agent calls Ledgerwire. A customer and its invoice go push → `awaiting_platform` → the agent's reply → succeeded,
/// with Ledgerwire restarted while the first message waits in the mailbox, and a reply lost on its way back: each is
/// in the books once, the invoice to the paisa.
@Suite struct MailboxChannelTests {
    static let adminToken = "mailbox-admin-token-0123456789-abcdefgh"
    static let tenant = "greenfield"

    /// One life of Ledgerwire on the database file: its server on loopback and its engine, driven by the test.
    struct Life {
        let database: AppDatabase
        let engine: SyncEngine
        let url: String
        let transport = HTTPClientTransport(
            policy: DestinationPolicy(allowsInsecure: true, allowsPrivateNetworks: true))

        func api(_ method: String, _ path: String, _ json: JSONValue? = nil, token: String = adminToken)
            async throws -> (status: Int, json: JSONValue)
        {
            var headers = [("Authorization", "Bearer \(token)")]
            if json != nil { headers.append(("Content-Type", "application/json")) }
            let response = try await transport.send(
                TransportRequest(
                    method: method, url: URL(string: url + "/api/v1" + path)!, headers: headers,
                    body: json.map { Data($0.canonicalBytes) }))
            return (response.status, (try? JSONValue(parsing: response.body)) ?? .null)
        }

        /// Runs the workers until a round claims nothing.
        func runJobs() async throws {
            while try await engine.runDueJobs() > 0 {}
        }

        func job(_ type: String, _ localID: String) async throws -> Job? {
            try await database.jobs(page: PageRequest(limit: 100)).items.first {
                $0.recordType == type && $0.localID == localID
            }
        }
    }

    /// Runs `body` with Ledgerwire up on the database file at `path`, serving QuickBooks Online and the mailbox books.
    static func live<Value: Sendable>(path: String, _ body: @Sendable (Life) async throws -> Value) async throws
        -> Value
    {
        var configuration = ServerConfiguration()
        configuration.adminToken = adminToken
        configuration.port = 0
        configuration.runsWorkers = false
        let box = try SecretBox(masterKey: Array(repeating: 7, count: 32))
        let registry = ConnectorRegistry.standard.with(
            connectors: ConnectorRegistry.standard.connectors + [MailboxBooksConnector()])
        let components = Components(
            configuration: configuration, database: try AppDatabase.open(path: path, auditKey: box.auditKey), box: box,
            registry: registry)
        let app = buildApplication(configuration: configuration, components: components, logger: Logger(label: "mbx"))
        var quiet = Logger(label: "mbx.sync")
        quiet.logLevel = .critical
        let engine = SyncEngine(
            database: components.database, connectors: components.connectors, tokens: components.tokens,
            workerID: "w-\(UUID().uuidString.prefix(8))", logger: quiet)
        return try await app.test(.live) { client in
            try await body(Life(database: components.database, engine: engine, url: "http://127.0.0.1:\(client.port!)"))
        }
    }

    /// A database file of its own, removed after `body`.
    static func withDatabaseFile(_ body: (String) async throws -> Void) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ledgerwire-mailbox-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try await body(directory.appendingPathComponent("ledgerwire.sqlite").path)
    }

    @Test func aCustomerAndItsInvoiceSyncThroughTheMailboxOnceAcrossARestart() async throws {
        try await Self.withDatabaseFile { path in try await syncThroughTheMailbox(path: path) }
    }

    func syncThroughTheMailbox(path: String) async throws {
        let books = MailboxBooks()
        let signer = Signer()
        let (agent, messageID) = try await Self.live(path: path) { life in
            #expect(
                try await life.api("POST", "/webhook-sources", ["source": "billing", "secret": .string(signer.secret)])
                    .status == 201)
            let key = try await life.api(
                "POST", "/api-keys", ["name": "books agent", "role": "operator", "tenant_id": .string(Self.tenant)])
            let created = try await life.api(
                "POST", "/integrations",
                [
                    "tenant_id": .string(Self.tenant), "platform": .string(Platform.mailboxBooks.rawValue),
                    "name": "Office books",
                ])
            #expect(created.status == 201, "\(created.json)")
            #expect(created.json["status"] == "pending")
            let integrationID = try #require(created.json["id"]?.stringValue)
            let agent = MailboxAgent(
                ledgerwire: URL(string: life.url)!, integrationID: integrationID,
                apiKey: try #require(key.json["token"]?.stringValue), books: books)
            // The agent's first call connects the integration; nothing waits for it yet.
            #expect(try await agent.run() == 0)
            #expect(try await life.api("GET", "/integrations/\(integrationID)").json["status"] == "connected")

            try await Self.bill(
                life, signer, "customer.created", QuickBooksWorld.customer("cus_1", name: "Priya Sharma"))
            try await Self.bill(
                life, signer, "invoice.issued", QuickBooksWorld.invoice("inv_1", number: "GF-0001", customer: "cus_1"))
            try await life.runJobs()

            // The customer's first message (the look-up for one to adopt) is in the mailbox; the job holds no lease
            // and has used no attempt; the invoice waits for its customer.
            let customerJob = try #require(try await life.job("customer", "cus_1"))
            #expect(customerJob.status == .awaitingPlatform)
            #expect(customerJob.attempts == 0 && customerJob.leaseOwner == nil)
            let awaiting = try await life.api("GET", "/jobs?status=awaiting_platform")
            #expect(awaiting.json["items"]?.arrayValue?.count == 1)
            #expect(try await life.job("invoice", "inv_1")?.status == .pending)
            let mailbox = try await life.api("GET", "/integrations/\(integrationID)/mailbox")
            let messages = try #require(mailbox.json["items"]?.arrayValue)
            #expect(messages.count == 1)
            #expect(messages.first?["body"]?.stringValue?.contains("find_customers") == true)
            #expect(await books.customers.isEmpty)
            return (agent, try #require(messages.first?["id"]?.stringValue))
        }

        // Ledgerwire restarts with the message still unanswered.
        try await Self.live(path: path) { life in
            // The restarted server listens on a port of its own (a real one keeps its address).
            var agent = agent
            agent.ledgerwire = URL(string: life.url)!
            #expect(try await life.job("customer", "cus_1")?.status == .awaitingPlatform)
            // The look-up is answered; a reply sent twice is taken once, a different one refused.
            #expect(try await agent.run() == 1)
            #expect(try await agent.reply(to: messageID, #"{"matches":[]}"#).status == 200)
            #expect(try await agent.reply(to: messageID, #"{"matches":[{"id":"C-9"}]}"#).status == 409)
            try await life.runJobs()
            // Then the customer's write: applied in the books, its answer lost on the way back, so the message stays;
            // the next run hands it out again and the books answer it from its key, without a second customer.
            #expect(try await life.job("customer", "cus_1")?.status == .awaitingPlatform)
            #expect(try await agent.run(losingReplies: 1) == 1)
            #expect(await books.customers.count == 1)
            try await life.runJobs()
            #expect(try await life.job("customer", "cus_1")?.status == .awaitingPlatform)
            #expect(try await agent.run() == 1)
            #expect(await books.repeatedWrites == 1)
            try await life.runJobs()
            // The customer is in: its invoice goes, and waits for the books in turn.
            #expect(try await life.job("customer", "cus_1")?.status == .succeeded)
            #expect(try await life.job("invoice", "inv_1")?.status == .awaitingPlatform)
            #expect(try await agent.run() == 1)
            try await life.runJobs()
            #expect(try await agent.run() == 0)

            let invoiceJob = try #require(try await life.job("invoice", "inv_1"))
            #expect(invoiceJob.status == .succeeded && invoiceJob.remoteID == "I-1" && invoiceJob.attempts == 1)
            let customers = await books.customers
            let invoices = await books.invoices
            #expect(customers.map(\.name) == ["Priya Sharma"])
            #expect(invoices.count == 1)
            #expect(invoices.first?.customerID == customers.first?.id)
            #expect(invoices.first?.number == "GF-0001")
            #expect(invoices.first?.total == (try Money(parsing: "57820.00", currency: Currency(code: "INR")!)))
            let records = try await life.api("GET", "/records?type=invoice&local_id=inv_1")
            #expect(records.json["items"]?[0]?["links"]?[0]?["remote_id"] == "I-1")
            // Three messages (the customer's look-up and write, the invoice's write), each audited as awaited and
            // as answered once, though one answer came twice and another was lost.
            let audit = try await life.database.auditEntries(page: PageRequest(limit: 500)).items.map(\.action)
            #expect(audit.filter { $0 == "job.awaiting_platform" }.count == 3)
            #expect(audit.filter { $0 == "platform.replied" }.count == 3)
        }
    }

    @Test func aPlatformCalledDirectlyHasNoMailbox() async throws {
        try await Self.withDatabaseFile { path in
            try await Self.live(path: path) { life in
                let created = try await life.api(
                    "POST", "/integrations",
                    ["tenant_id": .string(Self.tenant), "platform": "quickbooks_online", "name": "QBO"])
                let id = try #require(created.json["id"]?.stringValue)
                let answer = try await life.api("GET", "/integrations/\(id)/mailbox")
                #expect(answer.status == 409)
                #expect(answer.json["detail"]?.stringValue?.contains("not reached through a mailbox") == true)
            }
        }
    }

    static func bill(_ life: Life, _ signer: Signer, _ type: String, _ data: JSONValue) async throws {
        let body: JSONValue = [
            "type": .string(type), "timestamp": .string(Timestamp.now().rfc3339), "tenant_id": .string(tenant),
            "data": data,
        ]
        let bytes = body.canonicalBytes
        var headers = signer.headers(for: bytes, id: "msg_" + UUID().uuidString.lowercased())
        headers["Content-Type"] = "application/json"
        let response = try await life.transport.send(
            TransportRequest(
                method: "POST", url: URL(string: life.url + "/webhooks/billing")!, headers: headers.map { ($0, $1) },
                body: Data(bytes)))
        #expect(response.status < 300)
    }
}
