public import Accounting
import Crypto
public import Foundation

/// Where a platform's OAuth 2.0 authorization server is, and how it is used.
public struct OAuthEndpoints: Sendable, Hashable {
    public var authorizeURL: URL
    public var tokenURL: URL
    public var revokeURL: URL?
    public var scopes: [String]
    /// Whether the platform takes PKCE (RFC 7636, S256) with the authorization code.
    public var usesPKCE: Bool
    /// How the revocation endpoint takes the token.
    public var revocationBody: RevocationBody
    /// How the token endpoint takes the app's credentials.
    public var clientCredentials: ClientCredentials = .basic

    /// How the app's `client_id` and `client_secret` reach the token endpoint (RFC 6749 §2.3.1).
    public enum ClientCredentials: Sendable, Hashable {
        /// HTTP Basic: QuickBooks Online, Xero.
        case basic
        /// In the form, beside the grant: Sage ("client_id, client_secret, code, grant_type, redirect_uri",
        /// https://developer.sage.com/accounting/guides/authenticating/authentication).
        case form
    }

    /// The body of a revocation request.
    public enum RevocationBody: Sendable, Hashable {
        /// `token=…`, form-encoded (RFC 7009 §2.1): Xero, Sage.
        case form
        /// `{"token": "…"}`: QuickBooks Online.
        case json
    }

    public init(
        authorizeURL: URL, tokenURL: URL, revokeURL: URL?, scopes: [String], usesPKCE: Bool,
        revocationBody: RevocationBody = .form
    ) {
        self.authorizeURL = authorizeURL
        self.tokenURL = tokenURL
        self.revokeURL = revokeURL
        self.scopes = scopes
        self.usesPKCE = usesPKCE
        self.revocationBody = revocationBody
    }

    /// These endpoints with the integration's overrides (`oauth_authorize_url`, `oauth_token_url`,
    /// `oauth_revoke_url`) applied: proxies, regional hosts, emulators.
    public func overridden(by settings: JSONValue) -> OAuthEndpoints {
        var endpoints = self
        if let url = settings["oauth_authorize_url"]?.stringValue.flatMap(URL.init(string:)) {
            endpoints.authorizeURL = url
        }
        if let url = settings["oauth_token_url"]?.stringValue.flatMap(URL.init(string:)) { endpoints.tokenURL = url }
        if let url = settings["oauth_revoke_url"]?.stringValue.flatMap(URL.init(string:)) { endpoints.revokeURL = url }
        return endpoints
    }
}

/// What a token endpoint answered.
public struct TokenGrant: Sendable, Hashable {
    public var accessToken: String
    /// A rotated refresh token, or `nil` when the platform kept the old one.
    public var refreshToken: String?
    public var expiresIn: Int
    /// QuickBooks' `x_refresh_token_expires_in`, where the platform says.
    public var refreshTokenExpiresIn: Int?

    public init(accessToken: String, refreshToken: String?, expiresIn: Int, refreshTokenExpiresIn: Int?) {
        self.accessToken = accessToken
        self.refreshToken = refreshToken
        self.expiresIn = expiresIn
        self.refreshTokenExpiresIn = refreshTokenExpiresIn
    }
}

/// PKCE (RFC 7636): a random verifier kept by Ledgerwire, its S256 challenge sent with the authorization request.
public enum PKCE {
    /// A verifier: a random token.
    public static func makeVerifier() -> String { randomToken() }

    /// 32 random bytes, base64url: 43 characters (OAuth `state`, PKCE verifiers).
    public static func randomToken() -> String {
        base64URL(SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) })
    }

    public static func challenge(for verifier: String) -> String {
        base64URL(Data(SHA256.hash(data: Data(verifier.utf8))))
    }

    /// Base64url without padding (RFC 4648 §5), as OAuth's `state` and PKCE use it.
    public static func base64URL(_ data: Data) -> String {
        data.base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}

/// An OAuth 2.0 client of one integration (RFC 6749 authorization code grant, client authentication by HTTP Basic).
public struct OAuthClient: Sendable {
    public var clientID: String
    public var clientSecret: String
    public var redirectURI: String
    public var endpoints: OAuthEndpoints
    private let transport: any HTTPTransport

