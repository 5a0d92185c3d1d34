import Accounting
import App
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Persistence
import Testing

/// The settings pages in-process: API keys shown once and working until revoked, people added who can sign in, roles
/// and schools kept apart exactly as the API keeps them, a subscription's attempts in words, and a refused form
/// showing each error beside its field with what was typed.
@Suite struct SettingsPagesTests {
    typealias Browser = DashboardTests.Browser
    static let password = DashboardTests.password

    func withSettings(_ body: @Sendable (TestApp, any TestClientProtocol) async throws -> Void) async throws {
        let app = try TestApp()
        let database = app.components.database
        for (email, name, role, tenant) in [
            ("admin@school.test", "Ada Admin", User.Role.admin, nil),
            ("head@school.test", "Hema Head", .admin, "school-1"),
            ("fm@school.test", "Fiona Manager", .financeManager, "school-1"),
            ("viewer@school.test", "Vic Viewer", .viewer, "school-1"),
        ] as [(String, String, User.Role, String?)] {
            _ = try await database.addUser(
                email: email, name: name, role: role, tenantID: tenant, password: Self.password, actor: "test")
        }
        try await app.application.test(.router) { client in try await body(app, client) }
    }

    /// A signed-in browser and the form token of its session, which every form it sends carries.
    struct Session {
        var browser: Browser
        let csrf: String

        mutating func get(_ uri: String) async throws -> Browser.Page { try await browser.get(uri) }

        mutating func post(_ uri: String, _ fields: [(String, String)] = []) async throws -> Browser.Page {
            try await browser.post(uri, form: [("_csrf", csrf)] + fields)
        }
    }

