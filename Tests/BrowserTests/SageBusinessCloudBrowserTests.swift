import Accounting
import Connectors
import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Connecting Sage Business Cloud Accounting from the dashboard in headless Chromium, against the `ledgerwire`
/// executable and its Sage emulator (`ledgerwire sandbox sage-business-cloud`, a user with two businesses) on
/// loopback: a finance manager fills Sage's form, allows access on the emulator's consent page, comes back to a
/// `pending` integration listing both businesses, chooses one, and sees it connected to that business; connecting
/// again (after switching it off and on) asks once more, the business it worked in chosen for them. The pages are
/// photographed (`sage-business-cloud-form`, `-consent`, `-business-choice`, `-connected`, `-reconnect-choice`;
/// `LEDGERWIRE_SCREENSHOTS=docs/screenshots` makes the documentation's pictures).
@Suite(.serialized, .timeLimit(.minutes(3)))
struct SageBusinessCloudBrowserTests {
    static let password = "correct horse battery staple"
    static let tenant = "hillside"
    static let transport = HTTPClientTransport(
        policy: DestinationPolicy(allowsInsecure: true, allowsPrivateNetworks: true))

    /// Ledgerwire, the emulator holding the user's two businesses (the lead first), and their ids.
    struct World {
        let server: ServerProcess
        let sandbox: ServerProcess
        let businesses: [String]

        func call(_ method: String, _ path: String, json: JSONValue? = nil) async throws -> TransportResponse {
            var headers: [(name: String, value: String)] = [("Authorization", "Bearer \(ServerProcess.adminToken)")]
            if json != nil { headers.append(("Content-Type", "application/json")) }
            return try await SageBusinessCloudBrowserTests.transport.send(
                TransportRequest(
                    method: method, url: try #require(URL(string: server.baseURL + path)), headers: headers,
                    body: json.map { Data($0.canonicalBytes) }))
        }
    }

