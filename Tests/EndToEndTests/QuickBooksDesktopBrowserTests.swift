import Accounting
import App
import Persistence
import Sandbox
import TestSupport
import Testing

/// Setting up QuickBooks Desktop from the dashboard in headless Chromium: a finance manager creates the integration
/// with the Web Connector's password, downloads the `.qwc` from the page and loads it into the (fake) Web Connector;
/// the page then shows the company file its first run found. Later QuickBooks' refusal of an invoice shows on the
/// activity page in QuickBooks' words, and a run that finds QuickBooks closed shows on the integration's page. The
/// pages are photographed (`qbd-created`, `qbd-first-run`, `qbd-refused`, `qbd-not-running`;
/// `LEDGERWIRE_SCREENSHOTS=docs/screenshots` makes docs/quickbooks-desktop.md's pictures).
@Suite(.serialized, .timeLimit(.minutes(3)))
struct QuickBooksDesktopBrowserTests {
    static let password = "correct horse battery staple"
    static let webConnectorPassword = "bursar-pc-2026-web-connector"

    @Test func aFinanceManagerSetsUpTheWebConnectorAndSeesQuickBooksInItsOwnWords() async throws {
        try await QuickBooksDesktopWorld.run { world in
            _ = try await world.components.database.addUser(
                email: "dana@greenfield.test", name: "Dana Park", role: .financeManager,
                tenantID: QuickBooksDesktopWorld.tenant, password: Self.password, actor: "test")
            try await Browser.run(timeout: .seconds(10)) { browser in
                try await browser.open(world.ledgerwire + "/sign-in")
                try await browser.fill("#email", with: "dana@greenfield.test")
                try await browser.fill("#password", with: Self.password)
                try await browser.click("#sign-in")

                try await browser.click("#new-integration")
                try await browser.select("#platform-choice", value: "quickbooks_desktop")
                try await browser.click("#choose-platform")
                #expect(try await browser.exists("#setting-client_id") == false, "the Web Connector has no OAuth")
                try await browser.fill("#name", with: "Greenfield QuickBooks")
                try await browser.fill("#setting-username", with: "greenfield-qb")
                try await browser.fill("#setting-password", with: Self.webConnectorPassword)
                try await browser.fill("#setting-sales_tax_item", with: world.lists.salesTax)
                try await browser.clickAndWaitForNextPage("#create-integration")
                #expect(try await browser.text("#web-connector-last-run").contains("never"))
                #expect(try await browser.text(".notice").contains("Download the .qwc file"))
                try await browser.screenshot("qbd-created")

                // The .qwc the page offers, downloaded as the browser would, is what the Web Connector loads.
                let qwc = try await browser.execute(
                    """
                    const request = new XMLHttpRequest();
                    request.open('GET', document.querySelector('#download-qwc').href, false);
                    request.send();
                    return request.status === 200 ? request.responseText : 'HTTP ' + request.status;
                    """)
                let connector = try WebConnector(
                    qwc: try #require(qwc.stringValue), password: Self.webConnectorPassword, company: world.company,
                    transport: world.transport, pause: .milliseconds(50))
                #expect(try await connector.run().authentication == "")
                try await browser.refresh()
                #expect(try await browser.text("#web-connector-company") == world.company.companyFile)
                #expect(try await browser.text("#status") == "connected")
                #expect(try await browser.exists("#sync-now") == false, "changes come with each Web Connector run")
                try await browser.screenshot("qbd-first-run")

                // An item the mapping names is deleted in QuickBooks: its refusal, word for word, on the activity page.
                let integration = try #require(
                    try await world.api("GET", "/integrations").json["items"]?[0]?["id"]?.stringValue)
                try await world.map(integration)
                world.company.removeItem(world.lists.transport)
                try await world.bill(
                    "customer.created", QuickBooksDesktopWorld.customer("cus_1", name: "Priya Sharma"))
                try await world.bill(
                    "invoice.issued", QuickBooksDesktopWorld.invoice("inv_1", number: "GF-0001", customer: "cus_1"))
                try await world.eventually("the customer waits for QuickBooks") {
                    try await world.job("customer", "cus_1")?.status == .awaitingPlatform
                }
                _ = try await connector.run()
                try await browser.open(world.ledgerwire + "/activity?status=failed")
                let row = try await browser.text("#jobs tbody tr")
                #expect(row.contains("invalid reference to QuickBooks Item"), "\(row)")
                try await browser.screenshot("qbd-refused")

                // QuickBooks is closed on the PC: the integration's page says so.
                connector.setQuickBooksRunning(false)
                world.clock.advance(by: .seconds(6 * 60))
                #expect(try await connector.run().connectionErrorAnswer == "done")
                try await browser.open(world.ledgerwire + "/integrations/\(integration)")
                #expect(try await browser.text("#web-connector-error").contains("could not open QuickBooks"))
                try await browser.screenshot("qbd-not-running")
            }
        }
    }
}
