import Accounting
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// Xero's identity service and connections: the consent page, the token and revocation endpoints (HTTP Basic client
/// authentication), `GET /connections` and `DELETE /connections/{id}` (`xero-identity.yaml`).
extension XeroSandbox {
    nonisolated func addIdentityRoutes(to router: Router<BasicRequestContext>) {
        router.get("/identity/connect/authorize") { request, _ in
            await self.consentPage(FormURLEncoded.fields(request.uri.query ?? ""))
        }
        router.post("/identity/connect/authorize") { request, _ in
            let body = try await request.body.collect(upTo: 64 * 1024)
            let fields = FormURLEncoded.fields(String(buffer: body))
            return await self.consentDecision(fields)
        }
        router.post("/connect/token") { request, _ in
            guard let (clientID, secret) = Self.basicCredentials(request.headers[.authorization]) else {
                return Self.json(400, ["error": "invalid_client"])
            }
            let body = try await request.body.collect(upTo: 64 * 1024)
            var form: [String: String] = [:]
            for field in FormURLEncoded.fields(String(buffer: body)).reversed() { form[field.name] = field.value }
            switch await self.token(clientID: clientID, secret: secret, form: form) {
            case .error(let status, let code):
                return Self.json(status, ["error": .string(code)])
            case .tokens(let access, let refresh, let scopes):
                var answer: [String: JSONValue] = [
                    "access_token": .string(access), "expires_in": 1800, "token_type": "Bearer",
                    "scope": .string(scopes.joined(separator: " ")),
                ]
                if let refresh { answer["refresh_token"] = .string(refresh) }
                return Self.json(200, .object(answer))
            }
        }
        router.post("/connect/revocation") { request, _ in
            guard let (clientID, secret) = Self.basicCredentials(request.headers[.authorization]) else {
                return Self.json(400, ["error": "invalid_client"])
            }
            let body = try await request.body.collect(upTo: 64 * 1024)
            guard let token = FormURLEncoded.value(of: "token", in: String(buffer: body)) else {
                return Self.json(400, ["error": "invalid_request"])
            }
            guard await self.revoke(clientID: clientID, secret: secret, token: token) else {
                return Self.json(400, ["error": "invalid_client"])
            }
            return Response(status: .ok)
        }
        router.get("/connections") { request, _ in
            let bearer = request.headers[.authorization].flatMap { header -> String? in
                header.hasPrefix("Bearer ") ? String(header.dropFirst(7)) : nil
            }
            guard let clientID = await self.clientID(bearer: bearer) else {
                return Self.json(401, Self.problem(401, "Unauthorized", "AuthenticationUnsuccessful"))
            }
            let connections = await self.connections(
                clientID: clientID, authEventID: request.xeroParameter("authEventId"))
            var answers: [JSONValue] = []
            for connection in connections {
                let name = await self.tenantName(connection.tenantID)
                answers.append([
                    "id": .string(connection.id), "authEventId": .string(connection.authEventID),
                    "tenantId": .string(connection.tenantID), "tenantType": "ORGANISATION",
                    "tenantName": .string(name),
                    "createdDateUtc": .string(Self.identityDate(connection.created)),
                    "updatedDateUtc": .string(Self.identityDate(connection.created)),
                ])
            }
            return Self.json(200, .array(answers))
        }
        router.delete("/connections/{id}") { request, context in
            let id = try context.parameters.require("id")
            let bearer = request.headers[.authorization].flatMap { header -> String? in
                header.hasPrefix("Bearer ") ? String(header.dropFirst(7)) : nil
            }
            guard let clientID = await self.clientID(bearer: bearer) else {
                return Self.json(401, Self.problem(401, "Unauthorized", "AuthenticationUnsuccessful"))
            }
            guard await self.disconnect(clientID: clientID, connectionID: id) else {
                return Self.json(404, Self.problem(404, "Not Found", "Connection not found"))
            }
            return Response(status: .noContent)
        }
    }

