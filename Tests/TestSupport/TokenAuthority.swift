public import Accounting
public import Connectors
import Foundation
import Synchronization

/// An OAuth 2.0 authorization server as the platforms run theirs, reached through `HTTPTransport`: authorization
/// codes (with PKCE S256 checked), refresh tokens that rotate on every use (the old one still accepted for a grace
/// period, as Xero's 30 minutes), access tokens that expire, `invalid_grant` for anything else, and client
/// authentication by HTTP Basic.
public final class TokenAuthority: HTTPTransport {
    public struct Issued: Sendable, Hashable {
        public var accessToken: String
        public var refreshToken: String
    }

    private struct State {
        var accessTokens: [String: Int64] = [:]
        /// Refresh token → when it stops working (`Int64.max` until it is rotated).
        var refreshTokens: [String: Int64] = [:]
        var codes: [String: String?] = [:]
        var issued: [Issued] = []
        var refreshes = 0
        var next = 1
    }

    public let clientID: String
    public let clientSecret: String
    public let accessTokenLifetime: Int
    public let rotationGrace: Duration
    /// How long the token endpoint takes to answer (real time), so concurrent callers overlap.
    public let latency: Duration
    private let now: @Sendable () -> Timestamp
    private let state = Mutex(State())

    public init(
        clientID: String = "client-1", clientSecret: String = "secret-1", accessTokenLifetime: Int = 3600,
        rotationGrace: Duration = .seconds(1800), latency: Duration = .milliseconds(50),
        now: @escaping @Sendable () -> Timestamp
    ) {
        self.clientID = clientID
        self.clientSecret = clientSecret
        self.accessTokenLifetime = accessTokenLifetime
        self.rotationGrace = rotationGrace
        self.latency = latency
        self.now = now
    }

    /// Refresh grants answered with new tokens.
    public var refreshes: Int { state.withLock { $0.refreshes } }
    /// Every token pair handed out, in order.
    public var issued: [Issued] { state.withLock { $0.issued } }

    /// Tokens granted out of band (as an import would bring), the access token valid for `lifetime` seconds.
    public func grant(lifetime: Int? = nil) -> Issued {
        state.withLock { issue(&$0, lifetime: lifetime ?? accessTokenLifetime) }
    }

    /// An authorization code, bound to a PKCE challenge when given.
    public func authorize(codeChallenge: String?) -> String {
        state.withLock { state in
            let code = "code-\(state.next)"
            state.next += 1
            state.codes[code] = codeChallenge
            return code
        }
    }

    public func isValid(accessToken: String) -> Bool {
        state.withLock { ($0.accessTokens[accessToken] ?? .min) > now().microsecondsSinceEpoch }
    }

    /// Withdraws every access token (as a platform does when a person revokes a session), keeping refresh tokens.
    public func revokeAccessTokens() {
        state.withLock { $0.accessTokens = [:] }
    }

    /// Withdraws consent: every token stops working.
    public func revokeAll() {
        state.withLock {
            $0.accessTokens = [:]
            $0.refreshTokens = [:]
        }
    }

    public func send(_ request: TransportRequest) async throws(TransportError) -> TransportResponse {
        try? await Task.sleep(for: latency)
        let authorization = request.headers.last { $0.name.lowercased() == "authorization" }?.value
        let expected = "Basic " + Data("\(clientID):\(clientSecret)".utf8).base64EncodedString()
        guard authorization == expected else { return Self.error(401, "invalid_client") }
        let form = Self.form(request.body ?? Data())
        return state.withLock { state in
            switch form["grant_type"] {
            case "refresh_token":
                let at = now().microsecondsSinceEpoch
                guard let token = form["refresh_token"], let until = state.refreshTokens[token], until > at else {
                    return Self.error(400, "invalid_grant")
                }
                state.refreshTokens[token] = min(until, at + rotationGrace.wholeMicroseconds)
                state.refreshes += 1
                return Self.tokens(issue(&state, lifetime: accessTokenLifetime), lifetime: accessTokenLifetime)
            case "authorization_code":
                guard let code = form["code"], let challenge = state.codes.removeValue(forKey: code) else {
                    return Self.error(400, "invalid_grant")
                }
                if let challenge, PKCE.challenge(for: form["code_verifier"] ?? "") != challenge {
                    return Self.error(400, "invalid_grant")
                }
                return Self.tokens(issue(&state, lifetime: accessTokenLifetime), lifetime: accessTokenLifetime)
            default:
                return Self.error(400, "unsupported_grant_type")
            }
        }
    }

    private func issue(_ state: inout State, lifetime: Int) -> Issued {
        let issued = Issued(accessToken: "at-\(state.next)", refreshToken: "rt-\(state.next)")
        state.next += 1
        state.accessTokens[issued.accessToken] = now().adding(.seconds(lifetime)).microsecondsSinceEpoch
        state.refreshTokens[issued.refreshToken] = .max
        state.issued.append(issued)
        return issued
    }

    private static func tokens(_ issued: Issued, lifetime: Int) -> TransportResponse {
        let body: JSONValue = [
            "access_token": .string(issued.accessToken), "refresh_token": .string(issued.refreshToken),
            "token_type": "bearer", "expires_in": .number(String(lifetime)), "x_refresh_token_expires_in": 8_726_400,
        ]
        return TransportResponse(
            status: 200, headers: ["content-type": "application/json"], body: Data(body.canonicalBytes))
    }

    private static func error(_ status: Int, _ code: String) -> TransportResponse {
        TransportResponse(
            status: status, headers: ["content-type": "application/json"],
            body: Data(JSONValue.object(["error": .string(code)]).canonicalBytes))
    }

    private static func form(_ body: Data) -> [String: String] {
        var fields: [String: String] = [:]
        for pair in String(decoding: body, as: UTF8.self).split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map { String($0).removingPercentEncoding ?? "" }
            if parts.count == 2 { fields[parts[0]] = parts[1] }
        }
        return fields
    }
}
