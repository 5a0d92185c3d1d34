import Accounting
import Connectors
import Foundation
import Logging
import Persistence
import SyncEngine
import TestSupport
import Testing

/// Where outbound requests may go (`DestinationPolicy`), and how long and how much the transport waits and reads,
/// against a tarpit on 127.0.0.1.
@Suite struct OutboundBoundsTests: SyncScenario {
    let clock = ManualClock()
    let tenant = "school"

    static let loopback = DestinationPolicy(allowsInsecure: true, allowsPrivateNetworks: true)

    // MARK: Destinations

    @Test func thePolicyRefusesPlainHTTPAndUserInfoUnlessAllowed() throws {
        let strict = DestinationPolicy()
        #expect(throws: TransportError.self) { try strict.check(URL(string: "http://books.example.com")!) }
        #expect(throws: TransportError.self) { try strict.check(URL(string: "ftp://books.example.com")!) }
        #expect(throws: TransportError.self) { try strict.check(URL(string: "https://user:pw@books.example.com")!) }
        #expect(throws: TransportError.self) { try strict.check(URL(string: "https://user@books.example.com")!) }
        try strict.check(URL(string: "https://quickbooks.api.intuit.com/v3")!)
        try strict.check(URL(string: "https://93.184.216.34/hooks")!)
        try DestinationPolicy(allowsInsecure: true).check(URL(string: "http://books.example.com")!)
    }

    @Test(arguments: [
        "https://127.0.0.1", "https://127.9.9.9", "https://localhost", "https://api.localhost", "https://10.1.2.3",
        "https://172.16.0.1", "https://172.31.255.255", "https://192.168.1.1", "https://100.64.0.1",
        "https://169.254.1.1", "https://[::1]", "https://[fe80::1]", "https://[fc00::1]", "https://[fd12:3456::1]",
        "https://[::ffff:127.0.0.1]", "https://[::ffff:10.0.0.1]", "https://[64:ff9b::a00:1]",
    ])
    func thePolicyRefusesPrivateAddressesUnlessAllowed(_ text: String) throws {
        let url = try #require(URL(string: text))
        #expect(throws: TransportError.self) { try DestinationPolicy().check(url) }
        try DestinationPolicy(allowsPrivateNetworks: true).check(url)
    }

    @Test(arguments: [
        "https://0.0.0.0", "https://[::]", "https://224.0.0.1", "https://255.255.255.255", "https://[ff02::1]",
        "https://169.254.169.254", "https://[fd00:ec2::254]", "https://[::ffff:169.254.169.254]",
        "https://100.100.100.200",
    ])
    func thePolicyAlwaysRefusesUnspecifiedMulticastAndMetadataAddresses(_ text: String) throws {
        let url = try #require(URL(string: text))
        #expect(throws: TransportError.self) { try Self.loopback.check(url) }
    }