    public init(
        clientID: String, clientSecret: String, redirectURI: String, endpoints: OAuthEndpoints,
        transport: any HTTPTransport
    ) {
        self.clientID = clientID
        self.clientSecret = clientSecret
        self.redirectURI = redirectURI
        self.endpoints = endpoints
        self.transport = transport
    }

    /// Where to send the person who grants access.
    /// - Throws: `ConnectorError.validation` when the configured authorize URL cannot carry the query.
    public func authorizationURL(state: String, codeChallenge: String?) throws(ConnectorError) -> URL {
        guard var components = URLComponents(url: endpoints.authorizeURL, resolvingAgainstBaseURL: false) else {
            throw .validation(code: "invalid_authorize_url", message: "the OAuth authorize URL is not a valid URL")
        }
        var items = components.queryItems ?? []
        items += [
            URLQueryItem(name: "client_id", value: clientID),
            URLQueryItem(name: "response_type", value: "code"),
            URLQueryItem(name: "scope", value: endpoints.scopes.joined(separator: " ")),
            URLQueryItem(name: "redirect_uri", value: redirectURI),
            URLQueryItem(name: "state", value: state),
        ]
        if let codeChallenge {
            items += [
                URLQueryItem(name: "code_challenge", value: codeChallenge),
                URLQueryItem(name: "code_challenge_method", value: "S256"),
            ]
        }
        components.queryItems = items
        guard let url = components.url else {
            throw .validation(code: "invalid_authorize_url", message: "the OAuth authorize URL is not a valid URL")
        }
        return url
    }

    /// Exchanges an authorization code for tokens.
    public func exchange(code: String, codeVerifier: String?) async throws(ConnectorError) -> TokenGrant {
        var form = [("grant_type", "authorization_code"), ("code", code), ("redirect_uri", redirectURI)]
        if let codeVerifier { form.append(("code_verifier", codeVerifier)) }
        return try await requestTokens(form)
    }

    /// A new access token for a refresh token. `invalid_grant` (expired, revoked or already used) is
    /// `credentialsRefused`: only a person connecting again helps.
    public func refresh(refreshToken: String) async throws(ConnectorError) -> TokenGrant {
        try await requestTokens([("grant_type", "refresh_token"), ("refresh_token", refreshToken)])
    }

    /// What an access token's `expires_in` may say: a second to a year (platforms say 30 to 60 minutes).
    static let accessTokenLifetimes = 1...31_536_000
    /// What `x_refresh_token_expires_in` may say: a second to ten years (QuickBooks says about 100 days).
    static let refreshTokenLifetimes = 1...315_360_000

    /// Revokes `token` (the refresh token: platforms then drop the access tokens made from it too), so a deleted
    /// integration leaves no working grant behind.
    /// - Throws: `ConnectorError` when there is no revocation endpoint or the platform did not confirm.
    public func revoke(token: String) async throws(ConnectorError) {
        guard let revokeURL = endpoints.revokeURL else {
            throw .validation(code: "no_revocation_endpoint", message: "the platform has no revocation endpoint")
        }
        let credentials = Data("\(clientID):\(clientSecret)".utf8).base64EncodedString()
        let body: Data
        let contentType: String
        switch endpoints.revocationBody {
        case .form:
            body = Data(Self.formEncoded([("token", token)]).utf8)
            contentType = "application/x-www-form-urlencoded"
        case .json:
            body = Data(JSONValue.object(["token": .string(token)]).canonicalBytes)
            contentType = "application/json"
        }
        let request = TransportRequest(
            method: "POST", url: revokeURL,
            headers: [
                ("accept", "application/json"), ("content-type", contentType),
                ("authorization", "Basic \(credentials)"),
            ],
            body: body, timeout: .seconds(30))
        let response: TransportResponse
        do {
            response = try await transport.send(request)
        } catch {
            throw .retryable(code: "network", message: "revocation endpoint: \(error)", retryAfter: nil)
        }
        guard (200..<300).contains(response.status) else {
            throw .validation(
                code: "http_\(response.status)", message: "revocation endpoint answered HTTP \(response.status)")
        }
    }

