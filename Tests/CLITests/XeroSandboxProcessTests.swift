import Accounting
import Foundation
import TestSupport
import Testing

/// `ledgerwire sandbox xero` run as a developer runs it.
@Suite struct XeroSandboxProcessTests {
    @Test func printsTheSettingsAndOffersEveryOrganisationOnTheConsentPage() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let redirect = "http://127.0.0.1:8080/oauth/callback"
        let sandbox = try await ServerProcess(
            [
                "sandbox", "xero", "--port", "0", "--redirect-uri", redirect, "--organisation", "Cognify UK:GBP:GB",
                "--organisation", "Cognify India:INR:IN",
            ],
            announcing: "Xero sandbox on ", directory: directory.url)
        defer { sandbox.signal(SIGTERM) }
        let output = (try? String(contentsOf: sandbox.output, encoding: .utf8)) ?? ""
        let settings = try #require(output.split(separator: "\n").first { $0.hasPrefix("integration settings: ") })
        let json = try JSONValue(parsing: Array(settings.dropFirst("integration settings: ".count).utf8))
        #expect(json["oauth_authorize_url"] == .string(sandbox.baseURL + "/identity/connect/authorize"))
        #expect(json["oauth_token_url"] == .string(sandbox.baseURL + "/connect/token"))
        #expect(json["connections_url"] == .string(sandbox.baseURL + "/connections"))
        #expect(json["api_base_url"] == .string(sandbox.baseURL + "/api.xro/2.0"))

        let page = try #require(
            await sandbox.call(
                "GET",
                "/identity/connect/authorize?response_type=code&client_id=sandbox-client&scope=offline_access"
                    + "%20accounting.transactions&state=s1&redirect_uri=\(redirect)"))
        let html = String(decoding: page.1, as: UTF8.self)
        #expect(page.0 == 200 && html.contains("Cognify UK") && html.contains("Cognify India"))
        let unauthenticated = try #require(await sandbox.call("GET", "/api.xro/2.0/Organisation"))
        #expect(unauthenticated.0 == 401)
        #expect(try JSONValue(parsing: Array(unauthenticated.1))["Detail"] == "AuthenticationUnsuccessful")
    }
}
