import Accounting
import App
import Foundation
import Persistence
import Sandbox
import SyncEngine
import TestSupport
import Testing

/// The finance manager's dashboard in headless Chromium, against Ledgerwire and the QuickBooks Online emulator on
/// loopback: sign in; connect QuickBooks through the emulator's consent page by clicking; map from the suggestions,
/// which resumes the held jobs; run a full sync and watch its progress bar reach 100 % without a reload; resolve a
/// conflict side by side; retry a dead letter; and a viewer sees no write controls and has a forged form refused.
/// Each page is photographed (`LEDGERWIRE_SCREENSHOTS=docs/screenshots` makes the README's pictures).
@Suite(.serialized, .timeLimit(.minutes(3)))
struct DashboardBrowserTests {
    typealias World = QuickBooksWorld
    static let password = "correct horse battery staple"

    @Test func aFinanceManagerConnectsMapsSyncsResolvesAndRetriesInTheBrowser() async throws {
        try await World.run { world in
            let database = world.components.database
            _ = try await database.addUser(
                email: "asha@greenfield.test", name: "Asha Iyer", role: .financeManager, tenantID: World.tenant,
                password: Self.password, actor: "test")
            _ = try await database.addUser(
                email: "vikram@greenfield.test", name: "Vikram Rao", role: .viewer, tenantID: World.tenant,
                password: Self.password, actor: "test")
            await world.sandbox.registerClient(id: "lw-client", secret: "lw-secret")
            await world.sandbox.setConsentRealm(World.realm)
            try await Browser.run(timeout: .seconds(10)) { browser in
                // Signing in: a page asked for without a session comes back after the sign-in.
                try await browser.open(world.ledgerwire + "/")
                #expect(try await browser.url.hasPrefix(world.ledgerwire + "/sign-in"))
                try await browser.fill("#email", with: "asha@greenfield.test")
                try await browser.fill("#password", with: Self.password)
                try await browser.screenshot("sign-in")
                try await browser.click("#sign-in")
                _ = try await browser.waitFor("#new-integration")
                #expect(try await browser.text(".who").hasPrefix("Asha Iyer"))

                // Connecting QuickBooks: choose it, fill its own form, and consent on the emulator's page.
                try await browser.click("#new-integration")
                try await browser.select("#platform-choice", value: "quickbooks_online")
                try await browser.click("#choose-platform")
                try await browser.fill("#name", with: "Greenfield books")
                try await browser.fill("#setting-client_id", with: "lw-client")
                try await browser.fill("#setting-client_secret", with: "lw-secret")
                try await browser.fill("#setting-redirect_uri", with: world.ledgerwire + "/oauth/callback")
                try await browser.select("#setting-environment", value: "sandbox")
                try await browser.fill("#setting-api_base_url", with: world.emulator)
                try await browser.fill("#setting-oauth_authorize_url", with: world.emulator + "/connect/oauth2")
                try await browser.fill("#setting-oauth_token_url", with: world.emulator + "/oauth2/v1/tokens/bearer")
                try await browser.fill(
                    "#setting-oauth_revoke_url", with: world.emulator + "/v2/oauth2/tokens/revoke")
                try await browser.select("#conflict_policy", value: "manual")
                try await browser.screenshot("connect")
                try await browser.click("#create-integration")
                // Cancel on the consent page comes back to the integration's page, which says what happened.
                try await browser.click("#connect")
                try await browser.waitUntil("on the consent page") { try await browser.url.hasPrefix(world.emulator) }
                try await browser.click("#cancel")
                let refused = try await browser.waitFor("#connect-refused")
                #expect(try await refused.text.contains("did not grant access (access_denied)"))
                #expect(try await browser.text("#status") != "connected")
                try await browser.click("#connect")
                try await browser.waitUntil("on the consent page") { try await browser.url.hasPrefix(world.emulator) }
                try await browser.click("#connect")
                try await browser.waitUntil("connected") { try await browser.text("#status") == "connected" }
                #expect(try await browser.text(".notice") == "Connected to QuickBooks Online.")
                let integration = try #require(
                    try await database.integrations(tenantID: World.tenant, page: PageRequest()).items.first)
                #expect(integration.status == .connected && integration.remoteTenantID == World.realm)
                try await browser.screenshot("integration")

                // Billing's invoice waits for its codes; the editor preselects the suggestions and resumes it.
                try await world.bill("customer.created", World.customer("cus_1", name: "Priya Raghavan"))
                try await world.bill(
                    "invoice.issued",
                    World.invoice(
                        "inv_1", number: "GF-0001", customer: "cus_1",
                        updated: Timestamp(rfc3339: "2026-11-03T09:00:00Z")!))
                try await world.drain()
                #expect(await world.objects("Invoice").isEmpty)
                try await browser.click("#edit-mappings")
                #expect(try await browser.text("#held-summary").hasPrefix("1 job is held"))
                let tuition = try await browser.on("tr.highlight select") { try await $0.property("value") }
                #expect(tuition.stringValue?.isEmpty == false, "a suggestion is preselected for a held code")
                #expect(try await browser.exists("tr.highlight .required"))
                try await browser.screenshot("mappings")
                try await browser.click("#save-mappings")
                try await browser.waitUntil("saved") {
                    try await browser.text(".notice") == "Mappings saved. 1 held job was resumed."
                }
                try await world.drain()
                let invoice = try #require(await world.objects("Invoice").first)
                #expect(invoice["TotalAmt"] == .number("57820.00") || invoice["TotalAmt"] == .number("57820"))

                // A full sync, watched on the activity page: the bar reaches 100 % with no reload.
                let integrationPage = world.ledgerwire + "/integrations/\(integration.id)"
                try await browser.open(integrationPage)
                // The request's answer is waited for: opening the next page while it is in flight raced its redirect.
                try await browser.clickAndWaitForNextPage("#full-sync")
                try await browser.open(world.ledgerwire + "/activity")
                let bar = try await browser.waitFor("progress")
                #expect(try await bar.attribute("value") != "100")
                _ = try await browser.execute("window.notReloaded = true; return true;")
                while try await world.runner.runDueOperation() {}
                try await world.drain()
                while try await world.runner.runDueOperation() {}
                try await browser.waitUntil("the progress bar at 100 %", timeout: .seconds(5)) {
                    try await browser.attribute("value", of: "progress") == "100"
                }
                #expect(try await browser.execute("return window.notReloaded === true;") == .bool(true))
                #expect(try await browser.text("#operations .status") == "completed")
                try await browser.screenshot("activity")

                // Billing and the bookkeeper both change the invoice: the conflict, side by side, keeps billing's.
                try await world.bill(
                    "invoice.updated",
                    World.invoice(
                        "inv_1", number: "GF-0001", customer: "cus_1",
                        updated: Timestamp(rfc3339: "2026-11-04T09:00:00Z")!
                    ).merging(["due_date": "2026-11-30"]))
                let edited = try await world.bookkeeper(
                    "POST", "invoice",
                    [
                        "Id": invoice["Id"] ?? .null, "SyncToken": invoice["SyncToken"] ?? .null, "sparse": true,
                        "DueDate": "2026-12-15",
                    ])
                #expect(edited.status == 200)
                _ = await world.sandbox.deliverWebhooks(with: world.sender())
                try await world.hearFromTheBooks()
                try await browser.open(world.ledgerwire + "/conflicts")
                try await browser.click("#conflict-list a")
                let differing = try await browser.findAll("#conflict-sides tr.highlight th")
                var names: [String] = []
                for row in differing { names.append(try await row.text) }
                #expect(names.contains { $0.hasPrefix("due_date") }, "\(names)")
                #expect(try await browser.text("#conflict-sides").contains("2026-11-30"))
                #expect(try await browser.text("#conflict-sides").contains("2026-12-15"))
                try await browser.screenshot("conflict")
                try await browser.click("#use-billing")
                try await browser.waitUntil("resolved") { try await browser.text(".notice") == "Conflict resolved." }
                try await world.drain()
                #expect(await world.objects("Invoice").first?["DueDate"] == "2026-11-30")

                // A dead letter: QuickBooks down for maintenance until the job has been turned away as often as a job
                // may be, then its one attempt refused too. The platform's reason shows; Retry sends it, once.
                let oneAttempt = try await world.api(
                    "PATCH", "/integrations/\(integration.id)", ["sync": ["max_attempts": 1]])
                #expect(oneAttempt.status == 200)
                await world.sandbox.setMaintenance(true)
                try await world.bill(
                    "invoice.issued", World.invoice("inv_2", number: "GF-0002", customer: "cus_1"))
                try await world.drain()
                await world.sandbox.setMaintenance(false)
                try await browser.open(world.ledgerwire + "/activity?status=dead")
                let dead = try await browser.text("#jobs tbody tr")
                #expect(dead.contains("invoice inv_2") && dead.contains("dead"), "\(dead)")
                #expect(dead.contains("maintenance"), "the platform's own words: \(dead)")
                try await browser.screenshot("dead-letter")
                try await browser.click("#jobs .retry")
                try await browser.waitUntil("retried") { try await browser.text(".notice") == "1 job was retried." }
                try await world.drain()
                #expect(await world.objects("Invoice").filter { $0["DocNumber"] == "GF-0002" }.count == 1)

                // The invoice found by its number; its page shows each version's change and where it stands in
                // the books, and the manual override finds the books' copy and excludes it from the sync.
                try await browser.open(world.ledgerwire + "/records")
                try await browser.fill("#search-q", with: "GF-0001")
                try await browser.click("#search")
                #expect(try await browser.text("#record-list tbody").contains("₹57,820.00"))
                try await browser.screenshot("records")
                try await browser.click("#record-list tbody a")
                let versions = try await browser.text("#record-versions")
                #expect(versions.contains("due_date") && versions.contains("2026-11-30"), "\(versions)")
                #expect(
                    try await browser.text("#record-books").contains(
                        "in the books as \(invoice["Id"]?.stringValue ?? "?")"))
                try await browser.click("#find-\(integration.id)")
                let candidates = try await browser.text("#candidates")
                #expect(
                    candidates.contains("GF-0001") && candidates.contains("linked to billing's inv_1"), "\(candidates)")
                try await browser.open(world.ledgerwire + "/records")
                try await browser.fill("#search-q", with: "GF-0001")
                try await browser.click("#search")
                try await browser.click("#record-list tbody a")
                try await browser.click("#exclude-\(integration.id)")
                try await browser.waitUntil("excluded") {
                    try await browser.text("#record-books").contains("excluded from the sync")
                }
                #expect(try await browser.text("#record-audit").contains("record.excluded"))
                try await browser.screenshot("record")
                try await browser.click("#include-\(integration.id)")
                try await browser.waitUntil("included") {
                    try await browser.text("#record-books").contains("in the books as")
                }

