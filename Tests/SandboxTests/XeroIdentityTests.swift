import Accounting
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@testable import Sandbox

/// Xero's identity service as the emulator gives it: consent to one or several organisations, single-use codes,
/// rotating refresh tokens with a 30-minute grace, revocation and connections.
@Suite struct XeroIdentityTests {
    static let authorize =
        "/identity/connect/authorize?response_type=code&client_id=client-1"
        + "&redirect_uri=https%3A%2F%2Fledgerwire.test%2Foauth%2Fcallback"
        + "&scope=openid%20offline_access%20accounting.transactions%20accounting.contacts%20accounting.settings"
        + "&state=s1"

    /// Opens the consent page, then submits it as the person would.
    func consent(
        _ harness: XeroHarness, tenants: [String], decision: XeroConsent.Decision = .allow,
        authorize: String = authorize
    ) async throws -> XeroHarness.Answer {
        let page = try await harness.call(.get, authorize, token: .some(nil), tenant: .some(nil))
        #expect(page.status == .ok, "\(page.text)")
        for tenant in tenants { #expect(page.text.contains(#"value="\#(tenant)""#)) }
        let form = try #require(XeroConsent(authorizeURL: authorize, tenantIDs: tenants, decision: decision))
        return try await harness.call(
            .post, form.action, token: .some(nil), tenant: .some(nil), text: form.body,
            headers: [.contentType: XeroConsent.contentType])
    }

    func query(_ answer: XeroHarness.Answer) throws -> [String: String] {
        let location = try #require(answer.headers[.location].flatMap(URLComponents.init(string:)))
        return Dictionary(
            (location.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { a, _ in a })
    }

    func exchange(_ harness: XeroHarness, _ form: String) async throws -> XeroHarness.Answer {
        try await harness.call(
            .post, "/connect/token", token: .some(nil), tenant: .some(nil), text: form,
            headers: [.authorization: XeroHarness.basic, .contentType: "application/x-www-form-urlencoded"])
    }

    func code(_ harness: XeroHarness, tenants: [String]) async throws -> String {
        let answer = try await consent(harness, tenants: tenants)
        #expect(answer.status == .found)
        let items = try query(answer)
        #expect(items["state"] == "s1")
        return try #require(items["code"])
    }

    @Test func consentToSeveralOrganisationsConnectsEachAndTheCodeWorksOnce() async throws {
        try await XeroHarness.run { harness in
            let second = await harness.sandbox.addOrganisation(
                name: "Cognify India", baseCurrency: "INR", countryCode: "IN")
            let code = try await code(harness, tenants: [harness.tenant, second])
            let form =
                "grant_type=authorization_code&code=\(code)&redirect_uri=https%3A%2F%2Fledgerwire.test%2Foauth%2Fcallback"
            let tokens = try await exchange(harness, form)
            #expect(tokens.status == .ok && tokens.json["expires_in"] == 1800 && tokens.json["token_type"] == "Bearer")
            let access = try #require(tokens.json["access_token"]?.stringValue)
            #expect(tokens.json["refresh_token"]?.stringValue != nil)
            #expect(access.split(separator: ".").count == 3)
            let reused = try await exchange(harness, form)
            #expect(reused.status == .badRequest && reused.json == ["error": "invalid_grant"])

            let connections = try await harness.call(.get, "/connections", token: .some(access), tenant: .some(nil))
            let listed = connections.json.arrayValue ?? []
            #expect(Set(listed.compactMap { $0["tenantId"]?.stringValue }) == [harness.tenant, second])
            #expect(listed.allSatisfy { $0["tenantType"] == "ORGANISATION" && $0["authEventId"]?.stringValue != nil })
            #expect(listed.contains { $0["tenantName"] == "Cognify India" })
            let event = try #require(listed.first?["authEventId"]?.stringValue)
            let filtered = try await harness.call(
                .get, "/connections?authEventId=\(event)", token: .some(access), tenant: .some(nil))
            #expect(filtered.json.arrayValue?.count == 2)

            // Each organisation answers with this token; deleting a connection closes that one only.
            let india = try await harness.call(
                .get, "/api.xro/2.0/Organisation", token: .some(access), tenant: .some(second))
            #expect(india.first("Organisations")?["BaseCurrency"] == "INR")
            let connection = try #require(listed.first { $0["tenantId"]?.stringValue == second }?["id"]?.stringValue)
            let deleted = try await harness.call(
                .delete, "/connections/\(connection)", token: .some(access), tenant: .some(nil))
            #expect(deleted.status == .noContent)
            let closed = try await harness.call(
                .get, "/api.xro/2.0/Organisation", token: .some(access), tenant: .some(second))
            #expect(closed.status == .forbidden && closed.json["Detail"] == "AuthenticationUnsuccessful")
            #expect(closed.json["Title"] == "Forbidden" && closed.json["Status"] == 403 && closed.json["Type"] == .null)
            let still = try await harness.call(
                .get, "/api.xro/2.0/Organisation", token: .some(access), tenant: .some(harness.tenant))
            #expect(still.status == .ok)
        }
    }

    @Test func cancelRedirectsWithAccessDeniedAndAWrongRedirectIsNeverFollowed() async throws {
        try await XeroHarness.run { harness in
            let cancelled = try await consent(harness, tenants: [harness.tenant], decision: .cancel)
            #expect(cancelled.status == .found)
            #expect(try query(cancelled) == ["error": "access_denied", "state": "s1"])
            let wrong = try await harness.call(
                .get, Self.authorize.replacingOccurrences(of: "ledgerwire.test", with: "evil.test"), token: .some(nil),
                tenant: .some(nil))
            #expect(wrong.status == .badRequest && wrong.headers[.location] == nil)
            let badScope = try await harness.call(
                .get, Self.authorize.replacingOccurrences(of: "openid", with: "accounting.everything"),
                token: .some(nil), tenant: .some(nil))
            #expect(badScope.status == .found)
            #expect(try query(badScope)["error"] == "invalid_scope")
        }
    }

    @Test func withoutOfflineAccessNoRefreshTokenIsIssued() async throws {
        try await XeroHarness.run { harness in
            let authorize = Self.authorize.replacingOccurrences(of: "%20offline_access", with: "")
            let answer = try await consent(harness, tenants: [harness.tenant], authorize: authorize)
            let code = try #require(try query(answer)["code"])
            let tokens = try await exchange(
                harness,
                "grant_type=authorization_code&code=\(code)&redirect_uri=https%3A%2F%2Fledgerwire.test%2Foauth%2Fcallback"
            )
            #expect(tokens.status == .ok && tokens.json["access_token"] != nil && tokens.json["refresh_token"] == nil)
        }
    }

    @Test func refreshTokensRotateWithAThirtyMinuteGraceThenInvalidGrant() async throws {
        try await XeroHarness.run { harness in
            let (_, refresh) = await harness.sandbox.issueTokens(clientID: "client-1", tenantIDs: [harness.tenant])
            let first = try await exchange(harness, "grant_type=refresh_token&refresh_token=\(refresh)")
            #expect(first.status == .ok)
            let rotated = try #require(first.json["refresh_token"]?.stringValue)
            #expect(rotated != refresh)
            // Used again within the grace: the same new pair, not another.
            await harness.sandbox.advance(by: 29 * 60)
            let again = try await exchange(harness, "grant_type=refresh_token&refresh_token=\(refresh)")
            #expect(again.status == .ok && again.json["refresh_token"]?.stringValue == rotated)
            #expect(again.json["access_token"] == first.json["access_token"])
            await harness.sandbox.advance(by: 2 * 60)
            let late = try await exchange(harness, "grant_type=refresh_token&refresh_token=\(refresh)")
            #expect(late.status == .badRequest && late.json == ["error": "invalid_grant"])
            // The rotated one still works and rotates in turn.
            let next = try await exchange(harness, "grant_type=refresh_token&refresh_token=\(rotated)")
            #expect(next.status == .ok && next.json["refresh_token"]?.stringValue != rotated)
            #expect(await harness.sandbox.refreshGrants == 2)
            let badClient = try await harness.call(
                .post, "/connect/token", token: .some(nil), tenant: .some(nil),
                text: "grant_type=refresh_token&refresh_token=\(rotated)",
                headers: [
                    .authorization: "Basic " + Data("client-1:wrong".utf8).base64EncodedString(),
                    .contentType: "application/x-www-form-urlencoded",
                ])
            #expect(badClient.status == .badRequest && badClient.json == ["error": "invalid_client"])
        }
    }

    @Test func accessTokensExpireAfterThirtyMinutesWithTokenExpired() async throws {
        try await XeroHarness.run { harness in
            #expect(try await harness.get("Organisation").status == .ok)
            await harness.sandbox.advance(by: 1801)
            let expired = try await harness.get("Organisation")
            #expect(expired.status == .unauthorized && expired.json["Title"] == "Unauthorized")
            #expect(expired.json["Detail"]?.stringValue?.hasPrefix("TokenExpired: token expired at ") == true)
            #expect(expired.json["Extensions"] == [:] && expired.json["Instance"]?.stringValue != nil)
            let unknown = try await harness.call(.get, "/api.xro/2.0/Organisation", token: .some("not-a-token"))
            #expect(unknown.status == .unauthorized && unknown.json["Detail"] == "AuthenticationUnsuccessful")
        }
    }

    @Test func aMissingOrUnknownTenantIsForbidden() async throws {
        try await XeroHarness.run { harness in
            let other = await harness.sandbox.addOrganisation(name: "Not granted")
            for tenant: String? in [nil, "00000000-0000-0000-0000-000000000000", other] {
                let answer = try await harness.call(.get, "/api.xro/2.0/Contacts", tenant: .some(tenant))
                #expect(answer.status == .forbidden && answer.json["Detail"] == "AuthenticationUnsuccessful")
            }
        }
    }

    @Test func revocationRemovesTheConsentsConnectionsAndTokens() async throws {
        try await XeroHarness.run { harness in
            let (access, refresh) = await harness.sandbox.issueTokens(clientID: "client-1", tenantIDs: [harness.tenant])
            let revoked = try await harness.call(
                .post, "/connect/revocation", token: .some(nil), tenant: .some(nil), text: "token=\(refresh)",
                headers: [.authorization: XeroHarness.basic, .contentType: "application/x-www-form-urlencoded"])
            #expect(revoked.status == .ok)
            let connections = try await harness.call(
                .get, "/connections", token: .some(harness.token), tenant: .some(nil))
            #expect(connections.json == [])
            #expect(
                try await harness.call(.get, "/api.xro/2.0/Organisation", token: .some(access)).status == .unauthorized)
            #expect(try await harness.get("Organisation").status == .forbidden)
            let refreshed = try await exchange(harness, "grant_type=refresh_token&refresh_token=\(refresh)")
            #expect(refreshed.json == ["error": "invalid_grant"])
        }
    }
}
