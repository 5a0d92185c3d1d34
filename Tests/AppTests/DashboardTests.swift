import Accounting
import App
import Connectors
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Persistence
import Testing

/// The dashboard in-process: signing in and out, sessions, form tokens, roles, security headers and escaping. What a
/// person sees in a browser is checked in BrowserTests.
@Suite struct DashboardTests {
    static let password = "correct horse battery staple"

    /// A browser's side of the conversation: its cookies, and the answers as text.
    struct Browser: Sendable {
        let client: any TestClientProtocol
        var cookies: [String: String] = [:]

        struct Page: Sendable {
            let status: HTTPResponse.Status
            let headers: HTTPFields
            let text: String
        }

        mutating func get(_ uri: String) async throws -> Page {
            try await send(.get, uri, form: nil)
        }

        mutating func post(_ uri: String, form: [(String, String)], headers: [String: String] = [:]) async throws
            -> Page
        {
            try await send(.post, uri, form: form, headers: headers)
        }

        /// A file sent as a form's `file` field (`multipart/form-data`), as a browser uploads it.
        mutating func upload(_ uri: String, file: String, headers: [String: String] = [:]) async throws -> Page {
            let boundary = "----ledgerwire-test-boundary"
            let body =
                "--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"trail.csv\"\r\n"
                + "Content-Type: text/csv\r\n\r\n\(file)\r\n--\(boundary)--\r\n"
            return try await send(
                .post, uri, form: nil,
                headers: headers.merging(["Content-Type": "multipart/form-data; boundary=\(boundary)"]) { $1 },
                body: ByteBuffer(string: body))
        }

        private mutating func send(
            _ method: HTTPRequest.Method, _ uri: String, form: [(String, String)]?,
            headers extra: [String: String] = [:], body raw: ByteBuffer? = nil
        ) async throws -> Page {
            var headers = HTTPFields()
            if !cookies.isEmpty {
                headers[.cookie] = cookies.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(
                    separator: "; ")
            }
            for (name, value) in extra { headers[HTTPField.Name(name)!] = value }
            var body = raw
            if let form {
                headers[.contentType] = "application/x-www-form-urlencoded"
                body = ByteBuffer(
                    string: form.map { "\(Self.encode($0.0))=\(Self.encode($0.1))" }.joined(separator: "&"))
            }
            let page = try await client.execute(uri: uri, method: method, headers: headers, body: body) { response in
                Page(status: response.status, headers: response.headers, text: String(buffer: response.body))
            }
            for field in page.headers[values: .setCookie] {
                let pair = field.split(separator: ";")[0].split(separator: "=", maxSplits: 1)
                let name = String(pair[0])
                let value = pair.count > 1 ? String(pair[1]) : ""
                if value.isEmpty || field.contains("Max-Age=0") { cookies[name] = nil } else { cookies[name] = value }
            }
            return page
        }

        static func encode(_ text: String) -> String {
            text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? text
        }

        /// The value of the first `name="…" value="…"` hidden field in `text`.
        static func field(_ name: String, in text: String) -> String? {
            guard let range = text.range(of: "name=\"\(name)\" value=\"") else { return nil }
            return String(text[range.upperBound...].prefix { $0 != "\"" })
        }

        /// Signs in as `email`, through the sign-in form.
        mutating func signIn(_ email: String, password: String = DashboardTests.password) async throws -> Page {
            let form = try await get("/sign-in")
            let token = try #require(Self.field("_form", in: form.text))
            return try await post(
                "/sign-in", form: [("_form", token), ("next", "/"), ("email", email), ("password", password)])
        }
    }

    func withDashboard(
        registry: ConnectorRegistry? = nil, _ body: @Sendable (TestApp, any TestClientProtocol) async throws -> Void
    ) async throws {
        let app = try TestApp(registry: registry)
        let database = app.components.database
        _ = try await database.addUser(
            email: "fm@school.test", name: "Fiona Manager", role: .financeManager, tenantID: "school-1",
            password: Self.password, actor: "test")
        _ = try await database.addUser(
            email: "viewer@school.test", name: "Vic Viewer", role: .viewer, tenantID: "school-1",
            password: Self.password, actor: "test")
        try await app.application.test(.router) { client in try await body(app, client) }
    }

