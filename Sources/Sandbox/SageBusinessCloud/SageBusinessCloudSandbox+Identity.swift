import Accounting
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// Sage's authorize page and token endpoint (https://developer.sage.com/accounting/guides/authenticating/authentication:
/// `GET https://www.sageone.com/oauth2/auth/central?filter=apiv3.1&response_type=code&client_id=…&redirect_uri=…
/// &scope=full_access|readonly&state=…`, and `POST https://oauth.accounting.sage.com/token` with the client's id and
/// secret in the form).
extension SageBusinessCloudSandbox {
    /// The scopes Sage knows.
    static let scopes: Set<String> = ["full_access", "readonly"]

    struct AuthorizeRequest: Sendable {
        let clientID: String
        let appName: String
        let redirectURI: String
        let scope: String
        let state: String?
    }

    nonisolated func addIdentityRoutes(to router: Router<BasicRequestContext>) {
        router.get("/oauth2/auth/central") { request, _ in
            await self.consentPage(FormURLEncoded.fields(request.uri.query ?? ""))
        }
        router.post("/oauth2/auth/central") { request, _ in
            let body = try await request.body.collect(upTo: 64 * 1024)
            return await self.consentDecision(FormURLEncoded.fields(String(buffer: body)))
        }
        router.post("/token") { request, _ in
            let body = try await request.body.collect(upTo: 64 * 1024)
            var form: [String: String] = [:]
            for field in FormURLEncoded.fields(String(buffer: body)).reversed() { form[field.name] = field.value }
            switch await self.token(form: form) {
            case .error(let status, let code):
                return Self.json(status, ["error": .string(code)])
            case .tokens(let access, let refresh, let scope):
                // The answer's fields as Sage's authentication guide shows them.
                return Self.json(
                    200,
                    [
                        "access_token": .string(access), "expires_in": 300, "token_type": "bearer",
                        "refresh_token": .string(refresh), "refresh_token_expires_in": 2_678_400,
                        "scope": .string(scope), "requested_by_id": "5b6a1a0c9ef14d4f8d7b6c3e2a1f0e9d",
                    ])
            }
        }
    }

    enum AuthorizeCheck {
        case passed(AuthorizeRequest)
        case refused(Response)
    }

    /// The authorize request's checks: `response_type=code`, a known app, a redirect URI registered exactly (else an
    /// error page, never a redirect), a known scope (else `error=invalid_scope` to the app).
    func checkAuthorize(_ field: (String) -> String?) -> AuthorizeCheck {
        guard field("response_type") == "code", let clientID = field("client_id"),
            let redirectURI = field("redirect_uri")
        else { return .refused(Self.json(400, ["error": "invalid_request"])) }
        guard let client = client(clientID), client.redirectURIs.contains(redirectURI) else {
            return .refused(Self.json(400, ["error": "invalid_request", "error_description": "Invalid client"]))
        }
        guard let scope = field("scope"), Self.scopes.contains(scope) else {
            return .refused(Self.redirect(to: redirectURI, [("error", "invalid_scope"), ("state", field("state"))]))
        }
        return .passed(
            AuthorizeRequest(
                clientID: clientID, appName: client.name, redirectURI: redirectURI, scope: scope,
                state: field("state")))
    }

    func consentPage(_ fields: [(name: String, value: String)]) -> Response {
        switch checkAuthorize({ name in fields.first { $0.name == name }?.value }) {
        case .refused(let response): return response
        case .passed(let authorize):
            let lead = leadBusinessID.flatMap { business($0)?.name } ?? ""
            return SageBusinessCloudConsentPage(request: authorize, businessName: lead).response
        }
    }

    /// Allow sends the person back with `code` and `state`; Deny with `error=access_denied`.
    func consentDecision(_ fields: [(name: String, value: String)]) -> Response {
        let field = { (name: String) in fields.first { $0.name == name }?.value }
        let authorize: AuthorizeRequest
        switch checkAuthorize(field) {
        case .refused(let response): return response
        case .passed(let passed): authorize = passed
        }
        switch field("decision") {
        case "allow":
            let code = self.authorize(
                clientID: authorize.clientID, redirectURI: authorize.redirectURI, scope: authorize.scope)
            return Self.redirect(to: authorize.redirectURI, [("code", code), ("state", authorize.state)])
        case "deny":
            return Self.redirect(to: authorize.redirectURI, [("error", "access_denied"), ("state", authorize.state)])
        default:
            return Self.json(
                400, ["error": "invalid_request", "error_description": "The decision must be allow or deny"])
        }
    }

    static func redirect(to uri: String, _ parameters: [(String, String?)]) -> Response {
        guard var components = URLComponents(string: uri) else { return json(400, ["error": "invalid_request"]) }
        var items = components.queryItems ?? []
        for (name, value) in parameters {
            if let value { items.append(URLQueryItem(name: name, value: value)) }
        }
        components.queryItems = items
        return Response(status: .found, headers: [.location: components.string ?? uri])
    }

    static func json(_ status: Int, _ body: JSONValue) -> Response {
        Response(
            status: HTTPResponse.Status(code: status),
            headers: [.contentType: "application/json; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: body.canonicalString)))
    }
}
