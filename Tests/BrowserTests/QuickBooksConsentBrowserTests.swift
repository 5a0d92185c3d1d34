import Accounting
import Connectors
import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Connecting QuickBooks as a finance manager does, in Chromium: Ledgerwire sends them to the emulator's consent
/// page, they choose the company and press Connect (or Cancel), and come back to Ledgerwire's callback.
@Suite(.serialized, .timeLimit(.minutes(1)))
struct QuickBooksConsentBrowserTests {
    static let realm = "9341453474484455"
    static let otherRealm = "4620816365212855651"
    /// The tests' own calls; redirects are not followed, so `connect`'s answer is seen.
    static let transport = HTTPClientTransport(
        policy: DestinationPolicy(allowsInsecure: true, allowsPrivateNetworks: true))

    /// Ledgerwire and the emulator (holding two companies), with an integration pointed at it.
    struct World {
        let server: ServerProcess
        let sandbox: ServerProcess
        let integration: String

        var callback: String { server.baseURL + "/oauth/callback" }

        /// Where `connect` sends the person.
        func authorizeURL() async throws -> String {
            let connect = try await call("GET", "/api/v1/integrations/\(integration)/connect")
            #expect(connect.status == 302)
            return try #require(connect.header("location"))
        }

        /// The integration as the API shows it.
        func integrationJSON() async throws -> JSONValue {
            try JSONValue(parsing: Array(try await call("GET", "/api/v1/integrations/\(integration)").body))
        }

        func call(_ method: String, _ path: String, json: JSONValue? = nil) async throws -> TransportResponse {
            var headers: [(name: String, value: String)] = [("Authorization", "Bearer \(ServerProcess.adminToken)")]
            if json != nil { headers.append(("Content-Type", "application/json")) }
            return try await QuickBooksConsentBrowserTests.transport.send(
                TransportRequest(
                    method: method, url: try #require(URL(string: server.baseURL + path)), headers: headers,
                    body: json.map { Data($0.canonicalBytes) }))
        }
    }

    func withWorld(_ body: (World) async throws -> Void) async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let sandbox = try await ServerProcess(
            ["sandbox", "quickbooks-online", "--port", "0", "--realm", Self.realm, "--company", Self.otherRealm],
            announcing: "QuickBooks Online sandbox on ", directory: directory.url)
        defer { sandbox.signal(SIGTERM) }
        let server = try await ServerProcess(database: directory.database, directory: directory.url)
        defer { server.signal(SIGTERM) }
        let world = World(server: server, sandbox: sandbox, integration: "")
        let created = try await world.call(
            "POST", "/api/v1/integrations",
            json: [
                "platform": "quickbooks_online", "name": "Greenfield books",
                "settings": [
                    "client_id": "sandbox-client", "client_secret": "sandbox-secret",
                    "redirect_uri": .string(world.callback), "environment": "sandbox",
                    "api_base_url": .string(sandbox.baseURL),
                    "oauth_authorize_url": .string(sandbox.baseURL + "/connect/oauth2"),
                    "oauth_token_url": .string(sandbox.baseURL + "/oauth2/v1/tokens/bearer"),
                ],
            ])
        let id = try #require(try JSONValue(parsing: Array(created.body))["id"]?.stringValue)
        try await body(World(server: server, sandbox: sandbox, integration: id))
    }

    /// A JSON number as a `Double` (`.infinity` for anything else).
    static func number(_ value: JSONValue?) -> Double {
        guard case .number(let text)? = value else { return .infinity }
        return Double(text) ?? .infinity
    }

    /// The query of `url`, by name.
    static func parameters(_ url: String) -> [String: String] {
        let items = URLComponents(string: url)?.queryItems ?? []
        return Dictionary(items.map { ($0.name, $0.value ?? "") }) { first, _ in first }
    }

    @Test func aFinanceManagerChoosesTheCompanyAndConnects() async throws {
        try await withWorld { world in
            let authorize = try await world.authorizeURL()
            try await Browser.run { browser in
                try await browser.open(authorize)
                #expect(try await browser.title == "Connect Ledgerwire to QuickBooks")
                #expect(try await browser.text("#app-name") == "Ledgerwire")
                let scopes = try await browser.findAll("#scopes li")
                #expect(scopes.count == 1)
                #expect(
                    try await scopes.first?.text.hasPrefix("Read and change your company's accounting data") == true)
                #expect(try await browser.text("label[for=realm]") == "Company to connect")
                #expect(try await browser.property("value", of: "#realm") == .string(Self.realm))
                try await browser.screenshot("quickbooks-consent")

                try await browser.select("#realm", label: "Sandbox Company \(Self.otherRealm)")
                try await browser.click("#connect")
                try await browser.waitUntil("back on Ledgerwire's callback") {
                    try await browser.url.hasPrefix(world.callback + "?")
                }
                let back = Self.parameters(try await browser.url)
                #expect(back["realmId"] == Self.otherRealm)
                #expect(back["state"] == Self.parameters(authorize)["state"] && back["code"]?.isEmpty == false)
            }
            let integration = try await world.integrationJSON()
            #expect(integration["status"] == "connected", "\(integration)")
            #expect(integration["realm_id"]?.stringValue == Self.otherRealm, "the company chosen on the page")
        }
    }

    @Test func cancellingOnTheConsentPageConnectsNothing() async throws {
        try await withWorld { world in
            let authorize = try await world.authorizeURL()
            try await Browser.run { browser in
                try await browser.open(authorize)
                try await browser.click("#cancel")
                try await browser.waitUntil("back on Ledgerwire's callback") {
                    try await browser.url.hasPrefix(world.callback + "?")
                }
                let back = Self.parameters(try await browser.url)
                #expect(back["error"] == "access_denied" && back["code"] == nil)
                #expect(back["state"] == Self.parameters(authorize)["state"])
            }
            #expect(try await world.integrationJSON()["status"] != "connected")
        }
    }

    /// At a phone's width nothing scrolls sideways, and the page works from the keyboard alone: Tab reaches the
    /// company and then Connect, and Enter presses it.
    @Test func onAPhoneTheConsentPageFitsAndWorksFromTheKeyboard() async throws {
        try await withWorld { world in
            let authorize = try await world.authorizeURL()
            try await Browser.run(window: .phone) { browser in
                try await browser.open(authorize)
                try await browser.waitFor("#connect")
                let widths = try await browser.execute(
                    "return [document.documentElement.scrollWidth, window.innerWidth,"
                        + " document.querySelector('#cancel').getBoundingClientRect().right]")
                let (page, screen, cancel) = (
                    Self.number(widths.arrayValue?[0]), Self.number(widths.arrayValue?[1]),
                    Self.number(widths.arrayValue?[2])
                )
                #expect(screen == 390, "\(widths)")
                #expect(page <= screen, "nothing is wider than the screen: \(widths)")
                #expect(cancel <= screen, "Cancel is on the screen: \(widths)")
                try await browser.screenshot("quickbooks-consent-phone")

                try await browser.press(Key.tab)
                #expect(try await browser.execute("return document.activeElement.id") == "realm")
                try await browser.press(Key.tab)
                #expect(try await browser.execute("return document.activeElement.id") == "connect")
                try await browser.press(Key.enter)
                try await browser.waitUntil("back on Ledgerwire's callback") {
                    try await browser.url.hasPrefix(world.callback + "?")
                }
                #expect(Self.parameters(try await browser.url)["realmId"] == Self.realm)
            }
            #expect(try await world.integrationJSON()["status"] == "connected")
        }
    }
}
