import Accounting
import Connectors
import Foundation
import Testing

/// A token endpoint double that answers every request with one fixed answer.
struct FixedAnswerTransport: HTTPTransport {
    var status = 200
    var headers: [String: String] = [:]
    var body: String

    func send(_ request: TransportRequest) async throws(TransportError) -> TransportResponse {
        TransportResponse(status: status, headers: headers, body: Data(body.utf8))
    }
}

@Suite struct PlatformNumbersTests {
    @Test func retryAfterIsDeltaSecondsCappedAtADay() {
        #expect(PlatformNumbers.retryAfter("30") == .seconds(30))
        #expect(PlatformNumbers.retryAfter("0") == .zero)
        #expect(PlatformNumbers.retryAfter("9999999999") == .seconds(86_400))
        for hostile in [
            "99999999999999999999999", "-1", "+5", "1.5", "nan", "inf", " 5", "", "Wed, 21 Oct 2015 07:28:00 GMT",
        ] {
            #expect(PlatformNumbers.retryAfter(hostile) == nil, "\(hostile)")
        }
        #expect(PlatformNumbers.retryAfter(nil) == nil)
    }

    @Test func rateLimitResetsAreFiniteAndCapped() {
        #expect(PlatformNumbers.waitSeconds("1.5") == .milliseconds(1500))
        #expect(PlatformNumbers.waitSeconds("1e308") == .seconds(86_400))
        for hostile in ["inf", "-inf", "nan", "-1", "abc", String(repeating: "9", count: 400)] {
            #expect(PlatformNumbers.waitSeconds(hostile) == nil, "\(hostile)")
        }
    }

    @Test func hostileRateLimitHeadersPauseAtMostADay() async {
        let limiter = RateLimiter(policy: RateLimitPolicy(windows: [], maxConcurrent: 1))
        try? await limiter.acquire()
        await limiter.release(status: 200, headers: ["x-ratelimit-remaining": "0", "x-ratelimit-reset": "1e308"])
        let pause = await limiter.remainingPause
        #expect(pause.map { $0 > .seconds(86_000) && $0 <= .seconds(86_400) } == true)

        let throttled = RateLimiter(policy: RateLimitPolicy(windows: [], maxConcurrent: 1))
        try? await throttled.acquire()
        await throttled.release(status: 429, headers: ["retry-after": "9223372036854775807"])
        #expect(await throttled.remainingPause.map { $0 <= .seconds(86_400) } == true)
    }

    func client(answering body: String, status: Int = 200, headers: [String: String] = [:]) -> OAuthClient {
        OAuthClient(
            clientID: "id", clientSecret: "secret", redirectURI: "https://ledgerwire.example/oauth/callback",
            endpoints: OAuthEndpoints(
                authorizeURL: URL(string: "https://auth.example/authorize")!,
                tokenURL: URL(string: "https://auth.example/token")!, revokeURL: nil, scopes: [], usesPKCE: true),
            transport: FixedAnswerTransport(status: status, headers: headers, body: body))
    }

    @Test(arguments: [
        #"{"access_token":"a","expires_in":9223372036854775807}"#,
        #"{"access_token":"a","expires_in":-1}"#,
        #"{"access_token":"a","expires_in":0}"#,
        #"{"access_token":"a","expires_in":1e400}"#,
        #"{"access_token":"a","expires_in":"3600"}"#,
        #"{"access_token":"a","expires_in":3600,"x_refresh_token_expires_in":99999999999999}"#,
        #"{"access_token":"a","expires_in":3600,"x_refresh_token_expires_in":-5}"#,
    ])
    func tokenLifetimesOutOfRangeAreAnInvalidAnswer(body: String) async {
        do {
            _ = try await client(answering: body).refresh(refreshToken: "r")
            Issue.record("accepted \(body)")
        } catch {
            guard case .retryable(let code, _, _) = error else {
                Issue.record("\(error)")
                return
            }
            #expect(code == "token_response_invalid")
        }
    }

    @Test func tokenLifetimesInRangeAreKept() async throws {
        let grant = try await client(
            answering: #"{"access_token":"a","expires_in":3600,"x_refresh_token_expires_in":8726400}"#
        ).refresh(refreshToken: "r")
        #expect(grant.expiresIn == 3600)
        #expect(grant.refreshTokenExpiresIn == 8_726_400)
    }

    @Test func aTokenEndpointsHugeRetryAfterIsCapped() async {
        do {
            _ = try await client(answering: "{}", status: 503, headers: ["Retry-After": "9999999999"])
                .refresh(refreshToken: "r")
            Issue.record("accepted a 503")
        } catch {
            guard case .retryable(_, _, let retryAfter) = error else {
                Issue.record("\(error)")
                return
            }
            #expect(retryAfter == .seconds(86_400))
        }
    }
}
