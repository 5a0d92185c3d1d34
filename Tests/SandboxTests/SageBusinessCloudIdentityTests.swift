import Accounting
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@testable import Sandbox

/// Sage's OAuth as the emulator gives it: a consent, codes single-use within 60 seconds, five-minute access tokens,
/// refresh tokens that rotate and live 31 days; and the business a call acts on.
@Suite struct SageBusinessCloudIdentityTests {
    static let authorize =
        "/oauth2/auth/central?filter=apiv3.1&response_type=code&client_id=client-1"
        + "&redirect_uri=https%3A%2F%2Fledgerwire.test%2Foauth%2Fcallback&scope=full_access&state=s1"
    static let redirect = "https%3A%2F%2Fledgerwire.test%2Foauth%2Fcallback"

    /// Opens the consent page and presses a button as the person would: the redirect's query.
    func consent(
        _ harness: SageBusinessCloudHarness, decision: SageBusinessCloudConsent.Decision = .allow
    ) async throws -> [String: String] {
        let page = try await harness.call(.get, Self.authorize, token: .some(nil), business: .some(nil))
        #expect(page.status == .ok)
        #expect(page.text.contains("Cognify School"))
        let form = try #require(SageBusinessCloudConsent(authorizeURL: Self.authorize, decision: decision))
        let answer = try await harness.call(
            .post, form.action, token: .some(nil), business: .some(nil), text: form.body,
            headers: [.contentType: SageBusinessCloudConsent.contentType])
        #expect(answer.status == .found)
        let location = try #require(answer.headers[.location].flatMap(URLComponents.init(string:)))
        #expect(location.host == "ledgerwire.test")
        return Dictionary(
            (location.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { a, _ in a })
    }

    func exchange(_ harness: SageBusinessCloudHarness, _ form: String) async throws -> SageBusinessCloudHarness.Answer {
        try await harness.call(
            .post, "/token", token: .some(nil), business: .some(nil),
            text: "client_id=client-1&client_secret=secret-1&" + form,
            headers: [.contentType: "application/x-www-form-urlencoded"])
    }

    func codeForm(_ code: String) -> String {
        "grant_type=authorization_code&code=\(code)&redirect_uri=\(Self.redirect)"
    }

    @Test func aCodeGivesFiveMinuteTokensOnceOnly() async throws {
        try await SageBusinessCloudHarness.run { harness in
            let query = try await consent(harness)
            #expect(query["state"] == "s1")
            let code = try #require(query["code"])
            let tokens = try await exchange(harness, codeForm(code))
            #expect(tokens.status == .ok)
            #expect(tokens.json["expires_in"] == 300)
            #expect(tokens.json["refresh_token_expires_in"] == 2_678_400)
            #expect(tokens.json["scope"] == "full_access")
            let access = try #require(tokens.json["access_token"]?.stringValue)
            let businesses = try await harness.call(
                .get, "/v3.1/businesses", token: .some(access), business: .some(nil))
            #expect(businesses.status == .ok)
            #expect(businesses.ids == [harness.business])
            #expect(businesses.json["$items"]?.arrayValue?.first?["displayed_as"] == "Cognify School")

            let again = try await exchange(harness, codeForm(code))
            #expect(again.status == .badRequest)
            #expect(again.json == ["error": "invalid_grant"])

            await harness.sandbox.advance(by: 301)
            let expired = try await harness.call(.get, "/v3.1/contacts", token: .some(access))
            #expect(expired.status == .unauthorized)
            #expect(expired.error?.dataCode == "AuthorizationFailure")
        }
    }

    @Test func aCodeExpiresAfterSixtySecondsAndNeedsItsRedirectURI() async throws {
        try await SageBusinessCloudHarness.run { harness in
            let late = try #require(try await consent(harness)["code"])
            await harness.sandbox.advance(by: 61)
            #expect(try await exchange(harness, codeForm(late)).json == ["error": "invalid_grant"])

            let code = try #require(try await consent(harness)["code"])
            let elsewhere = try await exchange(
                harness, "grant_type=authorization_code&code=\(code)&redirect_uri=https%3A%2F%2Fevil.test%2Fcb")
            #expect(elsewhere.json == ["error": "invalid_grant"])
            // The code was spent by the refused exchange: it is single-use whatever the outcome.
            #expect(try await exchange(harness, codeForm(code)).json == ["error": "invalid_grant"])
            let wrongSecret = try await harness.call(
                .post, "/token", token: .some(nil), business: .some(nil),
                text: "client_id=client-1&client_secret=nope&grant_type=refresh_token&refresh_token=x",
                headers: [.contentType: "application/x-www-form-urlencoded"])
            #expect(wrongSecret.json == ["error": "invalid_client"])
        }
    }

    @Test func denyingSendsThePersonBackWithAccessDenied() async throws {
        try await SageBusinessCloudHarness.run { harness in
            let query = try await consent(harness, decision: .deny)
            #expect(query["error"] == "access_denied")
            #expect(query["code"] == nil)
        }
    }

    @Test func refreshTokensRotateAndTheOldOneIsRefused() async throws {
        try await SageBusinessCloudHarness.run { harness in
            let (_, refresh) = await harness.sandbox.issueTokens(clientID: "client-1")
            let first = try await exchange(harness, "grant_type=refresh_token&refresh_token=\(refresh)")
            #expect(first.status == .ok)
            let rotated = try #require(first.json["refresh_token"]?.stringValue)
            #expect(rotated != refresh)
            let access = try #require(first.json["access_token"]?.stringValue)
            #expect(try await harness.call(.get, "/v3.1/contacts", token: .some(access)).status == .ok)

            let reused = try await exchange(harness, "grant_type=refresh_token&refresh_token=\(refresh)")
            #expect(reused.status == .badRequest)
            #expect(reused.json == ["error": "invalid_grant"])
            #expect(try await exchange(harness, "grant_type=refresh_token&refresh_token=\(rotated)").status == .ok)
            #expect(await harness.sandbox.refreshGrants == 2)
        }
    }

    @Test func aRefreshTokenLivesThirtyOneDays() async throws {
        try await SageBusinessCloudHarness.run { harness in
            let (_, kept) = await harness.sandbox.issueTokens(clientID: "client-1")
            let (_, old) = await harness.sandbox.issueTokens(clientID: "client-1")
            await harness.sandbox.advance(by: 2_678_400 - 60)
            let fresh = try await exchange(harness, "grant_type=refresh_token&refresh_token=\(kept)")
            #expect(fresh.status == .ok)
            await harness.sandbox.advance(by: 120)
            let stale = try await exchange(harness, "grant_type=refresh_token&refresh_token=\(old)")
            #expect(stale.json == ["error": "invalid_grant"])
        }
    }

    @Test func theLeadBusinessAnswersWithoutXBusinessAndAnUnknownOneIsRefused() async throws {
        try await SageBusinessCloudHarness.run { harness in
            let other = try #require(await harness.sandbox.addBusiness(name: "Cognify Dublin", country: "IE"))
            let lead = try await harness.get("tax_rates?attributes=all", business: .some(nil))
            #expect(lead.ids.contains("GB_STANDARD"))
            let irish = try await harness.get("tax_rates?attributes=all", business: .some(other))
            #expect(irish.ids.contains("IE_STANDARD"))
            #expect(!irish.ids.contains("GB_STANDARD"))

            let unknown = try await harness.get("contacts", business: .some("0123456789abcdef0123456789abcdef"))
            #expect(unknown.status == .forbidden)
            #expect(unknown.error?.dataCode == "AuthorizationFailure")

            let leadBusiness = try await harness.call(.get, "/v3.1/businesses/lead", business: .some(nil))
            #expect(leadBusiness.json["id"]?.stringValue == harness.business)
            #expect(leadBusiness.json["name"] == "Cognify School")
        }
    }

    @Test func aReadOnlyTokenReadsButCannotWrite() async throws {
        try await SageBusinessCloudHarness.run { harness in
            let (access, _) = await harness.sandbox.issueTokens(clientID: "client-1", scope: "readonly")
            #expect(try await harness.call(.get, "/v3.1/contacts", token: .some(access)).status == .ok)
            let write = try await harness.call(
                .post, "/v3.1/contacts", token: .some(access),
                json: ["contact": ["name": "Ada", "contact_type_ids": ["CUSTOMER"]]])
            #expect(write.status == .forbidden)
            #expect(await harness.sandbox.records(businessID: harness.business, resource: "contacts").isEmpty)
        }
    }
}