    /// Signs in as `email`.
    func signedIn(_ email: String, _ client: any TestClientProtocol) async throws -> Session {
        var browser = Browser(client: client)
        let signIn = try await browser.signIn(email)
        #expect(signIn.status == .seeOther, "\(email) signs in")
        let overview = try await browser.get("/")
        return Session(browser: browser, csrf: try #require(Browser.field("_csrf", in: overview.text)))
    }

    /// The `value` of the element with `id` in `text`.
    static func value(ofID id: String, in text: String) -> String? {
        guard let start = text.range(of: "id=\"\(id)\"") else { return nil }
        guard let value = text[start.upperBound...].range(of: "value=\"") else { return nil }
        return String(text[value.upperBound...].prefix { $0 != "\"" })
    }

    @Test func anAPIKeyIsShownOnceThenListedWithoutItAndWorksUntilRevoked() async throws {
        try await withSettings { app, client in
            var session = try await signedIn("admin@school.test", client)
            let empty = try await session.get("/settings/api-keys")
            #expect(empty.status == .ok)
            #expect(empty.text.contains("No API keys yet."))
            let created = try await session.post(
                "/settings/api-keys",
                [("name", "Reconciliation"), ("role", "viewer"), ("tenant_id", "")])
            #expect(created.status == .created)
            #expect(created.text.contains("Copy this key now."))
            let token = try #require(Self.value(ofID: "new-key", in: created.text))
            #expect(token.hasPrefix("lw_") && token.count > 40)

            let listed = try await session.get("/settings/api-keys")
            #expect(listed.text.contains("Reconciliation"))
            #expect(!listed.text.contains(token), "the key is shown once only")
            #expect(!listed.text.contains("Copy this key now."))

            let api = Client(client: client)
            #expect(try await api.call(.get, "/api/v1/integrations", token: token).status == .ok)
            #expect(try await api.call(.get, "/api/v1/users", token: token).status == .forbidden, "a viewer key")

            let key = try #require(try await app.components.database.apiKeys(page: PageRequest()).items.first)
            #expect(key.name == "Reconciliation" && key.role == .viewer && key.tenantID == nil)
            let audit = try await api.call(.get, "/api/v1/audit")
            #expect("\(audit.json)".contains("api_key.created"))
            #expect(!"\(audit.json)".contains(token))

            let revoked = try await session.post("/settings/api-keys/\(key.id)/revoke")
            #expect(revoked.status == .seeOther)
            let after = try await session.get(try #require(revoked.headers[.location]))
            #expect(after.text.contains("The key was revoked"))
            #expect(!after.text.contains("Reconciliation"))
            #expect(try await api.call(.get, "/api/v1/integrations", token: token).status == .unauthorized)
        }
    }

    @Test func aUserAddedOnTheSettingsPageSignsInAndCanBeGivenANewPasswordAndRemoved() async throws {
        try await withSettings { app, client in
            var session = try await signedIn("admin@school.test", client)
            let added = try await session.post(
                "/settings/users",
                [
                    ("email", "Nadia@School.test"), ("name", "Nadia Nair"),
                    ("role", "finance_manager"), ("tenant_id", "school-2"), ("password", "a long first password"),
                ])
            #expect(added.status == .seeOther)
            let list = try await session.get(try #require(added.headers[.location]))
            #expect(list.text.contains("User added"))
            #expect(list.text.contains("Nadia Nair") && list.text.contains("nadia@school.test"))
            #expect(!list.text.contains("a long first password"))
            let nadia = try #require(try await app.components.database.user(email: "nadia@school.test"))
            #expect(nadia.role == .financeManager && nadia.tenantID == "school-2")

            var hers = Browser(client: client)
            let signIn = try await hers.signIn("nadia@school.test", password: "a long first password")
            #expect(signIn.status == .seeOther && signIn.headers[.location] == "/")
            #expect(try await hers.get("/").text.contains("Nadia Nair"))

            let form = try await session.get("/settings/users/\(nadia.id)/password")
            #expect(form.status == .ok && form.text.contains("A new password for Nadia Nair"))
            let reset = try await session.post(
                "/settings/users/\(nadia.id)/password", [("password", "the second password")])
            #expect(reset.status == .seeOther)
            #expect(try await hers.get("/").status == .seeOther, "her session ended with the reset")
            var again = Browser(client: client)
            #expect(
                try await again.signIn("nadia@school.test", password: "a long first password").status == .unauthorized)
            #expect(try await again.signIn("nadia@school.test", password: "the second password").status == .seeOther)

            let removed = try await session.post("/settings/users/\(nadia.id)/remove")
            #expect(removed.status == .seeOther)
            #expect(!(try await session.get("/settings/users").text.contains("Nadia Nair")))
            #expect(try await again.get("/").status == .seeOther, "her session ended with her removal")
        }
    }

    @Test func financeManagersAndViewersSeeOnlyTheirSchoolsSettingsAndTheOtherFormsAreRefused() async throws {
        try await withSettings { app, client in
            var admin = try await signedIn("admin@school.test", client)
            let adminsOverview = try await admin.get("/")
            #expect(adminsOverview.text.contains("href=\"/settings\""))
            let index = try await admin.get("/settings")
            for section in ["school", "webhook-sources", "subscriptions", "api-keys", "users"] {
                #expect(index.text.contains("href=\"/settings/\(section)\""), "\(section)")
            }
            let database = app.components.database
            let user = try #require(try await database.user(email: "viewer@school.test"))
            for email in ["fm@school.test", "viewer@school.test"] {
                var session = try await signedIn(email, client)
                let overview = try await session.get("/")
                #expect(overview.text.contains("href=\"/settings\""), "\(email) sees the settings link")
                let index = try await session.get("/settings")
                #expect(index.status == .ok && index.text.contains("href=\"/settings/school\""), "\(email)")
                for section in ["webhook-sources", "subscriptions", "api-keys", "users"] {
                    #expect(!index.text.contains("href=\"/settings/\(section)\""), "\(email) sees \(section)")
                }
                for path in ["/settings/api-keys", "/settings/users", "/settings/webhook-sources"] {
                    #expect(try await session.get(path).status == .forbidden, "\(email) GET \(path)")
                }
                let posts: [(String, [(String, String)])] = [
                    ("/settings/api-keys", [("name", "Mine"), ("role", "admin")]),
                    ("/settings/api-keys/key_x/revoke", []),
                    (
                        "/settings/users",
                        [
                            ("email", "sneaky@school.test"), ("name", "Sneaky"), ("role", "admin"),
                            ("password", "a long enough password"),
                        ]
                    ),
                    ("/settings/users/\(user.id)/remove", []),
                    ("/settings/users/\(user.id)/password", [("password", "a long enough password")]),
                    ("/settings/webhook-sources", [("source", "billing")]),
                    ("/settings/webhook-sources/src_x/delete", []),
                    ("/settings/subscriptions", [("url", "http://127.0.0.1:9/hook"), ("event_types", "*")]),
                    ("/settings/subscriptions/sub_x/enable", []),
                    ("/settings/subscriptions/sub_x/delete", []),
                ]
                for (path, fields) in posts {
                    let answer = try await session.post(path, fields)
                    #expect(answer.status == .forbidden, "\(email) POST \(path)")
                }
                // A viewer reads subscriptions as the API lets them, without a control that changes one.
                let subscriptions = try await session.get("/settings/subscriptions")
                #expect(subscriptions.status == .ok)
                #expect(!subscriptions.text.contains("id=\"subscription-form\""))
            }
            #expect(try await database.apiKeys(page: PageRequest()).items.isEmpty)
            #expect(try await database.user(email: "sneaky@school.test") == nil)
            #expect(try await database.webhookSources(page: PageRequest()).items.isEmpty)
            #expect(try await database.webhookSubscriptions(tenantID: nil, page: PageRequest()).items.isEmpty)
        }
    }

    @Test func aSchoolsAdminSeesAndManagesOnlyTheirSchoolsKeysAndUsers() async throws {
        try await withSettings { app, client in
            let database = app.components.database
            _ = try await database.createAPIKey(name: "Ours", role: .viewer, tenantID: "school-1", actor: "test")
            let (theirs, _) = try await database.createAPIKey(
                name: "Theirs", role: .admin, tenantID: "school-2", actor: "test")
            let other = try await database.addUser(
                email: "other@school.test", name: "Otto Other", role: .viewer, tenantID: "school-2",
                password: Self.password, actor: "test")
            var session = try await signedIn("head@school.test", client)
            let index = try await session.get("/settings")
            #expect(index.status == .ok)
            #expect(!index.text.contains("/settings/webhook-sources"), "webhook sources are global")
            #expect(try await session.get("/settings/webhook-sources").status == .forbidden)

            let keys = try await session.get("/settings/api-keys")
            #expect(keys.text.contains("Ours") && !keys.text.contains("Theirs"))
            #expect(!keys.text.contains("id=\"key-tenant\""), "a school's admin makes keys of their school only")
            let users = try await session.get("/settings/users")
            #expect(users.text.contains("Fiona Manager") && !users.text.contains("Otto Other"))
            #expect(!users.text.contains("Ada Admin"), "a global admin is not theirs")

            let revoke = try await session.post("/settings/api-keys/\(theirs.id)/revoke")
            #expect(revoke.status == .notFound)
            let remove = try await session.post("/settings/users/\(other.id)/remove")
            #expect(remove.status == .notFound)
            #expect(try await session.get("/settings/users/\(other.id)/password").status == .notFound)
            #expect(try await database.user(id: other.id) != nil)

            let created = try await session.post(
                "/settings/api-keys", [("name", "Head's key"), ("role", "admin")])
            #expect(created.status == .created)
            let made = try #require(
                try await database.apiKeys(page: PageRequest()).items.first { $0.name == "Head's key" })
            #expect(made.tenantID == "school-1")
        }
    }

    @Test func aSubscriptionsAttemptsAreShownInPlainWordsAndADisabledOneIsEnabledAgain() async throws {
        try await withSettings { app, client in
            let database = app.components.database
            var session = try await signedIn("admin@school.test", client)
            let created = try await session.post(
                "/settings/subscriptions",
                [
                    ("url", "http://127.0.0.1:9/ledgerwire"),
                    ("event_types", "integration.disconnected"), ("event_types", "sync.failed"),
                    ("description", "Finance team's receiver"),
                ])
            #expect(created.status == .created)
            let secret = try #require(Self.value(ofID: "new-secret", in: created.text))
            #expect(secret.hasPrefix("whsec_"))
            let subscription = try #require(
                try await database.webhookSubscriptions(tenantID: nil, page: PageRequest()).items.first)
            #expect(subscription.eventTypes == ["integration.disconnected", "sync.failed"])
            let listed = try await session.get("/settings/subscriptions")
            #expect(listed.text.contains("Finance team"))
            #expect(!listed.text.contains(secret))

            let empty = try await session.get("/settings/subscriptions/\(subscription.id)")
            #expect(empty.text.contains("Nothing has been sent to this receiver yet."))

            // Two events, one answered 500 and one never answered, which disables the subscription.
            for name in ["First books", "Second books"] {
                let integration = try await database.createIntegration(
                    tenantID: "school-1", platform: .quickBooksOnline, name: name, settings: [:], sync: .init(),
                    box: app.components.box, actor: "test")
                try await database.setIntegrationStatus(
                    id: integration.id, to: .disconnected, actor: "test", reason: "the grant was revoked")
            }
            let due = try await database.claimEventDeliveries(
                now: .now(), lease: .seconds(60), limit: 10, box: app.components.box)
            #expect(due.count == 2)
            try await database.recordEventAttempt(
                due[0],
                result: .init(
                    attemptedAt: .now(), duration: .milliseconds(42), responseStatus: 500, error: nil,
                    nextAttemptAt: .now().adding(.seconds(60)))
            ) { _ in .keep }
            try await database.recordEventAttempt(
                due[1],
                result: .init(
                    attemptedAt: .now(), duration: .milliseconds(3), responseStatus: nil,
                    error: "could not connect: connection refused", nextAttemptAt: nil)
            ) { _ in .disable(reason: "its receiver failed every attempt for 3 days") }

            let attempts = try await session.get("/settings/subscriptions/\(subscription.id)")
            #expect(attempts.status == .ok)
            #expect(attempts.text.contains("The receiver answered 500 Internal Server Error."))
            #expect(attempts.text.contains("Could not connect: connection refused."))
            #expect(attempts.text.contains("integration.disconnected"))
            #expect(attempts.text.contains("its receiver failed every attempt for 3 days"))

            let disabled = try await session.get("/settings/subscriptions")
            #expect(disabled.text.contains("Re-enable"))
            let enabled = try await session.post(
                "/settings/subscriptions/\(subscription.id)/enable")
            #expect(enabled.status == .seeOther)
            let after = try await session.get(try #require(enabled.headers[.location]))
            #expect(after.text.contains("Subscription enabled again"))
            #expect(!after.text.contains("Re-enable"))
            #expect(try await database.webhookSubscription(id: subscription.id, tenantID: nil)?.status == .active)

            // A viewer of the school reads the attempts too, without the controls.
            var viewer = try await signedIn("viewer@school.test", client)
            let theirs = try await viewer.get("/settings/subscriptions/\(subscription.id)")
            #expect(theirs.status == .notFound, "a subscription of every school is not one school's to see")
        }
    }

    @Test func aRefusedFormShowsEachErrorBesideItsFieldAndKeepsWhatWasTypedButNoSecret() async throws {
        try await withSettings { app, client in
            var session = try await signedIn("admin@school.test", client)
            let user = try await session.post(
                "/settings/users",
                [
                    ("email", "not-an-email"), ("name", "Nadia <Nair>"), ("role", "finance_manager"),
                    ("tenant_id", "school-2"), ("password", "short"),
                ])
            #expect(user.status == .unprocessableContent)
            #expect(user.text.contains("id=\"user-email-error\">Email must be an email address"))
            #expect(user.text.contains("id=\"user-password-error\">Password "))
            #expect(Self.value(ofID: "user-email", in: user.text) == "not-an-email")
            #expect(Self.value(ofID: "user-name", in: user.text) == "Nadia &lt;Nair&gt;")
            #expect(Self.value(ofID: "user-tenant", in: user.text) == "school-2")
            #expect(user.text.contains("<option value=\"finance_manager\" selected>"))
            #expect(!user.text.contains("short\""), "a password is never shown back")
            #expect(!user.text.contains("id=\"user-name-error\""), "no error beside a field that is right")

            _ = try await app.components.database.addUser(
                email: "taken@school.test", name: "Taken", role: .viewer, tenantID: nil, password: Self.password,
                actor: "test")
            let taken = try await session.post(
                "/settings/users",
                [
                    ("email", "taken@school.test"), ("name", "Second"), ("role", "viewer"),
                    ("password", "a long enough password"),
                ])
            #expect(taken.status == .conflict)
            #expect(taken.text.contains("id=\"user-email-error\">Email is already used by another user."))

            let source = try await session.post(
                "/settings/webhook-sources",
                [("source", "billing"), ("secret", "not-a-whsec-secret")])
            #expect(source.status == .unprocessableContent)
            #expect(source.text.contains("id=\"source-secret-error\">Secret must be whsec_"))
            #expect(!source.text.contains("not-a-whsec-secret"), "a secret is never shown back")
            #expect(source.text.contains("<option value=\"billing\" selected>"))

            let subscription = try await session.post(
                "/settings/subscriptions",
                [("url", "ftp://example.test/hook"), ("description", "Kept")])
            #expect(subscription.status == .unprocessableContent)
            #expect(subscription.text.contains("id=\"subscription-url-error\">URL "))
            #expect(subscription.text.contains("id=\"subscription-events-error\">Events is required."))
            #expect(Self.value(ofID: "subscription-url", in: subscription.text) == "ftp://example.test/hook")
            #expect(Self.value(ofID: "subscription-description", in: subscription.text) == "Kept")

            let key = try await session.post("/settings/api-keys", [("role", "viewer")])
            #expect(key.status == .unprocessableContent)
            #expect(key.text.contains("id=\"key-name-error\">Name is required."))
            #expect(try await app.components.database.apiKeys(page: PageRequest()).items.isEmpty)
        }
    }

    @Test func aBillingSecretLeftEmptyIsGeneratedAndShownOnce() async throws {
        try await withSettings { app, client in
            var session = try await signedIn("admin@school.test", client)
            let empty = try await session.get("/settings/webhook-sources")
            #expect(empty.text.contains("No webhook secrets yet"))
            let generated = try await session.post(
                "/settings/webhook-sources", [("source", "billing"), ("secret", "")])
            #expect(generated.status == .created)
            let secret = try #require(Self.value(ofID: "new-secret", in: generated.text))
            #expect(secret.hasPrefix("whsec_"))
            let listed = try await session.get("/settings/webhook-sources")
            #expect(listed.text.contains("Cognify billing") && !listed.text.contains(secret))
            let stored = try await app.components.database.webhookSecrets(source: "billing", box: app.components.box)
            #expect(stored.map(\.secret) == [secret])

            let typed = try await session.post(
                "/settings/webhook-sources",
                [("source", "quickbooks"), ("secret", "verifier-token-typed-in")])
            #expect(typed.status == .seeOther)
            let page = try await session.get(try #require(typed.headers[.location]))
            #expect(page.text.contains("QuickBooks Online") && !page.text.contains("verifier-token-typed-in"))

            let id = try #require(stored.first?.sourceID)
            let deleted = try await session.post("/settings/webhook-sources/\(id)/delete")
            #expect(deleted.status == .seeOther)
            #expect(
                try await app.components.database.webhookSecrets(source: "billing", box: app.components.box).isEmpty)
        }
    }

    @Test func aLongListIsShownAPageAtATime() async throws {
        try await withSettings { app, client in
            let database = app.components.database
            for number in 1...120 {
                _ = try await database.createAPIKey(
                    name: "Key number \(number).", role: .viewer, tenantID: nil, actor: "test")
            }
            var session = try await signedIn("admin@school.test", client)
            var seen = 0
            var path: String? = "/settings/api-keys"
            var pages = 0
            while let next = path {
                let page = try await session.get(next)
                #expect(page.status == .ok)
                seen += page.text.components(separatedBy: "class=\"danger revoke\"").count - 1
                pages += 1
                path = page.text.range(of: "<p class=\"pager\"><a href=\"").map { start in
                    String(page.text[start.upperBound...].prefix { $0 != "\"" }).replacingOccurrences(
                        of: "&amp;", with: "&")
                }
            }
            #expect(pages == 3 && seen == 120, "\(pages) pages, \(seen) keys")
            let first = try await session.get("/settings/api-keys")
            #expect(first.text.contains("Key number 1.") && !first.text.contains("Key number 51."))
        }
    }
}
