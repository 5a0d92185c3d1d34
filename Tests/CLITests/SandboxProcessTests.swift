import Accounting
import Connectors
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Sandbox
import Synchronization
import TestSupport
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `ledgerwire sandbox quickbooks-online` run as a developer runs it, with a receiver for its webhooks.
@Suite struct SandboxProcessTests {
    static let realm = "4620816365212855650"
    static let verifierToken = "cli-verifier-token-0c2f9a"

    /// What the receiver heard: webhook deliveries and OAuth callbacks.
    final class Receiver: Sendable {
        let deliveries = Mutex<[(signature: String?, body: [UInt8])]>([])
        let callbacks = Mutex<[[String: String]]>([])

        var router: Router<BasicRequestContext> {
            let router = Router()
            router.post("/quickbooks") { request, _ -> HTTPResponse.Status in
                let body = try await request.body.collect(upTo: 1 << 20)
                let signature = request.headers[HTTPField.Name("intuit-signature")!]
                self.deliveries.withLock { $0.append((signature, Array(body.readableBytesView))) }
                return .ok
            }
            router.get("/callback") { request, _ -> HTTPResponse.Status in
                var parameters: [String: String] = [:]
                for (name, value) in request.uri.queryParameters { parameters[String(name)] = String(value) }
                self.callbacks.withLock { $0.append(parameters) }
                return .ok
            }
            return router
        }
    }

    /// A company changed through the API is announced to `--webhook-url`, signed with `--verifier-token`, in the
    /// chosen format, naming the realm `--realm` that the consent connected.
    @Test func changesAreSentAsSignedWebhooksForTheConsentedRealm() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let receiver = Receiver()
        try await Application(router: receiver.router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
            .test(.live) { client in
                let receiverURL = "http://127.0.0.1:\(client.port!)"
                let sandbox = try await ServerProcess(
                    [
                        "sandbox", "quickbooks-online", "--port", "0", "--realm", Self.realm,
                        "--webhook-url", receiverURL + "/quickbooks", "--verifier-token", Self.verifierToken,
                        "--webhook-format", "cloudevents", "--webhook-every", "0.2",
                    ],
                    announcing: "QuickBooks Online sandbox on ", directory: directory.url)
                defer { sandbox.signal(SIGTERM) }

                // Consent: the redirect lands on the receiver with a code for the sandbox's company.
                let redirect = receiverURL + "/callback"
                let consent = await sandbox.consent(
                    "/connect/oauth2?client_id=sandbox-client&response_type=code&state=s1"
                        + "&scope=com.intuit.quickbooks.accounting&redirect_uri=\(redirect)")
                #expect(consent == 200)
                let callback = try #require(receiver.callbacks.withLock { $0.first })
                #expect(callback["realmId"] == Self.realm && callback["state"] == "s1")
                let code = try #require(callback["code"])

                let credentials = Data("sandbox-client:sandbox-secret".utf8).base64EncodedString()
                let exchanged = try #require(
                    await sandbox.call(
                        "POST", "/oauth2/v1/tokens/bearer",
                        headers: [
                            "authorization": "Basic \(credentials)",
                            "content-type": "application/x-www-form-urlencoded",
                        ],
                        body: Array("grant_type=authorization_code&code=\(code)&redirect_uri=\(redirect)".utf8)))
                #expect(exchanged.0 == 200)
                let token = try #require(try JSONValue(parsing: Array(exchanged.1))["access_token"]?.stringValue)

                let created = try #require(
                    await sandbox.call(
                        "POST", "/v3/company/\(Self.realm)/customer?minorversion=75",
                        headers: ["authorization": "Bearer \(token)", "content-type": "application/json"],
                        body: Array(#"{"DisplayName":"Rao family"}"#.utf8)))
                #expect(created.0 == 200)
                let customerID = try #require(
                    try JSONValue(parsing: Array(created.1))["Customer"]?["Id"]?.stringValue)

                let deadline = ContinuousClock.now + .seconds(10)
                while receiver.deliveries.withLock({ $0.isEmpty }), ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(50))
                }
                let delivery = try #require(receiver.deliveries.withLock { $0.first })
                #expect(
                    QuickBooksWebhook.isValid(
                        signature: delivery.signature, body: delivery.body, verifierTokens: [Self.verifierToken]))
                #expect(
                    !QuickBooksWebhook.isValid(
                        signature: delivery.signature, body: delivery.body, verifierTokens: ["another-token"]))
                let document = try JSONValue(parsing: delivery.body)
                #expect(document.arrayValue != nil, "CloudEvents come as an array of events")
                let notifications = try QuickBooksWebhook.notifications(in: document)
                #expect(notifications.map(\.realmID) == [Self.realm])
                #expect(notifications.map(\.recordType) == [.customer])
                #expect(notifications.map(\.remoteID) == [customerID])

                sandbox.signal(SIGTERM)
                #expect(try await sandbox.waitForExit().status == 0)
            }
    }

    /// `--redirect-uri` registers the client's redirect URIs: an authorize request must name one exactly, and is
    /// refused, not redirected, otherwise (even to a loopback address, accepted only when none is registered).
    @Test func redirectURIsGivenOnTheCommandLineAreTheOnlyOnesAccepted() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let receiver = Receiver()
        try await Application(router: receiver.router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
            .test(.live) { client in
                let registered = "http://127.0.0.1:\(client.port!)/callback"
                let sandbox = try await ServerProcess(
                    ["sandbox", "quickbooks-online", "--port", "0", "--redirect-uri", registered],
                    announcing: "QuickBooks Online sandbox on ", directory: directory.url)
                defer { sandbox.signal(SIGTERM) }
                func authorize(_ redirect: String) async -> Int? {
                    await sandbox.consent(
                        "/connect/oauth2?client_id=sandbox-client&response_type=code&state=s1"
                            + "&scope=com.intuit.quickbooks.accounting&redirect_uri=\(redirect)")
                }
                #expect(await authorize(registered + "/other") == 400)
                #expect(receiver.callbacks.withLock { $0.isEmpty })
                #expect(await authorize(registered) == 200)
                #expect(receiver.callbacks.withLock { $0.first?["code"] } != nil)
            }
    }

    @Test func aWebhookURLWithoutAVerifierTokenIsRefused() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (status, _) = try await ServerProcess.run(
            ["sandbox", "quickbooks-online", "--port", "0", "--webhook-url", "http://127.0.0.1:9/hooks"],
            in: directory.url)
        #expect(status == 64)  // EX_USAGE, with the reason on standard error
    }
}

extension ServerProcess {
    /// The emulator's consent at `authorizePath`: its page opened, then its form submitted as a person pressing
    /// Connect would, following the redirect. The status of the page when it did not open (a refused request),
    /// else of the redirect's target.
    func consent(_ authorizePath: String) async -> Int? {
        let page = await call("GET", authorizePath)
        guard page?.0 == 200, let form = QuickBooksConsent(authorizeURL: authorizePath) else { return page?.0 }
        return await call(
            "POST", form.action, headers: ["content-type": QuickBooksConsent.contentType],
            body: Array(form.body.utf8))?.0
    }
}