    /// `2019-12-07T18:46:19.5165400`, as `xero-identity.yaml` writes a connection's dates.
    static func identityDate(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(secondsFromGMT: 0)
        formatter.dateFormat = "yyyy-MM-dd'T'HH:mm:ss.SSS'0000'"
        return formatter.string(from: date)
    }

    struct AuthorizeRequest: Sendable {
        let clientID: String
        let appName: String
        let redirectURI: String
        let scopes: [String]
        let state: String?
    }

    enum AuthorizeCheck {
        case passed(AuthorizeRequest)
        case refused(Response)
    }

    /// Xero's checks of an authorize request: `response_type=code`, a known app, a redirect URI registered exactly
    /// (else an error page, never a redirect), and known scopes (else `error=invalid_scope` to the app).
    func checkAuthorize(_ field: (String) -> String?) -> AuthorizeCheck {
        guard field("response_type") == "code", let clientID = field("client_id"),
            let redirectURI = field("redirect_uri")
        else { return .refused(Self.json(400, ["error": "invalid_request"])) }
        guard let client = client(clientID) else {
            return .refused(Self.json(400, ["error": "unauthorized_client", "error_description": "Unknown client"]))
        }
        guard client.redirectURIs.contains(redirectURI) else {
            return .refused(
                Self.json(400, ["error": "unauthorized_client", "error_description": "Invalid redirect_uri"]))
        }
        let scopes = (field("scope") ?? "").split(separator: " ").map(String.init)
        guard !scopes.isEmpty, scopes.allSatisfy(Self.scopes.contains) else {
            return .refused(Self.redirect(to: redirectURI, [("error", "invalid_scope"), ("state", field("state"))]))
        }
        return .passed(
            AuthorizeRequest(
                clientID: clientID, appName: client.name, redirectURI: redirectURI, scopes: scopes,
                state: field("state")))
    }

    func consentPage(_ fields: [(name: String, value: String)]) -> Response {
        switch checkAuthorize({ name in fields.first { $0.name == name }?.value }) {
        case .refused(let response): return response
        case .passed(let authorize):
            return XeroConsentPage(request: authorize, organisations: consentOrganisations()).response
        }
    }

    /// The consent form: Allow sends the person back with `code` and `state` for the organisations ticked (at least
    /// one); Cancel with `error=access_denied`.
    func consentDecision(_ fields: [(name: String, value: String)]) -> Response {
        let field = { (name: String) in fields.first { $0.name == name }?.value }
        let authorize: AuthorizeRequest
        switch checkAuthorize(field) {
        case .refused(let response): return response
        case .passed(let passed): authorize = passed
        }
        switch field("decision") {
        case "cancel":
            return Self.redirect(to: authorize.redirectURI, [("error", "access_denied"), ("state", authorize.state)])
        case "allow":
            let known = Set(consentOrganisations().map(\.tenantID))
            let chosen = fields.filter { $0.name == "tenant" }.map(\.value)
            guard !chosen.isEmpty, chosen.allSatisfy(known.contains) else {
                return Self.json(
                    400, ["error": "invalid_request", "error_description": "Choose at least one organisation"])
            }
            let code = self.authorize(
                clientID: authorize.clientID, redirectURI: authorize.redirectURI, scopes: authorize.scopes,
                tenants: chosen)
            return Self.redirect(to: authorize.redirectURI, [("code", code), ("state", authorize.state)])
        default:
            return Self.json(
                400, ["error": "invalid_request", "error_description": "The decision must be allow or cancel"])
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

    static func basicCredentials(_ header: String?) -> (String, String)? {
        guard let header, header.hasPrefix("Basic "), header.utf8.count <= 4096,
            let data = Data(base64Encoded: String(header.dropFirst(6))),
            let text = String(data: data, encoding: .utf8), let colon = text.firstIndex(of: ":")
        else { return nil }
        return (String(text[..<colon]), String(text[text.index(after: colon)...]))
    }
}
