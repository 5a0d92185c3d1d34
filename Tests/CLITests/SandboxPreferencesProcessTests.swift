import Accounting
import Foundation
import Hummingbird
import HummingbirdTesting
import Synchronization
import TestSupport
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `ledgerwire sandbox quickbooks-online --country --custom-transaction-numbers --currency`: the company's country,
/// its custom transaction numbers and its currencies, as `GET /preferences` and the API then show them.
@Suite struct SandboxPreferencesProcessTests {
    static let realm = "4620816365212855651"

    @Test func theCompanysCountryNumbersAndCurrenciesComeFromTheCommandLine() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let receiver = SandboxProcessTests.Receiver()
        try await Application(router: receiver.router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
            .test(.live) { client in
                let redirect = "http://127.0.0.1:\(client.port!)/callback"
                let sandbox = try await ServerProcess(
                    [
                        "sandbox", "quickbooks-online", "--port", "0", "--realm", Self.realm, "--country", "GB",
                        "--custom-transaction-numbers", "--currency", "EUR=0.85",
                    ],
                    announcing: "QuickBooks Online sandbox on ", directory: directory.url)
                defer { sandbox.signal(SIGTERM) }
                _ = await sandbox.consent(
                    "/connect/oauth2?client_id=sandbox-client&response_type=code&state=s1"
                        + "&scope=com.intuit.quickbooks.accounting&redirect_uri=\(redirect)")
                let code = try #require(receiver.callbacks.withLock { $0.first?["code"] })
                let credentials = Data("sandbox-client:sandbox-secret".utf8).base64EncodedString()
                let exchanged = try #require(
                    await sandbox.call(
                        "POST", "/oauth2/v1/tokens/bearer",
                        headers: [
                            "authorization": "Basic \(credentials)",
                            "content-type": "application/x-www-form-urlencoded",
                        ],
                        body: Array("grant_type=authorization_code&code=\(code)&redirect_uri=\(redirect)".utf8)))
                let token = try #require(try JSONValue(parsing: Array(exchanged.1))["access_token"]?.stringValue)
                func api(_ method: String, _ path: String, _ body: String? = nil) async throws -> JSONValue {
                    let answer = try #require(
                        await sandbox.call(
                            method, "/v3/company/\(Self.realm)/\(path)",
                            headers: ["authorization": "Bearer \(token)", "content-type": "application/json"],
                            body: body.map { Array($0.utf8) }))
                    return try JSONValue(parsing: Array(answer.1))
                }

                let preferences = try await api("GET", "preferences")["Preferences"]
                #expect(preferences?["SalesFormsPrefs"]?["CustomTxnNumbers"] == true)
                #expect(preferences?["CurrencyPrefs"]?["MultiCurrencyEnabled"] == true)
                #expect(preferences?["CurrencyPrefs"]?["HomeCurrency"]?["value"] == "GBP")
                // A British company: VAT at 20 % on tax code 5, and a euro customer invoiced at the rate given.
                let customer = try await api(
                    "POST", "customer", #"{"DisplayName":"Élodie","CurrencyRef":{"value":"EUR"}}"#)
                let customerID = try #require(customer["Customer"]?["Id"]?.stringValue, "\(customer)")
                let invoice = """
                    {"DocNumber":"SA-1","CustomerRef":{"value":"\(customerID)"},"Line":[{"Amount":100,\
                    "DetailType":"SalesItemLineDetail","SalesItemLineDetail":{"ItemRef":{"value":"7"},\
                    "TaxCodeRef":{"value":"5"}}}]}
                    """
                let created = try await api("POST", "invoice", invoice)["Invoice"]
                #expect(
                    created?["TotalAmt"] == 120 && created?["HomeTotalAmt"] == .number("102"), "\(created ?? .null)")
                let again = try await api("POST", "invoice", invoice)
                #expect(again["Fault"]?["Error"]?.arrayValue?.first?["code"] == "6140")
            }
    }

    @Test(arguments: [["--country", "FR"], ["--currency", "EUR"], ["--currency", "EUR=0"]])
    func aCountryOrCurrencyItDoesNotKnowIsRefused(_ arguments: [String]) async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (status, _) = try await ServerProcess.run(
            ["sandbox", "quickbooks-online", "--port", "0"] + arguments, in: directory.url)
        #expect(status == 64)  // EX_USAGE, with the reason on standard error
    }
}
