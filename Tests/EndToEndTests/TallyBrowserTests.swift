import Accounting
import App
import Persistence
import Sandbox
import TestSupport
import Testing

/// Connecting Tally from the dashboard in headless Chromium, against Ledgerwire and the Tally emulator on loopback: a
/// finance manager fills Tally's form (address, company, version, encoding, state), presses Check connection while
/// the company is not open and reads why it is not connected, opens it in Tally and checks again; later a voucher Tally
/// refuses shows on the activity page in Tally's own words. The pages are photographed (`tally-form`,
/// `tally-not-loaded`, `tally-connected`, `tally-refused`).
@Suite(.serialized, .timeLimit(.minutes(3)))
struct TallyBrowserTests {
    static let password = "correct horse battery staple"

    @Test func aFinanceManagerConnectsTallyAndSeesItsRefusalInItsOwnWords() async throws {
        try await TallyWorld.run { world in
            _ = try await world.components.database.addUser(
                email: "meera@vidya.test", name: "Meera Rao", role: .financeManager, tenantID: TallyWorld.tenant,
                password: Self.password, actor: "test")
            await world.sandbox.unload(TallyWorld.company)
            try await Browser.run(timeout: .seconds(10)) { browser in
                try await browser.open(world.ledgerwire + "/sign-in")
                try await browser.fill("#email", with: "meera@vidya.test")
                try await browser.fill("#password", with: Self.password)
                try await browser.click("#sign-in")

                try await browser.click("#new-integration")
                try await browser.select("#platform-choice", value: "tally")
                try await browser.click("#choose-platform")
                #expect(try await browser.exists("#setting-client_id") == false, "Tally has no OAuth")
                try await browser.fill("#name", with: "Vidya Tally")
                try await browser.fill("#setting-url", with: world.tally)
                try await browser.fill("#setting-company", with: TallyWorld.company)
                try await browser.select("#setting-version", value: "prime")
                try await browser.select("#setting-encoding", value: "utf-16")
                try await browser.fill("#setting-state", with: "Karnataka")
                try await browser.screenshot("tally-form")
                try await browser.clickAndWaitForNextPage("#create-integration")
                #expect(try await browser.exists("#connect") == false, "nothing to consent to")
                #expect(
                    try await browser.text(".notice")
                        == "Integration created. Press Check connection once Tally is running with the company loaded.")

                // The company is not open in Tally: the page says so, naming it.
                try await browser.clickAndWaitForNextPage("#check-connection")
                #expect(try await browser.text("#status") == "disconnected")
                let reason = try await browser.text(".reason")
                #expect(reason.contains(TallyWorld.company), "\(reason)")
                try await browser.screenshot("tally-not-loaded")

                await world.sandbox.load(TallyWorld.company)
                try await browser.clickAndWaitForNextPage("#check-connection")
                #expect(try await browser.text("#status") == "connected")
                #expect(try await browser.text(".notice") == "Tally answered: the integration is connected.")
                try await browser.screenshot("tally-connected")

                // A mapped ledger the accountant renamed: Tally's refusal, word for word, on the activity page.
                let integration = try #require(
                    try await world.api("GET", "/integrations").json["items"]?[0]?["id"]?.stringValue)
                try await world.map(integration)
                try await world.sandbox.renameLedger(company: TallyWorld.company, name: "Tuition Fees", to: "Fees")
                try await world.bill("customer.created", TallyWorld.customer("cus_a", name: "Asha Rao", state: "KA"))
                try await world.bill(
                    "invoice.issued",
                    TallyWorld.invoice(
                        "inv_1", number: "INV-1", customer: "cus_a", tuition: "1000.00", tax: "180.00",
                        total: "1180.00"))
                try await world.drain()
                try await browser.open(world.ledgerwire + "/activity?status=failed")
                let row = try await browser.text("#jobs tbody tr")
                #expect(row.contains("Tuition Fees"), "\(row)")
                #expect(row.contains("does not exist"), "\(row)")
                try await browser.screenshot("tally-refused")
            }
        }
    }
}