    @Test func aPageAskedForWithoutASessionGoesToTheSignInPageAndBack() async throws {
        try await withDashboard { _, client in
            var browser = Browser(client: client)
            let page = try await browser.get("/activity?status=dead")
            #expect(page.status == .seeOther)
            #expect(page.headers[.location] == "/sign-in?next=%2Factivity%3Fstatus%3Ddead")
            let form = try await browser.get("/sign-in?next=%2Factivity%3Fstatus%3Ddead")
            #expect(form.text.contains("name=\"next\" value=\"/activity?status=dead\""))
        }
    }

    @Test func signingInMakesAFreshHttpOnlySessionAndSigningOutEndsIt() async throws {
        try await withDashboard { app, client in
            var browser = Browser(client: client)
            // A token planted in the browser before signing in must not become the session.
            browser.cookies["lw_session"] = "planted-token"
            let signedIn = try await browser.signIn("FM@school.test")
            #expect(signedIn.status == .seeOther)
            #expect(signedIn.headers[.location] == "/")
            let cookie = try #require(
                signedIn.headers[values: .setCookie].first { $0.hasPrefix("lw_session=") })
            #expect(cookie.contains("HttpOnly"))
            #expect(cookie.contains("SameSite=Lax"))
            #expect(browser.cookies["lw_session"] != "planted-token")
            let overview = try await browser.get("/")
            #expect(overview.status == .ok)
            #expect(overview.text.contains("Fiona Manager"))
            let csrf = try #require(Browser.field("_csrf", in: overview.text))
            let out = try await browser.post("/sign-out", form: [("_csrf", csrf)])
            #expect(out.status == .seeOther)
            #expect(browser.cookies["lw_session"] == nil)
            let after = try await browser.get("/")
            #expect(after.status == .seeOther)
            _ = app
        }
    }

    @Test func aWrongPasswordIsRefusedPlainlyAndRepeatedOnesAreSlowedDown() async throws {
        try await withDashboard { _, client in
            var browser = Browser(client: client)
            let wrong = try await browser.signIn("fm@school.test", password: "not the password at all")
            #expect(wrong.status == .unauthorized)
            #expect(wrong.text.contains("The email or password is not right."))
            for _ in 0..<5 { _ = try await browser.signIn("fm@school.test", password: "still not the password") }
            let throttled = try await browser.signIn("fm@school.test")
            #expect(throttled.status == .tooManyRequests)
            #expect(throttled.text.contains("Too many sign-in attempts"))
        }
    }

    @Test func everyPageCarriesTheSecurityHeaders() async throws {
        try await withDashboard { _, client in
            var browser = Browser(client: client)
            _ = try await browser.signIn("fm@school.test")
            for path in ["/", "/activity", "/conflicts", "/integrations/new", "/sign-in"] {
                let page = try await browser.get(path)
                #expect(page.status == .ok, "\(path)")
                let policy = try #require(page.headers[.contentSecurityPolicy], "\(path)")
                #expect(policy.contains("frame-ancestors 'none'"))
                #expect(policy.contains("script-src 'self'"))
                #expect(!policy.contains("unsafe-inline"))
                #expect(page.headers[.xContentTypeOptions] == "nosniff")
                #expect(page.headers[HTTPField.Name("Referrer-Policy")!] == "same-origin")
                #expect(!page.text.contains("<script>"), "no inline script on \(path)")
            }
        }
    }

    @Test func aFormWithoutTheSessionsTokenOrFromAnotherSiteIsRefused() async throws {
        try await withDashboard { _, client in
            var browser = Browser(client: client)
            _ = try await browser.signIn("fm@school.test")
            let form = [("platform", "quickbooks_online"), ("name", "Forged"), ("tenant_id", "school-1")]
            let missing = try await browser.post("/integrations", form: form)
            #expect(missing.status == .forbidden)
            #expect(missing.text.contains("form token"))
            let wrong = try await browser.post("/integrations", form: form + [("_csrf", "forged")])
            #expect(wrong.status == .forbidden)
            let overview = try await browser.get("/")
            let csrf = try #require(Browser.field("_csrf", in: overview.text))
            let crossSite = try await browser.post(
                "/integrations", form: form + [("_csrf", csrf)], headers: ["Sec-Fetch-Site": "cross-site"])
            #expect(crossSite.status == .forbidden)
            let list = try await browser.get("/")
            #expect(!list.text.contains("Forged"))
        }
    }

    /// A file upload carries the session's form token in its action's query: without it, with another, from
    /// another site or from a viewer it is refused and nothing is read; with it, the page says where the file was
    /// refused.
    @Test func aFileUploadNeedsTheSessionsTokenAndAnOperator() async throws {
        try await withDashboard { app, client in
            let integration = try await app.components.database.createIntegration(
                tenantID: "school-1", platform: .sage50, name: "Sage 50", settings: [:], sync: .init(),
                box: app.components.box, actor: "test")
            let path = "/integrations/\(integration.id)/files/upload"
            let file = "No,Type,Account,Nominal,Date,Ref,Ex.Ref,Net,Tax\r\n1,XX,A,4000,01/04/2026,R,E,1.00,0.00\r\n"
            var viewer = Browser(client: client)
            _ = try await viewer.signIn("viewer@school.test")
            let viewersToken = try #require(Browser.field("_csrf", in: try await viewer.get("/").text))
            #expect(try await viewer.upload(path + "?_csrf=\(viewersToken)", file: file).status == .forbidden)

            var browser = Browser(client: client)
            _ = try await browser.signIn("fm@school.test")
            let csrf = try #require(Browser.field("_csrf", in: try await browser.get("/").text))
            let missing = try await browser.upload(path, file: file)
            #expect(missing.status == .forbidden)
            #expect(missing.text.contains("form token"))
            #expect(try await browser.upload(path + "?_csrf=forged", file: file).status == .forbidden)
            #expect(try await browser.upload(path + "?_csrf=\(viewersToken)", file: file).status == .forbidden)
            let crossSite = try await browser.upload(
                path + "?_csrf=\(csrf)", file: file, headers: ["Sec-Fetch-Site": "cross-site"])
            #expect(crossSite.status == .forbidden)

            let refused = try await browser.upload(path + "?_csrf=\(csrf)", file: file)
            #expect(refused.status == .seeOther)
            #expect(refused.headers[.location] == "/integrations/\(integration.id)?upload_refused=2&column=Type")
            let page = try await browser.get(refused.headers[.location] ?? "")
            #expect(page.text.contains("Sage 50&#39;s file was refused at row 2, column Type: nothing was imported."))
        }
    }

    /// The integration page shows what is left of the platform's limits, and of each share of Xero's day, as the API
    /// does.
    @Test func anIntegrationPageShowsWhatIsLeftOfThePlatformsLimits() async throws {
        try await withDashboard(registry: .standard) { app, client in
            let integration = try await app.components.database.createIntegration(
                tenantID: "school-1", platform: .xero, name: "Greenfield Xero",
                settings: ["client_id": "id", "client_secret": "secret"], sync: .init(),
                box: app.components.box, actor: "test")
            var browser = Browser(client: client)
            _ = try await browser.signIn("viewer@school.test")
            let page = try await browser.get("/integrations/\(integration.id)")
            #expect(page.text.contains("id=\"rate-limits\""))
            #expect(page.text.contains("<strong>Calls</strong>: 60 of 60 left (a minute)"), "\(page.text)")
            #expect(page.text.contains("<strong>Day calls</strong>: 5000 of 5000 left (a day)"))
            #expect(page.text.contains("Left for polling 5000 · live work 4400 · full syncs 3000"))

            let shown = try await Client(client: client).call(.get, "/api/v1/integrations/\(integration.id)")
            let day = shown.json["rate_limits"]?.arrayValue?.last
            #expect(day?["window"] == "day" && day?["remaining"] == 5000 && day?["period_seconds"] == 86401)
            #expect(day?["remaining_by_share"] == ["polling": 5000, "live": 4400, "bulk": 3000])
        }
    }

    @Test func aViewerSeesNoWriteControlsAndItsPostsAreRefused() async throws {
        try await withDashboard { app, client in
            let integration = try await app.components.database.createIntegration(
                tenantID: "school-1", platform: .quickBooksOnline, name: "Springfield books",
                settings: ["client_id": "id", "client_secret": "secret"], sync: .init(),
                box: app.components.box, actor: "test")
            var browser = Browser(client: client)
            _ = try await browser.signIn("viewer@school.test")
            let overview = try await browser.get("/")
            #expect(overview.text.contains("Springfield books"))
            #expect(!overview.text.contains("Connect an integration"))
            #expect(!overview.text.contains("<button type=\"submit\" class=\"secondary\">Full sync"))
            let page = try await browser.get("/integrations/\(integration.id)")
            #expect(!page.text.contains("id=\"save-settings\""))
            let csrf = try #require(Browser.field("_csrf", in: overview.text))
            let forged = try await browser.post(
                "/integrations/\(integration.id)", form: [("_csrf", csrf), ("status", "disabled")])
            #expect(forged.status == .forbidden)
            #expect(forged.text.contains("finance_manager"))
            let still = try #require(try await app.components.database.integration(id: integration.id))
            #expect(still.status != .disabled)
        }
    }

    @Test func valuesAreEscapedAndTemplatesNeverSkipEscaping() async throws {
        try await withDashboard { app, client in
            _ = try await app.components.database.createIntegration(
                tenantID: "school-1", platform: .quickBooksOnline, name: "<script>alert(1)</script>\" onmouseover=\"x",
                settings: [:], sync: .init(), box: app.components.box, actor: "test")
            var browser = Browser(client: client)
            _ = try await browser.signIn("fm@school.test")
            let overview = try await browser.get("/")
            #expect(overview.text.contains("&lt;script&gt;alert(1)&lt;/script&gt;&quot; onmouseover=&quot;x"))
            #expect(!overview.text.contains("<script>alert(1)"))
        }
        let templates = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Sources/App/Templates")
        let files = try FileManager.default.contentsOfDirectory(atPath: templates.path).filter {
            $0.hasSuffix(".mustache")
        }
        #expect(files.count >= 8)
        for file in files {
            let text = try String(contentsOf: templates.appendingPathComponent(file), encoding: .utf8)
            #expect(!text.contains("{{{"), "\(file) renders a value unescaped")
            #expect(!text.contains("{{&"), "\(file) renders a value unescaped")
            #expect(!text.contains("<script>"), "\(file) has an inline script")
            #expect(!text.contains("style=\""), "\(file) has an inline style the policy would block")
        }
    }

    @Test func aTenantsPersonSeesOnlyTheirSchool() async throws {
        try await withDashboard { app, client in
            let database = app.components.database
            _ = try await database.createIntegration(
                tenantID: "school-1", platform: .quickBooksOnline, name: "Ours", settings: [:], sync: .init(),
                box: app.components.box, actor: "test")
            let theirs = try await database.createIntegration(
                tenantID: "school-2", platform: .quickBooksOnline, name: "Theirs", settings: [:], sync: .init(),
                box: app.components.box, actor: "test")
            var browser = Browser(client: client)
            _ = try await browser.signIn("fm@school.test")
            let overview = try await browser.get("/")
            #expect(overview.text.contains("Ours"))
            #expect(!overview.text.contains("Theirs"))
            let other = try await browser.get("/integrations/\(theirs.id)")
            #expect(other.status == .notFound)
            let mappings = try await browser.get("/integrations/\(theirs.id)/mappings")
            #expect(mappings.status == .notFound)
        }
    }
}