    private func requestTokens(_ form: [(String, String)]) async throws(ConnectorError) -> TokenGrant {
        let credentials = Data("\(clientID):\(clientSecret)".utf8).base64EncodedString()
        var headers: [(name: String, value: String)] = [
            ("accept", "application/json"), ("content-type", "application/x-www-form-urlencoded"),
        ]
        var form = form
        switch endpoints.clientCredentials {
        case .basic: headers.append(("authorization", "Basic \(credentials)"))
        case .form: form += [("client_id", clientID), ("client_secret", clientSecret)]
        }
        let request = TransportRequest(
            method: "POST", url: endpoints.tokenURL, headers: headers, body: Data(Self.formEncoded(form).utf8),
            timeout: .seconds(30))
        let response: TransportResponse
        do {
            response = try await transport.send(request)
        } catch {
            switch error {
            case .destinationRefused(let reason):
                throw .retryable(
                    code: "destination_refused", message: "the token endpoint is not allowed: \(reason)",
                    retryAfter: nil)
            case .responseTooLarge(let limit):
                throw .retryable(
                    code: "response_too_large", message: "the token endpoint's answer was longer than \(limit) bytes",
                    retryAfter: nil)
            case .timedOut:
                throw .retryable(
                    code: "timed_out", message: "the token endpoint did not answer in time", retryAfter: nil)
            case .cannotConnect(let reason):
                throw .unreachable(code: "unreachable", message: "the token endpoint could not be reached: \(reason)")
            case .failed:
                throw .retryable(code: "network", message: "token endpoint: \(error)", retryAfter: nil)
            case .overLimit(_, let retryAfter):
                throw .busy(code: "rate_budget", message: "the token endpoint's limit is spent", retryAfter: retryAfter)
            }
        }
        let json = try? JSONValue(parsing: Array(response.body))
        switch response.status {
        case 200..<300:
            guard let accessToken = json?["access_token"]?.stringValue else {
                throw .retryable(
                    code: "token_response_invalid", message: "the token endpoint's answer has no access_token",
                    retryAfter: nil)
            }
            guard let expiresIn = PlatformNumbers.seconds(json?["expires_in"], in: Self.accessTokenLifetimes) else {
                throw .retryable(
                    code: "token_response_invalid",
                    message: "the token endpoint's expires_in is not a whole number of seconds from 1 to 31536000",
                    retryAfter: nil)
            }
            var refreshTokenExpiresIn: Int?
            if let stated = json?["x_refresh_token_expires_in"] {
                guard let seconds = PlatformNumbers.seconds(stated, in: Self.refreshTokenLifetimes) else {
                    throw .retryable(
                        code: "token_response_invalid",
                        message: "the token endpoint's x_refresh_token_expires_in is not a whole number of seconds "
                            + "from 1 to 315360000",
                        retryAfter: nil)
                }
                refreshTokenExpiresIn = seconds
            }
            return TokenGrant(
                accessToken: accessToken, refreshToken: json?["refresh_token"]?.stringValue, expiresIn: expiresIn,
                refreshTokenExpiresIn: refreshTokenExpiresIn)
        case 400, 401:
            // RFC 6749 §5.2's fields only, bounded: `error` is a short ASCII code, the description is for a person.
            let code = json?["error"]?.stringValue.flatMap { text in
                text.count <= 64 && text.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") })
                    ? text : nil
            }
            let error = code ?? "HTTP \(response.status)"
            let description = json?["error_description"]?.stringValue.map { ": \($0.prefix(300))" } ?? ""
            throw .credentialsRefused(message: "the token endpoint refused the grant (\(error))\(description)")
        case 429, 500...:
            throw .retryable(
                code: "http_\(response.status)", message: "token endpoint answered HTTP \(response.status)",
                retryAfter: PlatformNumbers.retryAfter(response.header("retry-after")))
        default:
            throw .validation(
                code: "http_\(response.status)", message: "token endpoint answered HTTP \(response.status)")
        }
    }

    static func formEncoded(_ pairs: [(String, String)]) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return pairs.map { name, value in
            "\(name)=\(value.addingPercentEncoding(withAllowedCharacters: allowed) ?? value)"
        }.joined(separator: "&")
    }
}

/// An integration's access token for a connector's calls. The engine gives each attempt its own provider.
public protocol CredentialProvider: Sendable {
    /// A valid access token, refreshed first when it has expired or is about to.
    func accessToken() async throws(ConnectorError) -> String
    /// The platform's id of the connected company or organisation (QuickBooks `realmId`, Xero tenant id).
    func remoteTenantID() async throws(ConnectorError) -> String?
}