    @Test func thePolicyChecksEveryAddressANameResolvesTo() throws {
        let strict = DestinationPolicy()
        #expect(throws: TransportError.self) { try strict.checkResolving(host: "localhost") }
        #expect(throws: TransportError.self) {
            try strict.checkResolved([[93, 184, 216, 34], [10, 0, 0, 7]], host: "books.example.com")
        }
        try strict.checkResolved([[93, 184, 216, 34]], host: "books.example.com")
        try Self.loopback.checkResolving(host: "localhost")
        // Only a name is looked up: an address was checked with the URL, and private networks allowed need no look-up.
        #expect(strict.mustResolve(host: "books.example.com"))
        #expect(!strict.mustResolve(host: "93.184.216.34") && !strict.mustResolve(host: "[2606:2800:220:1::1]"))
        #expect(!Self.loopback.mustResolve(host: "books.example.com"))
    }

    @Test func idsForURLPathsRefuseSlashesDotsPercentAndControlCharacters() {
        for bad in ["", ".", "..", "1/2", "..%2F", "%2e%2e", "a\\b", "a b", "a\u{0}b", "a\nb", "a?b", "a#b"] {
            #expect(!DestinationPolicy.isSafePathSegment(bad), "\(bad.debugDescription)")
        }
        for good in ["9341453474484455", "C1", "abc-DEF_1.2"] {
            #expect(DestinationPolicy.isSafePathSegment(good))
        }
    }

    @Test func theTransportRefusesAForbiddenDestinationWithoutConnecting() async throws {
        let tarpit = try Tarpit(.silent)
        defer { tarpit.stop() }
        let strict = HTTPClientTransport(policy: DestinationPolicy(allowsInsecure: true))
        await #expect(throws: TransportError.self) {
            try await strict.send(TransportRequest(method: "GET", url: URL(string: tarpit.url)!))
        }
        let https = HTTPClientTransport(policy: DestinationPolicy(allowsPrivateNetworks: true))
        await #expect(throws: TransportError.self) {
            try await https.send(TransportRequest(method: "GET", url: URL(string: tarpit.url)!))
        }
        #expect(tarpit.connections == 0)
    }

    @Test func redirectsAreNotFollowed() async throws {
        let target = try Tarpit(.silent)
        defer { target.stop() }
        let redirecting = try Tarpit(.redirect(location: target.url + "/elsewhere"))
        defer { redirecting.stop() }
        let response = try await HTTPClientTransport(policy: Self.loopback)
            .send(TransportRequest(method: "GET", url: URL(string: redirecting.url)!, timeout: .seconds(5)))
        #expect(response.status == 302)
        #expect(target.connections == 0)
    }

    // MARK: Bounds

    /// One byte every 200 ms would restart an idle timer forever; the deadline still ends the request.
    @Test(.timeLimit(.minutes(1))) func theTransportGivesUpAtItsDeadlineOnADrippingServer() async throws {
        let tarpit = try Tarpit(.drip(interval: .milliseconds(200)))
        defer { tarpit.stop() }
        let started = ContinuousClock.now
        await #expect(throws: TransportError.timedOut) {
            try await HTTPClientTransport(policy: Self.loopback)
                .send(TransportRequest(method: "GET", url: URL(string: tarpit.url)!, timeout: .seconds(1)))
        }
        #expect(ContinuousClock.now - started < .seconds(15), "the server would hold it until the time limit")
        #expect(TransportError.timedOut.isRetryable)
    }

    @Test(.timeLimit(.minutes(1))) func theTransportGivesUpAtItsDeadlineOnASilentServer() async throws {
        let tarpit = try Tarpit(.silent)
        defer { tarpit.stop() }
        let started = ContinuousClock.now
        await #expect(throws: TransportError.timedOut) {
            try await HTTPClientTransport(policy: Self.loopback)
                .send(TransportRequest(method: "POST", url: URL(string: tarpit.url)!, timeout: .milliseconds(500)))
        }
        #expect(ContinuousClock.now - started < .seconds(15), "the server would hold it until the time limit")
    }

    @Test(arguments: [true, false]) func theTransportStopsReadingAtTheSizeCap(declared: Bool) async throws {
        let tarpit = try Tarpit(.oversized(bytes: 256 * 1024, declared: declared))
        defer { tarpit.stop() }
        let transport = HTTPClientTransport(policy: Self.loopback, maximumResponseBytes: 16 * 1024)
        await #expect(throws: TransportError.responseTooLarge(limit: 16 * 1024)) {
            try await transport.send(
                TransportRequest(method: "GET", url: URL(string: tarpit.url)!, timeout: .seconds(10)))
        }
        let roomy = HTTPClientTransport(policy: Self.loopback, maximumResponseBytes: 512 * 1024)
        let whole = try await roomy.send(
            TransportRequest(method: "GET", url: URL(string: tarpit.url)!, timeout: .seconds(10)))
        #expect(whole.body.count == 256 * 1024)
    }

    @Test(.timeLimit(.minutes(1))) func aPlatformCallPastItsDeadlineOrCapIsARetryableConnectorError() async throws {
        let dripping = try Tarpit(.drip(interval: .milliseconds(200)))
        defer { dripping.stop() }
        let oversized = try Tarpit(.oversized(bytes: 64 * 1024, declared: false))
        defer { oversized.stop() }
        for (tarpit, transport) in [
            (dripping, ShortDeadline(base: HTTPClientTransport(policy: Self.loopback), timeout: .seconds(1))),
            (oversized, ShortDeadline(base: HTTPClientTransport(policy: Self.loopback, maximumResponseBytes: 4096))),
        ] {
            let context = ConnectorContext(
                integrationID: "int_1", tenantID: tenant, settings: ["api_base_url": .string(tarpit.url)],
                credentials: FixedCredentials(), transport: transport, logger: Logger(label: "test"))
            do {
                _ = try await QuickBooksOnlineConnector().pull(recordType: .customer, remoteID: "1", context: context)
                Issue.record("the call succeeded")
            } catch let error as ConnectorError {
                guard case .retryable = error else {
                    Issue.record("not retryable: \(error)")
                    continue
                }
            }
        }
    }

    @Test func aPlatformsUnparsedErrorBodyIsNotEchoed() async throws {
        let proxy = try Tarpit(.answer(status: 400, body: "<html>proxy at 10.0.0.5: upstream key sk_live_123</html>"))
        defer { proxy.stop() }
        let context = ConnectorContext(
            integrationID: "int_1", tenantID: tenant, settings: ["api_base_url": .string(proxy.url)],
            credentials: FixedCredentials(), transport: HTTPClientTransport(policy: Self.loopback),
            logger: Logger(label: "test"))
        do {
            _ = try await QuickBooksOnlineConnector().pull(recordType: .customer, remoteID: "1", context: context)
            Issue.record("a 400 was taken for an answer")
        } catch let error as ConnectorError {
            #expect(!error.message.contains("sk_live") && !error.message.contains("10.0.0.5"), "\(error.message)")
            #expect(error.message.contains("400"), "\(error.message)")
        }
    }

    @Test func aRealmOrIdThatWouldLeaveThePathIsRefusedBeforeAnythingIsSent() async throws {
        let tarpit = try Tarpit(.silent)
        defer { tarpit.stop() }
        for (realm, id) in [("../../admin", "1"), ("123", "../../admin"), ("123", "1%2F..")] {
            let context = ConnectorContext(
                integrationID: "int_1", tenantID: tenant, settings: ["api_base_url": .string(tarpit.url)],
                credentials: FixedCredentials(realm: realm), transport: HTTPClientTransport(policy: Self.loopback),
                logger: Logger(label: "test"))
            await #expect(throws: ConnectorError.self) {
                _ = try await QuickBooksOnlineConnector().pull(recordType: .customer, remoteID: id, context: context)
            }
        }
        #expect(tarpit.connections == 0)
    }
}

/// A transport whose requests all get `timeout` as their deadline (the connector's own are a minute).
struct ShortDeadline: HTTPTransport {
    let base: any HTTPTransport
    var timeout: Duration = .seconds(10)

    func send(_ request: TransportRequest) async throws(TransportError) -> TransportResponse {
        var request = request
        request.timeout = timeout
        return try await base.send(request)
    }
}

/// An access token and realm that never change.
struct FixedCredentials: CredentialProvider {
    var realm = "123"

    func accessToken() async throws(ConnectorError) -> String { "token" }
    func remoteTenantID() async throws(ConnectorError) -> String? { realm }
}