    func withWorld(_ body: (World) async throws -> Void) async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let server = try await ServerProcess(database: directory.database, directory: directory.url)
        defer { server.signal(SIGTERM) }
        let sandbox = try await ServerProcess(
            [
                "sandbox", "sage-business-cloud", "--port", "0", "--redirect-uri", server.baseURL + "/oauth/callback",
                "--business", "Hillside School:GB", "--business", "Hillside Lettings:GB",
            ],
            announcing: "Sage Business Cloud Accounting sandbox on ", directory: directory.url)
        defer { sandbox.signal(SIGTERM) }
        // "… (client sandbox-client, businesses <id>, <id>, the first the lead)"
        let announced = (try? String(contentsOf: sandbox.output, encoding: .utf8)) ?? ""
        let listed = try #require(
            announced.components(separatedBy: "businesses ").dropFirst().first?
                .components(separatedBy: ", the first the lead").first, "\(announced)")
        let businesses = listed.components(separatedBy: ", ")
        try #require(businesses.count == 2, "\(announced)")
        let world = World(server: server, sandbox: sandbox, businesses: businesses)
        let user = try await world.call(
            "POST", "/api/v1/users",
            json: [
                "email": "ruth@hillside.test", "name": "Ruth Ellis", "role": "finance_manager",
                "tenant_id": .string(Self.tenant), "password": .string(Self.password),
            ])
        try #require(user.status == 201, "\(String(decoding: user.body, as: UTF8.self))")
        try await body(world)
    }

    @Test func aFinanceManagerAllowsAccessAndChoosesOneOfTheUsersTwoBusinesses() async throws {
        try await withWorld { world in
            let emulator = world.sandbox.baseURL
            let ledgerwire = world.server.baseURL
            try await Browser.run(timeout: .seconds(10)) { browser in
                try await browser.open(ledgerwire + "/sign-in")
                try await browser.fill("#email", with: "ruth@hillside.test")
                try await browser.fill("#password", with: Self.password)
                try await browser.click("#sign-in")

                // Sage's own form: its OAuth keys and, for the emulator, where its endpoints are.
                try await browser.click("#new-integration")
                try await browser.select("#platform-choice", value: "sage_business_cloud")
                try await browser.click("#choose-platform")
                #expect(try await browser.text("#integration-form h2") == "Sage Business Cloud Accounting")
                #expect(try await browser.exists("#setting-environment") == false, "Sage has one host")
                #expect(try await browser.exists("#setting-business_id") == false, "chosen after connecting")
                try await browser.fill("#name", with: "Hillside Sage")
                try await browser.fill("#setting-client_id", with: "sandbox-client")
                try await browser.fill("#setting-client_secret", with: "sandbox-secret")
                try await browser.fill("#setting-redirect_uri", with: ledgerwire + "/oauth/callback")
                try await browser.fill("#setting-api_base_url", with: emulator + "/v3.1")
                try await browser.fill("#setting-oauth_authorize_url", with: emulator + "/oauth2/auth/central")
                try await browser.fill("#setting-oauth_token_url", with: emulator + "/token")
                try await browser.screenshot("sage-business-cloud-form")
                try await browser.click("#create-integration")
                #expect(
                    try await browser.text(".notice")
                        == "Integration created. Connect it to Sage Business Cloud Accounting next.")
                #expect(try await browser.text("#connect") == "Connect to Sage Business Cloud Accounting")
                try await browser.click("#connect")

                // The emulator's consent page: the app, what it asks for, the user's lead business.
                try await browser.waitUntil("on Sage's consent page") { try await browser.url.hasPrefix(emulator) }
                #expect(try await browser.text("h1") == "Ledgerwire would like to view and change your accounting data")
                #expect(try await browser.text("main p") == "Business: Hillside School")
                try await browser.screenshot("sage-business-cloud-consent")
                try await browser.click("button[value=allow]")

                // Back on the integration: pending, each business a choice, nothing chosen for the person.
                try await browser.waitUntil("back on the integration") {
                    try await browser.url.hasPrefix(ledgerwire + "/integrations/")
                }
                #expect(try await browser.text("#status") == "pending")
                #expect(
                    try await browser.text(".notice")
                        == "Access granted. Choose the business this integration works in.")
                #expect(try await browser.text("#choose-company h2") == "Choose the business")
                let choices = try await browser.findAll("#choose-company input[type=radio]")
                #expect(choices.count == 2)
                var offered: [String] = []
                for choice in choices {
                    offered.append(try await choice.attribute("value") ?? "")
                    #expect(try await choice.property("checked") == .bool(false))
                }
                #expect(Set(offered) == Set(world.businesses))
                let labels = try await browser.text("#choose-company")
                #expect(labels.contains("Hillside School") && labels.contains("Hillside Lettings"), "\(labels)")
                #expect(try await browser.exists("#company") == false, "no business is chosen yet")
                #expect(try await browser.exists("#sync-now") == false, "nothing syncs before the choice")
                try await browser.screenshot("sage-business-cloud-business-choice")
                // The API lists the same two under Sage's word for them.
                let path = try #require(URL(string: try await browser.url)?.path)
                let pending = try JSONValue(parsing: Array(try await world.call("GET", "/api/v1" + path).body))
                let available = pending["available_businesses"]?.arrayValue ?? []
                #expect(
                    Set(available.compactMap { $0["name"]?.stringValue }) == ["Hillside School", "Hillside Lettings"],
                    "\(pending)")

                // The second business, not the lead the consent page named.
                try await browser.click("#choose-company input[value=\"\(world.businesses[1])\"]")
                try await browser.click("#choose-company-submit")
                try await browser.waitUntil("connected") { try await browser.text("#status") == "connected" }
                #expect(try await browser.text(".notice") == "Business chosen: the integration is connected.")
                #expect(try await browser.text("#integration-status").contains("Business: Hillside Lettings"))
                #expect(try await browser.text("#company") == "Hillside Lettings")
                #expect(try await browser.exists("#choose-company") == false)
                #expect(try await browser.text("#connect") == "Connect again")
                #expect(try await browser.exists("#sync-now"))
                try await browser.screenshot("sage-business-cloud-connected")

                // Switched off and on, it is pending; connecting again lists both businesses once more and leaves it
                // unconnected until the person confirms one, the business it worked in chosen for them.
                try await browser.select("#status-choice", value: "disabled")
                try await browser.click("#save-settings")
                try await browser.waitUntil("switched off") { try await browser.text("#status") == "disabled" }
                try await browser.select("#status-choice", value: "enabled")
                try await browser.click("#save-settings")
                try await browser.waitUntil("switched on") { try await browser.text("#status") != "disabled" }
                #expect(try await browser.text("#status") == "pending")
                try await browser.click("#connect")
                try await browser.waitUntil("on Sage's consent page again") {
                    try await browser.url.hasPrefix(emulator)
                }
                try await browser.click("button[value=allow]")
                try await browser.waitUntil("back on the integration again") {
                    try await browser.url.hasPrefix(ledgerwire + "/integrations/")
                }
                #expect(try await browser.text("#status") == "pending")
                #expect(
                    try await browser.text(".notice")
                        == "Access granted. Choose the business this integration works in.")
                #expect(
                    try await browser.property("checked", of: "#choose-company input[value=\"\(world.businesses[1])\"]")
                        == .bool(true), "the business it worked in")
                #expect(
                    try await browser.property("checked", of: "#choose-company input[value=\"\(world.businesses[0])\"]")
                        == .bool(false))
                try await browser.screenshot("sage-business-cloud-reconnect-choice")
                try await browser.click("#choose-company-submit")
                try await browser.waitUntil("connected again") { try await browser.text("#status") == "connected" }
                #expect(try await browser.text(".notice") == "Business chosen: the integration is connected.")
                #expect(try await browser.text("#company") == "Hillside Lettings")
                #expect(try await browser.exists("#choose-company") == false)

                // The overview lists it connected too.
                try await browser.open(ledgerwire + "/")
                let row = try await browser.text("#integrations")
                #expect(row.contains("Hillside Sage") && row.contains("connected"), "\(row)")
            }

            // The API agrees, and Ledgerwire's calls now name the chosen business: its ledger accounts are read.
            let listed = try JSONValue(parsing: Array(try await world.call("GET", "/api/v1/integrations").body))
            let integration = try #require(listed["items"]?.arrayValue?.first)
            #expect(integration["status"] == "connected", "\(integration)")
            #expect(integration["business_id"]?.stringValue == world.businesses[1], "\(integration)")
            #expect(integration["available_businesses"] == nil, "nothing is left to choose")
            let id = try #require(integration["id"]?.stringValue)
            let accounts = try await world.call("GET", "/api/v1/integrations/\(id)/remote-accounts")
            #expect(accounts.status == 200, "\(String(decoding: accounts.body, as: UTF8.self))")
        }
    }
}
