import Accounting
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Sandbox

/// Intuit's consent page: the person sees the app, what it asks for and the company, and presses Connect or Cancel.
extension QuickBooksOnlineSandboxTests {
    static let otherRealm = "4620816365212855651"
    static let registered = "https://ledgerwire.test/oauth/callback"

    func authorizeURI(state: String = "s1", redirect: String = Self.registered, extra: String = "") -> String {
        "/connect/oauth2?client_id=client-1&response_type=code&scope=com.intuit.quickbooks.accounting%20openid"
            + "&redirect_uri=\(redirect)&state=\(state)\(extra)"
    }

    func redirectParameters(_ answer: Answer) -> [String: String] {
        let location = answer.headers[.location].flatMap(URLComponents.init(string:))
        return Dictionary((location?.queryItems ?? []).map { ($0.name, $0.value ?? "") }) { first, _ in first }
    }

    @Test func theConsentPageShowsTheAppWhatItAsksForAndTheCompaniesToChooseFrom() async throws {
        try await withSandbox { sandbox, client, _ in
            await sandbox.registerClient(
                id: "client-1", secret: "secret-1", redirectURIs: [Self.registered], name: "Ledgerwire")
            await sandbox.addCompany(realmID: Self.otherRealm)
            let page = try await call(client, .get, authorizeURI(), token: nil)
            #expect(page.status == .ok && page.headers[.contentType] == "text/html; charset=utf-8")
            #expect(page.headers[.contentSecurityPolicy]?.contains("frame-ancestors 'none'") == true)
            let html = page.text
            #expect(html.contains(#"<span id="app-name">Ledgerwire</span>"#))
            #expect(html.contains("Read and change your company&#39;s accounting data"))
            #expect(html.contains("Know who you are with your Intuit account"))
            #expect(html.contains(#"<label for="realm">Company to connect</label>"#))
            #expect(html.contains(#"<option value="\#(realm)" selected>Sandbox Company \#(realm)</option>"#))
            #expect(html.contains(#"<option value="\#(Self.otherRealm)">Sandbox Company \#(Self.otherRealm)</option>"#))
            for (name, value) in [
                ("client_id", "client-1"), ("redirect_uri", Self.registered), ("response_type", "code"),
                ("scope", "com.intuit.quickbooks.accounting openid"), ("state", "s1"),
            ] {
                #expect(html.contains(#"<input type="hidden" name="\#(name)" value="\#(value)">"#), "\(name)")
            }
            #expect(html.contains(#"id="connect" name="decision" value="connect">Connect</button>"#))
            #expect(html.contains(#"id="cancel" name="decision" value="cancel">Cancel</button>"#))
            #expect(!html.contains("<script"))

            // The emulator's `realm` preselects a company.
            let preselected = try await call(client, .get, authorizeURI(extra: "&realm=\(Self.otherRealm)"), token: nil)
            #expect(preselected.text.contains(#"<option value="\#(Self.otherRealm)" selected>"#))
        }
    }

    @Test func aPersonWithOneCompanySeesItWithoutAChoiceAndEveryValueIsEscaped() async throws {
        try await withSandbox { _, client, _ in
            let page = try await call(client, .get, authorizeURI(state: "%22%3E%3Cscript%3Ex%3C/script%3E"), token: nil)
            #expect(page.status == .ok)
            #expect(!page.text.contains("<select"))
            #expect(page.text.contains("Company: <strong>Sandbox Company \(realm)</strong>"))
            #expect(page.text.contains(#"name="state" value="&quot;&gt;&lt;script&gt;x&lt;/script&gt;""#))
            #expect(!page.text.contains("<script"))
            #expect(page.text.contains(#"<span id="app-name">client-1</span>"#), "an app without a name shows its id")
        }
    }

    @Test func connectingSendsThePersonBackWithACodeForTheCompanyChosen() async throws {
        try await withSandbox { sandbox, client, _ in
            await sandbox.addCompany(realmID: Self.otherRealm)
            let connected = try await consent(client, authorizeURI(), realmID: Self.otherRealm)
            #expect(connected.status == .found)
            #expect(connected.headers[.location]?.hasPrefix(Self.registered + "?") == true)
            let parameters = redirectParameters(connected)
            #expect(parameters["state"] == "s1" && parameters["realmId"] == Self.otherRealm)
            let code = try #require(parameters["code"])
            let exchanged = try await call(
                client, .post, "/oauth2/v1/tokens/bearer", token: nil,
                text: "grant_type=authorization_code&code=\(code)&redirect_uri=\(Self.registered)",
                headers: [
                    .authorization: "Basic " + Data("client-1:secret-1".utf8).base64EncodedString(),
                    .contentType: "application/x-www-form-urlencoded",
                ])
            let token = try #require(exchanged.json["access_token"]?.stringValue)
            let other = "/v3/company/\(Self.otherRealm)/companyinfo/\(Self.otherRealm)"
            #expect(
                try await call(client, .get, other, token: token).status == .ok, "the grant opens the company chosen")
            let first = "/v3/company/\(realm)/companyinfo/\(realm)"
            #expect(try await call(client, .get, first, token: token).status == .unauthorized)

            // A company the person does not have cannot be chosen.
            let unknown = try await consent(client, authorizeURI(), realmID: "1234")
            #expect(unknown.status == .badRequest && unknown.headers[.location] == nil)
            #expect(unknown.json["error"] == "invalid_request")
        }
    }

    @Test func cancellingSendsThePersonBackWithAccessDenied() async throws {
        try await withSandbox { _, client, _ in
            let cancelled = try await consent(client, authorizeURI(), decision: .cancel)
            #expect(cancelled.status == .found)
            #expect(redirectParameters(cancelled) == ["error": "access_denied", "state": "s1"])
        }
    }

    /// The form is the person's browser talking: it is checked again, as the page was, and refused the same way.
    @Test func theConsentFormIsCheckedAgainWhenPosted() async throws {
        try await withSandbox { sandbox, client, _ in
            func post(_ body: String, contentType: String = QuickBooksConsent.contentType) async throws -> Answer {
                try await call(
                    client, .post, "/connect/oauth2", token: nil, text: body, headers: [.contentType: contentType])
            }
            let valid = try #require(QuickBooksConsent(authorizeURL: authorizeURI())).body
            let unregistered = try #require(
                QuickBooksConsent(authorizeURL: authorizeURI(redirect: "https://evil.test/oauth/callback")))
            let refused = try await post(unregistered.body)
            #expect(refused.status == .badRequest && refused.headers[.location] == nil)
            #expect(refused.json["error"] == "invalid_request")
            #expect(refused.json["error_description"]?.stringValue?.contains("redirect_uri") == true)
            let unknownClient = try await post(valid.replacingOccurrences(of: "client-1", with: "client-2"))
            #expect(unknownClient.status == .badRequest && unknownClient.json["error"] == "invalid_client")
            let noResponseType = try await post(valid.replacingOccurrences(of: "response_type=code", with: ""))
            #expect(noResponseType.status == .badRequest && noResponseType.json["error"] == "invalid_request")
            let wrongScope = try await post(valid.replacingOccurrences(of: "openid", with: "everything"))
            #expect(wrongScope.status == .found && redirectParameters(wrongScope)["error"] == "invalid_scope")
            #expect(redirectParameters(wrongScope)["code"] == nil)
            let noDecision = try await post(valid.replacingOccurrences(of: "decision=connect", with: ""))
            #expect(noDecision.status == .badRequest && noDecision.headers[.location] == nil)
            let json = try await post(valid, contentType: "application/json")
            #expect(json.status == .badRequest && json.headers[.location] == nil)
        }
    }
}
