import Foundation
import TestSupport
import Testing

/// `ledgerwire serve` with an integration and a webhook subscription both pointed at a tarpit (headers, then a
/// byte every half second): SIGTERM still ends it within its budget of 10 s (event deliveries are cut short at
/// once, jobs after a 5 s grace; both are taken over once their leases expire).
@Suite(.serialized) struct OutboundShutdownProcessTests {
    static let budget = Duration.seconds(10)

    static func event(_ type: String, _ data: String) -> [UInt8] {
        Array(#"{"type":"\#(type)","timestamp":"2026-11-21T09:00:00Z","tenant_id":"tarpit","data":\#(data)}"#.utf8)
    }

    @Test(.timeLimit(.minutes(2))) func sigtermExitsWithinItsBudgetWhileOutboundCallsHangOnATarpit() async throws {
        // It lets the integration connect (the company is confirmed), then stalls every other call.
        let tarpit = try Tarpit(
            .drip(interval: .milliseconds(500)),
            answering: ["/companyinfo/": #"{"CompanyInfo":{"Id":"4620816365037572"}}"#])
        defer { tarpit.stop() }
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (server, signer) = try await ServeProcessTests.startServer(in: directory)
        let admin = ["authorization": "Bearer \(ServerProcess.adminToken)", "content-type": "application/json"]

        let subscribed = await server.call(
            "POST", "/api/v1/webhook-subscriptions", headers: admin,
            body: Array(#"{"url":"\#(tarpit.url)/hooks","event_types":["*"]}"#.utf8))
        #expect(subscribed?.0 == 201)
        let created = await server.call(
            "POST", "/api/v1/integrations", headers: admin,
            body: Array(
                #"""
                {"tenant_id":"tarpit","platform":"quickbooks_online","name":"Tarpit books",
                 "settings":{"api_base_url":"\#(tarpit.url)"}}
                """#.utf8))
        let integration = try #require(
            created.flatMap { try? JSONSerialization.jsonObject(with: $0.1) as? [String: Any] }?["id"] as? String)
        let connected = await server.call(
            "PUT", "/api/v1/integrations/\(integration)/credentials", headers: admin,
            body: Array(
                #"{"access_token":"at","expires_at":"2099-01-01T00:00:00Z","realm_id":"4620816365037572"}"#.utf8))
        #expect(connected?.0 == 200)

        // A customer to push (the platform call hangs) and an invoice whose accounts are not mapped (its
        // sync.needs_mapping event goes to the subscription, whose delivery hangs).
        let customer = Self.event(
            "customer.created",
            #"{"id":"cus_1","name":"Priya","currency":"INR","updated_at":"2026-11-21T09:00:00Z"}"#)
        let invoice = Self.event(
            "invoice.issued",
            #"""
            {"id":"inv_1","number":"T-1","customer_id":"cus_1","currency":"INR","issue_date":"2026-11-03",
             "due_date":"2026-11-17","lines":[{"id":"line_1","description":"Term 2 tuition","quantity":1,
             "unit_amount":"45000.00","amount":"45000.00","revenue_account":"4000-TUITION","tax_code":"GST18",
             "tax_amount":"8100.00"}],"subtotal":"45000.00","tax_total":"8100.00","total":"53100.00",
             "updated_at":"2026-11-21T09:00:00Z"}
            """#)
        for (id, body) in [("msg_c", customer), ("msg_i", invoice)] {
            var headers = signer.headers(for: body, id: id)
            headers["content-type"] = "application/json"
            let answer = await server.call("POST", "/webhooks/billing", headers: headers, body: body)
            #expect(answer?.0 == 200, "\(String(decoding: answer?.1 ?? Data(), as: UTF8.self))")
        }

        let deadline = ContinuousClock.now + .seconds(30)
        func reached() -> Bool {
            let requests = tarpit.requests
            return requests.contains { $0.hasPrefix("POST /hooks ") }
                && requests.contains { $0.contains("/v3/company/4620816365037572/") && !$0.contains("/companyinfo/") }
        }
        while !reached() {
            guard ContinuousClock.now < deadline else {
                Issue.record("the platform call and the event delivery did not both reach the tarpit")
                break
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        let signalled = ContinuousClock.now
        server.signal(SIGTERM)
        let exit = try await server.waitForExit(within: .seconds(30))
        let took = ContinuousClock.now - signalled
        #expect(exit.status == 0)
        #expect(took < Self.budget, "SIGTERM took \(took)")
    }
}
