import Accounting
import Foundation
import HTTPTypes
import Hummingbird

extension QuickBooksOnlineSandbox {
    /// An authorize request that passed Intuit's checks: the app, where to send the person back, and what for.
    struct AuthorizeRequest: Sendable {
        let clientID: String
        let redirectURI: String
        let scopes: [String]
        let state: String?
    }

    enum AuthorizeCheck {
        case passed(AuthorizeRequest)
        /// The answer instead: a 400 shown on Intuit's page, or a redirect with an OAuth error.
        case refused(Response)
    }

    /// `GET /connect/oauth2`: for a valid request, Intuit's consent page (the app, the scopes in plain words, the
    /// company to connect, Connect and Cancel), whose form posts the request back with the person's decision.
    /// The emulator's own `realm` parameter preselects one of the companies.
    nonisolated func consentPageRoute(_ request: Request) async -> Response {
        switch await checkAuthorize({ request.formValue($0) }) {
        case .refused(let answer):
            return answer
        case .passed(let authorize):
            let companies = await consentCompanies()
            let chosen = request.formValue("realm").flatMap { companies.contains($0) ? $0 : nil } ?? companies[0]
            let page = QuickBooksConsentPage(
                appName: await appName(clientID: authorize.clientID), request: authorize, companies: companies,
                chosen: chosen)
            return page.response
        }
    }

    /// `POST /connect/oauth2`: the consent form. Checked again as the GET was; then `decision=connect` sends the
    /// person back to the redirect URI with `code`, `state` and `realmId` (the company chosen in `realm`), and
    /// `decision=cancel` with `error=access_denied` and `state`, as Intuit does.
    nonisolated func consentRoute(_ request: Request) async throws -> Response {
        let contentType = request.headers[.contentType]?.lowercased() ?? ""
        guard contentType.hasPrefix(QuickBooksConsent.contentType) else {
            return Self.json(
                400,
                [
                    "error": "invalid_request",
                    "error_description": "The consent form is sent as application/x-www-form-urlencoded",
                ])
        }
        let body = try await request.body.collect(upTo: 64 * 1024)
        let fields = FormURLEncoded.fields(String(buffer: body))
        let field = { (name: String) in fields.first { $0.name == name }?.value }
        let authorize: AuthorizeRequest
        switch await checkAuthorize(field) {
        case .refused(let answer): return answer
        case .passed(let passed): authorize = passed
        }
        switch field("decision") {
        case "cancel":
            return Self.redirect(to: authorize.redirectURI, [("error", "access_denied"), ("state", authorize.state)])
        case "connect":
            let companies = await consentCompanies()
            let realm = field("realm") ?? companies[0]
            guard companies.contains(realm) else {
                return Self.json(
                    400,
                    [
                        "error": "invalid_request",
                        "error_description": "The company chosen is not one you can connect",
                    ])
            }
            guard
                let (code, realmID) = await self.authorize(
                    clientID: authorize.clientID, redirectURI: authorize.redirectURI, realmID: realm)
            else { return Self.json(400, ["error": "invalid_client"]) }
            return Self.redirect(
                to: authorize.redirectURI, [("code", code), ("state", authorize.state), ("realmId", realmID)])
        default:
            return Self.json(
                400, ["error": "invalid_request", "error_description": "The decision must be connect or cancel"])
        }
    }

    /// Intuit's checks of an authorize request, from its parameters (the GET's query or the POST's form).
    nonisolated func checkAuthorize(_ field: (String) -> String?) async -> AuthorizeCheck {
        guard let clientID = field("client_id"), let redirectURI = field("redirect_uri"),
            field("response_type") == "code"
        else { return .refused(Self.json(400, ["error": "invalid_request"])) }
        guard await knowsClient(clientID) else { return .refused(Self.json(400, ["error": "invalid_client"])) }
        // An unregistered redirect URI is never redirected to (RFC 6749 §4.1.2.1): the error is shown here.
        guard await redirectAllowed(clientID: clientID, uri: redirectURI) else {
            return .refused(
                Self.json(
                    400,
                    [
                        "error": "invalid_request",
                        "error_description": .string(
                            "The redirect_uri query parameter value is invalid. Make sure it is listed in the "
                                + "Redirect URIs section on your app's keys tab and matches it exactly."),
                    ]))
        }
        // A missing or unknown scope goes back to the app's redirect URI as an OAuth error, with its state.
        let scopes = (field("scope") ?? "").split(separator: " ").map(String.init)
        let scopeError: String? =
            scopes.isEmpty ? "invalid_request" : scopes.allSatisfy(Self.scopes.contains) ? nil : "invalid_scope"
        if let scopeError {
            return .refused(Self.redirect(to: redirectURI, [("error", scopeError), ("state", field("state"))]))
        }
        return .passed(
            AuthorizeRequest(clientID: clientID, redirectURI: redirectURI, scopes: scopes, state: field("state")))
    }

    /// A 302 to `uri` with `parameters` added to its query (those without a value left out).
    static func redirect(to uri: String, _ parameters: [(String, String?)]) -> Response {
        guard var components = URLComponents(string: uri) else { return json(400, ["error": "invalid_request"]) }
        var items = components.queryItems ?? []
        for (name, value) in parameters {
            if let value { items.append(URLQueryItem(name: name, value: value)) }
        }
        components.queryItems = items
        return Response(status: .found, headers: [.location: components.string ?? uri])
    }
}
