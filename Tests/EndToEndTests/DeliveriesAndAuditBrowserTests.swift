import Accounting
import App
import Foundation
import Persistence
import TestSupport
import Testing

/// The Deliveries and Audit log pages in headless Chromium: an admin finds billing's rejected delivery among the
/// inbox by its status, reads what was wrong with it, replays it by clicking, and verifies the audit chain by
/// clicking. Both pages are photographed (`deliveries.png`, `audit.png`).
@Suite(.serialized, .timeLimit(.minutes(3)))
struct DeliveriesAndAuditBrowserTests {
    typealias World = QuickBooksWorld

    @Test func anAdminReplaysARejectedDeliveryAndVerifiesTheAuditChainInTheBrowser() async throws {
        try await World.run { world in
            let database = world.components.database
            _ = try await database.addUser(
                email: "meera@ledgerwire.test", name: "Meera Shah", role: .admin, tenantID: nil,
                password: DashboardBrowserTests.password, actor: "test")
            try await world.bill("customer.created", World.customer("cus_1", name: "Priya Raghavan"))
            // An invoice whose total is not an amount: kept as rejected, with the field that is wrong.
            let bad: JSONValue = [
                "type": "invoice.issued", "timestamp": .string(Timestamp.now().rfc3339),
                "tenant_id": .string(World.tenant),
                "data": World.invoice("inv_1", number: "GF-0001", customer: "cus_1").merging(["total": "lots"]),
            ]
            var headers = world.signer.headers(for: bad.canonicalBytes, id: "msg_rejected_1")
            headers["Content-Type"] = "application/json"
            let refused = try await world.call(
                "POST", world.ledgerwire + "/webhooks/billing", token: nil, headers: headers, body: bad.canonicalBytes)
            #expect(refused.status == 422, "\(refused.json)")
            let rejected = try #require(
                try await database.deliveries(status: .rejected, page: PageRequest()).items.first)

            try await Browser.run(timeout: .seconds(10)) { browser in
                try await browser.open(world.ledgerwire + "/sign-in")
                try await browser.fill("#email", with: "meera@ledgerwire.test")
                try await browser.fill("#password", with: DashboardBrowserTests.password)
                try await browser.click("#sign-in")
                _ = try await browser.waitFor("#integrations")

                try await browser.open(world.ledgerwire + "/deliveries")
                #expect(try await browser.findAll("#deliveries tbody tr").count == 2)
                try await browser.select("#filter-status", value: "rejected")
                try await browser.click("#apply-filter")
                try await browser.waitUntil("only the rejected delivery") {
                    try await browser.findAll("#deliveries tbody tr").count == 1
                }
                #expect(try await browser.text("#deliveries tbody tr").contains("data.total"))
                try await browser.click("#deliveries tbody a")
                try await browser.waitUntil("on the delivery") {
                    try await browser.url.hasSuffix("/deliveries/\(rejected.id)")
                }
                #expect(try await browser.text("#delivery-errors").contains("data.total"))
                #expect(try await browser.text("#delivery-body").contains("\"total\":\"lots\""))
                try await browser.click("#replay-delivery")
                try await browser.waitUntil("replayed") {
                    try await browser.text(".notice") == "Replayed: it was rejected again, for the reasons below."
                }
                #expect(try await database.delivery(id: rejected.id)?.replays == 1)
                try await browser.screenshot("deliveries")

                try await browser.open(world.ledgerwire + "/audit?action=delivery.replayed")
                #expect(try await browser.text("#audit-entries tbody tr").contains(rejected.id))
                try await browser.click("#verify-chain-button")
                try await browser.waitUntil("verified") {
                    try await browser.exists("#verification")
                }
                let outcome = try await browser.text("#verification")
                #expect(outcome.hasPrefix("The chain holds: ") && outcome.hasSuffix(" entries checked."), "\(outcome)")
                #expect(try await browser.findAll("#audit-entries tbody tr").count == 1, "the filter is kept")
                try await browser.screenshot("audit")
            }
        }
    }
}
