import Accounting
import App
import Persistence
import Sandbox
import TestSupport
import Testing

/// Connecting Xero from the dashboard in headless Chromium, against Ledgerwire and the Xero emulator on loopback: a
/// finance manager fills Xero's form, grants two organisations on the emulator's consent page, comes back to a
/// `pending` integration listing both, chooses one, and sees it connected to that organisation. The pages are
/// photographed (`xero-consent`, `xero-organisation-choice`, `xero-connected`; `LEDGERWIRE_SCREENSHOTS=docs/screenshots`
/// makes the README's pictures).
@Suite(.serialized, .timeLimit(.minutes(3)))
struct XeroConnectBrowserTests {
    typealias World = XeroWorld
    static let password = "correct horse battery staple"

    @Test func aFinanceManagerGrantsTwoOrganisationsAndChoosesOne() async throws {
        try await World.run { world in
            let database = world.components.database
            _ = try await database.addUser(
                email: "asha@greenfield.test", name: "Asha Iyer", role: .financeManager, tenantID: World.tenant,
                password: Self.password, actor: "test")
            let trust = await world.sandbox.addOrganisation(
                name: "Greenfield Trust", baseCurrency: "INR", countryCode: "IN")
            await world.sandbox.registerClient(
                id: World.clientID, secret: World.clientSecret, redirectURIs: [world.ledgerwire + "/oauth/callback"])
            try await Browser.run(timeout: .seconds(10)) { browser in
                try await browser.open(world.ledgerwire + "/sign-in")
                try await browser.fill("#email", with: "asha@greenfield.test")
                try await browser.fill("#password", with: Self.password)
                try await browser.click("#sign-in")

                // Xero's own form: its OAuth keys and, for the emulator, where its endpoints are.
                try await browser.click("#new-integration")
                try await browser.select("#platform-choice", value: "xero")
                try await browser.click("#choose-platform")
                #expect(try await browser.exists("#setting-environment") == false, "Xero has one host")
                #expect(try await browser.exists("#setting-xero_tenant_id") == false, "chosen after connecting")
                try await browser.fill("#name", with: "Greenfield Xero")
                try await browser.fill("#setting-client_id", with: World.clientID)
                try await browser.fill("#setting-client_secret", with: World.clientSecret)
                try await browser.fill("#setting-redirect_uri", with: world.ledgerwire + "/oauth/callback")
                try await browser.fill("#setting-api_base_url", with: world.emulator + "/api.xro/2.0")
                try await browser.fill("#setting-connections_url", with: world.emulator + "/connections")
                try await browser.fill(
                    "#setting-oauth_authorize_url", with: world.emulator + "/identity/connect/authorize")
                try await browser.fill("#setting-oauth_token_url", with: world.emulator + "/connect/token")
                try await browser.fill("#setting-oauth_revoke_url", with: world.emulator + "/connect/revocation")
                try await browser.click("#create-integration")
                try await browser.click("#connect")

                // The emulator's consent page: both organisations ticked.
                try await browser.waitUntil("on Xero's consent page") {
                    try await browser.url.hasPrefix(world.emulator)
                }
                #expect(try await browser.text("label[for=tenant-0]") == "Greenfield School")
                #expect(try await browser.text("label[for=tenant-1]") == "Greenfield Trust")
                try await browser.click("#tenant-1")
                #expect(try await browser.property("checked", of: "#tenant-0") == .bool(true))
                #expect(try await browser.property("checked", of: "#tenant-1") == .bool(true))
                try await browser.screenshot("xero-consent")
                try await browser.click("#connect")

                // Back on the integration: pending, each organisation a choice, nothing chosen for the person.
                try await browser.waitUntil("back on the integration") {
                    try await browser.url.hasPrefix(world.ledgerwire + "/integrations/")
                }
                #expect(try await browser.text("#status") == "pending")
                #expect(
                    try await browser.text(".notice")
                        == "Access granted. Choose the organisation this integration works in.")
                let choices = try await browser.findAll("#choose-company input[type=radio]")
                #expect(choices.count == 2)
                var offered: [String] = []
                for choice in choices {
                    offered.append(try await choice.attribute("value") ?? "")
                    #expect(try await choice.property("checked") == .bool(false))
                }
                #expect(Set(offered) == [world.organisation, trust])
                let labels = try await browser.text("#choose-company")
                #expect(labels.contains("Greenfield School") && labels.contains("Greenfield Trust"), "\(labels)")
                #expect(try await browser.exists("#company") == false, "no organisation is chosen yet")
                try await browser.screenshot("xero-organisation-choice")

                try await browser.click("#choose-company input[value=\"\(trust)\"]")
                try await browser.click("#choose-company-submit")
                try await browser.waitUntil("connected") { try await browser.text("#status") == "connected" }
                #expect(try await browser.text(".notice") == "Organisation chosen: the integration is connected.")
                #expect(try await browser.text("#company") == "Greenfield Trust")
                #expect(try await browser.exists("#choose-company") == false)
                try await browser.screenshot("xero-connected")
            }
            let integration = try #require(
                try await database.integrations(tenantID: World.tenant, page: PageRequest()).items.first)
            #expect(integration.status == .connected && integration.remoteTenantID == trust)
        }
    }
}
