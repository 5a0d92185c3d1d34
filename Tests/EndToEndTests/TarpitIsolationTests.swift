import Accounting
import App
import Connectors
import Foundation
import Persistence
import SyncEngine
import TestSupport
import Testing

/// One integration whose "QuickBooks" is a tarpit (headers, then a byte every half second, forever) beside one on
/// the emulator: the healthy one keeps syncing while the other's calls hang.
@Suite struct TarpitIsolationTests {
    typealias World = QuickBooksWorld

    @Test(.timeLimit(.minutes(2))) func anIntegrationOnATarpitDoesNotHoldUpAnotherIntegrationsSync() async throws {
        // It lets the integration connect (the company is confirmed), then stalls every other call.
        let tarpit = try Tarpit(
            .drip(interval: .milliseconds(500)),
            answering: ["/companyinfo/": #"{"CompanyInfo":{"Id":"4620816365037572"}}"#])
        defer { tarpit.stop() }
        try await World.run { world in
            let healthy = try await world.connect()
            _ = try await world.mapAccounts(healthy)
            let stuck = try #require(
                try await world.api(
                    "POST", "/integrations",
                    [
                        "tenant_id": .string(World.tenant), "platform": "quickbooks_online", "name": "Tarpit books",
                        "settings": ["api_base_url": .string(tarpit.url), "environment": "sandbox"],
                    ]
                ).json["id"]?.stringValue)
            // Mapped before it is connected: the tarpit is never asked to check the ids.
            let mapped = try await world.api(
                "PUT", "/integrations/\(stuck)/mappings",
                ["accounts": ["4000-TUITION": "1", "4100-TRANSPORT": "2"], "tax_codes": ["GST18": "5"]])
            #expect(mapped.status == 200, "\(mapped.json)")
            let imported = try await world.api(
                "PUT", "/integrations/\(stuck)/credentials",
                ["access_token": "at", "expires_at": "2099-01-01T00:00:00Z", "realm_id": "4620816365037572"])
            #expect(imported.json["status"] == "connected", "\(imported.json)")

            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    try await WorkerService(engine: world.engine, pollInterval: .milliseconds(20)).run()
                }
                try await world.bill("customer.created", World.customer("cus_1", name: "Priya Raghavan"))
                try await eventually {
                    let customers = await world.objects("Customer")
                    let stalled = tarpit.requests.contains { !$0.contains("/companyinfo/") }
                    return stalled && customers.contains { $0["DisplayName"] == "Priya Raghavan" }
                }
                // The tarpit's push is hanging now; a later change for the healthy integration still goes through.
                try await world.bill("customer.created", World.customer("cus_2", name: "Asha Rao"))
                try await eventually(within: .seconds(15)) {
                    (await world.objects("Customer")).contains { $0["DisplayName"] == "Asha Rao" }
                }
                let running = try await world.components.database.jobs(
                    status: .running, page: PageRequest(limit: 10)
                ).items
                #expect(running.contains { $0.integrationID == stuck }, "the tarpit's job is still in flight")
                group.cancelAll()
            }
        }
    }

    @Test func savingAnIntegrationURLOutsideThePolicySaysWhichFieldAndWhy() async throws {
        try await World.run { world in
            // The world allows http to loopback; these are refused whatever the policy.
            let answer = try await world.api(
                "POST", "/integrations",
                [
                    "tenant_id": .string(World.tenant), "platform": "quickbooks_online", "name": "Metadata",
                    "settings": [
                        "api_base_url": "http://169.254.169.254/latest", "oauth_token_url": "https://u:p@example.com",
                        "oauth_revoke_url": "ftp://example.com",
                    ],
                ])
            #expect(answer.status == 422)
            let fields = answer.json["errors"]?.arrayValue?.compactMap { $0["field"]?.stringValue }
            #expect(
                fields == ["settings.api_base_url", "settings.oauth_revoke_url", "settings.oauth_token_url"],
                "\(answer.json)")
        }
    }
}

/// Waits until `condition` holds, checking every 20 ms, or fails after `limit`.
func eventually(
    within limit: Duration = .seconds(30), _ condition: @Sendable () async throws -> Bool,
    sourceLocation: SourceLocation = #_sourceLocation
) async throws {
    let deadline = ContinuousClock.now + limit
    while try await !condition() {
        guard ContinuousClock.now < deadline else {
            Issue.record("the condition did not hold within \(limit)", sourceLocation: sourceLocation)
            throw CancellationError()
        }
        try await Task.sleep(for: .milliseconds(20))
    }
}