                try await browser.open(world.ledgerwire + "/")
                #expect(try await browser.text("#integrations").contains("Greenfield books"))
                try await browser.screenshot("overview")
                try await browser.click("button.link")  // sign out
                _ = try await browser.waitFor("#sign-in")

                // A viewer sees the same pages without a control that changes anything; a forged form is refused.
                try await browser.fill("#email", with: "vikram@greenfield.test")
                try await browser.fill("#password", with: Self.password)
                try await browser.click("#sign-in")
                _ = try await browser.waitFor("#integrations")
                #expect(try await browser.exists("#new-integration") == false)
                #expect(try await browser.findAll("#integrations form").isEmpty)
                try await browser.open(integrationPage + "/mappings")
                #expect(try await browser.exists("#save-mappings") == false)
                #expect(try await browser.property("disabled", of: "select") == .bool(true))
                let forged = try await browser.execute(
                    """
                    const token = document.querySelector('input[name=_csrf]').value;
                    return fetch('/integrations/\(integration.id)/sync', {method: 'POST', redirect: 'manual',
                        headers: {'Content-Type': 'application/x-www-form-urlencoded'},
                        body: '_csrf=' + encodeURIComponent(token) + '&mode=full'}).then(r => r.status);
                    """)
                #expect(forged == .number("403"), "\(forged)")
            }
        }
    }

    @Test func onAPhoneTheOverviewFitsTheScreenAndTheKeyboardReachesEveryControl() async throws {
        try await World.run { world in
            _ = try await world.connect()
            _ = try await world.components.database.addUser(
                email: "asha@greenfield.test", name: "Asha Iyer", role: .financeManager, tenantID: World.tenant,
                password: Self.password, actor: "test")
            try await Browser.run(window: .phone) { browser in
                try await browser.open(world.ledgerwire + "/sign-in")
                // The email field has the focus; Tab goes to the password, then to the button, which Enter presses.
                #expect(try await browser.execute("return document.activeElement.id;") == .string("email"))
                try await browser.press("asha@greenfield.test" + Key.tab)
                #expect(try await browser.execute("return document.activeElement.id;") == .string("password"))
                try await browser.press(Self.password + Key.tab)
                #expect(try await browser.execute("return document.activeElement.id;") == .string("sign-in"))
                try await browser.press(Key.enter)
                _ = try await browser.waitFor("#integrations")
                let overflow = try await browser.execute(
                    "return document.documentElement.scrollWidth - document.documentElement.clientWidth;")
                #expect(overflow == .number("0"), "the page scrolls sideways by \(overflow)")
                try await browser.screenshot("overview-phone")
            }
        }
    }
}
