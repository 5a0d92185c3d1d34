import Accounting
import App
import Foundation
import Persistence
import TestSupport
import Testing

/// The settings pages in headless Chromium, against a real Ledgerwire on loopback: an admin creates an API key by
/// clicking, sees it once and uses it against the API; adds a person, who then signs in. The pages are photographed
/// (`settings-api-keys`, `settings-users`; `LEDGERWIRE_SCREENSHOTS=docs/screenshots` makes the README's pictures).
@Suite(.serialized, .timeLimit(.minutes(3)))
struct SettingsBrowserTests {
    typealias World = QuickBooksWorld
    static let password = "correct horse battery staple"

    @Test func anAdminCreatesAnAPIKeyAndAddsAUserByClicking() async throws {
        try await World.run { world in
            _ = try await world.components.database.addUser(
                email: "ada@greenfield.test", name: "Ada Admin", role: .admin, tenantID: nil, password: Self.password,
                actor: "test")
            try await Browser.run(timeout: .seconds(10)) { browser in
                try await browser.open(world.ledgerwire + "/sign-in")
                try await browser.fill("#email", with: "ada@greenfield.test")
                try await browser.fill("#password", with: Self.password)
                try await browser.click("#sign-in")
                try await browser.click("nav a[href=\"/settings\"]")
                try await browser.click("#settings-api-keys")

                // An API key: shown once, with the warning, and it works against the API.
                try await browser.fill("#key-name", with: "Month-end reconciliation")
                try await browser.select("#key-role", value: "viewer")
                try await browser.click("#create-key")
                let token = try await browser.property("value", of: "#new-key").stringValue ?? ""
                #expect(token.hasPrefix("lw_"), "\(token)")
                #expect(try await browser.text("#created-key .alert").hasPrefix("Copy this key now."))
                #expect(try await browser.text("#api-keys").contains("Month-end reconciliation"))
                try await browser.screenshot("settings-api-keys")
                let answer = try await world.call("GET", world.ledgerwire + "/api/v1/integrations", token: token)
                #expect(answer.status == 200)
                try await browser.open(world.ledgerwire + "/settings/api-keys")
                #expect(try await browser.exists("#new-key") == false, "the key is shown once only")
                #expect(try await browser.text("#api-keys").contains("Month-end reconciliation"))

                // A person: added, listed, and able to sign in.
                try await browser.click("a[href=\"/settings\"]")
                try await browser.click("#settings-users")
                try await browser.fill("#user-email", with: "meera@greenfield.test")
                try await browser.fill("#user-name", with: "Meera Shah")
                try await browser.select("#user-role", value: "finance_manager")
                try await browser.fill("#user-tenant", with: World.tenant)
                try await browser.fill("#user-password", with: "meera's first password")
                try await browser.click("#add-user")
                try await browser.waitUntil("added") { try await browser.text(".notice").hasPrefix("User added") }
                #expect(try await browser.text("#users").contains("Meera Shah"))
                try await browser.screenshot("settings-users")
                try await browser.click("button.link")  // sign out
                try await browser.fill("#email", with: "meera@greenfield.test")
                try await browser.fill("#password", with: "meera's first password")
                try await browser.click("#sign-in")
                try await browser.waitUntil("signed in as Meera") {
                    try await browser.text(".who").hasPrefix("Meera Shah")
                }
                // A finance manager's settings hold the school's time zone, and nothing an admin keeps.
                try await browser.click("nav a[href=\"/settings\"]")
                _ = try await browser.waitFor("a[href=\"/settings/school\"]")
                #expect(
                    try await browser.exists("a[href=\"/settings/api-keys\"]") == false, "a finance manager's settings")
            }
        }
    }
}
