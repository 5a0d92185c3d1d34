import Accounting
import Connectors
import Foundation
import Hummingbird
import Logging
import Persistence

/// Connecting an integration to its books: the OAuth 2.0 authorization code flow (`connect` → the platform's
/// consent page → `/oauth/callback`), or tokens obtained elsewhere (`PUT …/credentials`). Tokens are sealed at rest
/// and never returned.
///
/// `state` is 32 random bytes, stored hashed, usable once and for ten minutes; PKCE (S256) is added where the
/// platform takes it.
struct OAuthController {
    let database: AppDatabase
    let box: SecretBox
    let connectors: [Platform: any Connector]
    let transport: any HTTPTransport
    /// The integrations' limiters: listing what a grant opens is a call like any other, within the platform's limits.
    let rateLimiters: RateLimiters

    static let stateLifetime = Duration.seconds(600)

    /// Under `/api/v1`, behind the API keys.
    var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.get("/integrations/{id}/connect", use: connect)
        routes.put("/integrations/{id}/credentials", use: importCredentials)
        return routes
    }

    /// At the root: the platform sends the person's browser here, with no API key.
    var callbackEndpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.get("/oauth/callback", use: callback)
        return routes
    }

    @Sendable func connect(request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.require(.financeManager)
        let integration = try await database.integration(from: context, role: .financeManager)
        let url = try await authorizationURL(for: integration, by: principal)
        return Response(status: .found, headers: [.location: url.absoluteString, .cacheControl: "no-store"])
    }

    /// Begins an authorization of `integration` by `principal`: the platform's consent page to send the person to.
    func authorizationURL(for integration: Integration, by principal: Principal) async throws -> URL {
        let client = try await oauthClient(for: integration)
        let state = PKCE.randomToken()
        let verifier = client.endpoints.usesPKCE ? PKCE.makeVerifier() : nil
        try await database.beginAuthorization(
            state: state, integrationID: integration.id, codeVerifier: verifier, actor: principal.actor,
            lifetime: Self.stateLifetime, box: box)
        let url: URL
        do {
            url = try client.authorizationURL(state: state, codeChallenge: verifier.map(PKCE.challenge(for:)))
        } catch {
            throw Problem.invalid([FieldError(field: "settings.oauth_authorize_url", message: error.message)])
        }
        return url
    }

    /// An OAuth error code as RFC 6749 §4.1.2.1 defines them: lower-case letters and underscores, briefly.
    static func isErrorCode(_ text: String) -> Bool {
        (1...64).contains(text.utf8.count)
            && text.utf8.allSatisfy { (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0) || $0 == UInt8(ascii: "_") }
    }

    @Sendable func callback(request: Request, context: AppRequestContext) async throws -> Response {
        if let error = request.query("error") {
            // Whoever follows a crafted link controls these: only an RFC 6749 error code (`access_denied`) is
            // repeated, and the description not at all.
            let code = Self.isErrorCode(error) ? error : "an error"
            // A person who began in the dashboard (the state is theirs, and now spent) goes back to the integration's
            // page there, which says so.
            if let state = request.query("state"),
                let authorization = try await database.takeAuthorization(state: state, box: box),
                authorization.actor.hasPrefix(Principal.userActorPrefix)
            {
                let refused = Self.isErrorCode(error) ? error : "error"
                return Response(
                    status: .seeOther,
                    headers: [.location: "/integrations/\(authorization.integrationID)?refused=\(refused)"])
            }
            throw Problem(
                status: .badRequest, title: "Authorization refused",
                detail: "the platform answered \(code): access was not granted")
        }
        guard let state = request.query("state"), let code = request.query("code") else {
            throw Problem(
                status: .badRequest, title: "Bad Request",
                detail: "the callback needs the code and state the platform sends")
        }
        if let realmID = request.query("realmId"), !Self.isRealmID(realmID) {
            throw Problem(
                status: .badRequest, title: "Bad Request", detail: "realmId must be a QuickBooks realm id: digits only")
        }
        guard let authorization = try await database.takeAuthorization(state: state, box: box) else {
            throw Problem(
                status: .badRequest, title: "Unknown state",
                detail: "this authorization is unknown, was already used or expired; start again from connect")
        }
        guard let integration = try await database.integration(id: authorization.integrationID) else {
            throw Problem.notFound("no integration \(authorization.integrationID)")
        }
        let client = try await oauthClient(for: integration)
        let grant: TokenGrant
        do {
            grant = try await client.exchange(code: code, codeVerifier: authorization.codeVerifier)
        } catch {
            throw Problem(
                status: .badGateway, title: "Token exchange failed",
                detail: "the platform did not exchange the code: \(error.message)")
        }
        let now = Timestamp.now()
        var company = request.query("realmId")
        var choices: [RemoteCompany] = []
        do {
            if company == nil {
                // A platform that names the companies only after the grant (Xero): one is taken, several wait for a
                // person's choice.
                choices = try await companies(accessToken: grant.accessToken, integration: integration) ?? []
                if choices.count == 1 { company = choices[0].id }
            }
            // The company named in the redirect is taken only once the new token is seen to open it.
            try await confirm(
                choices.count == 1 ? nil : company, field: "realmId", accessToken: grant.accessToken,
                integration: integration)
            _ = try await database.saveCredentials(
                integrationID: integration.id,
                OAuthTokens(
                    accessToken: grant.accessToken, refreshToken: grant.refreshToken,
                    accessTokenExpiresAt: now.adding(.seconds(grant.expiresIn)),
                    refreshTokenExpiresAt: grant.refreshTokenExpiresIn.map { now.adding(.seconds($0)) },
                    remoteTenantID: company),
                expectedGeneration: nil, source: .authorized, box: box, actor: authorization.actor,
                connects: choices.count <= 1, at: now)
            if choices.count > 1 {
                _ = try await database.updateIntegration(
                    id: integration.id, tenantID: nil,
                    AppDatabase.IntegrationChange(settings: [Integration.availableTenantsKey: Self.json(choices)]),
                    box: box, actor: authorization.actor)
            }
        } catch {
            // Not kept (a company connected elsewhere, or not the one granted): the grant must not live on unused.
            try? await client.revoke(token: grant.refreshToken ?? grant.accessToken)
            throw error
        }
        // A person who began in the dashboard goes back to the integration's page there.
        if authorization.actor.hasPrefix(Principal.userActorPrefix) {
            return Response(
                status: .seeOther, headers: [.location: "/integrations/\(integration.id)?connected=1"])
        }
        let connected = try await database.integration(id: integration.id) ?? integration
        return try JSONResponse(connected.json).response(from: request, context: context)
    }

    @Sendable func importCredentials(request: Request, context: AppRequestContext) async throws -> JSONResponse {
        let principal = try context.require(.financeManager)
        let integration = try await database.integration(from: context, role: .financeManager)
        var request = request
        let body = FieldReader(try await request.jsonObject(context: context), path: "", diagnostics: Diagnostics())
        let accessToken = body.string("access_token")
        let refreshToken = body.optionalString("refresh_token")
        let expiresAt = body.timestamp("expires_at")
        // The company, under the platform's own name for it: every call to the platform names it (in its path or
        // a header).
        let given = ["realm_id", "xero_tenant_id", "business_id"].compactMap { field in
            body.optionalString(field).map { (field: field, value: $0) }
        }
        if given.count > 1 {
            body.diagnostics.add(
                given[1].field,
                "give one of realm_id (QuickBooks), xero_tenant_id (Xero) or business_id (Sage), not several")
        }
        let company = given.first
        if let company, company.field == "realm_id", !Self.isRealmID(company.value) {
            body.diagnostics.add("realm_id", "must be the QuickBooks company's realm id: digits only")
        } else if let company, !DestinationPolicy.isSafePathSegment(company.value) {
            body.diagnostics.add(company.field, "must be the platform's id of the company, without /, %, .. or spaces")
        }
        guard body.diagnostics.errors.isEmpty, let accessToken, let expiresAt else {
            throw Problem.invalid(body.diagnostics.errors)
        }
        // Tokens are for a platform connected by OAuth (or one without a connector here, kept as given).
        if let connector = connectors[integration.platform] {
            let scheme = connector.authentication(settings: integration.settings)
            if scheme.oauthEndpoints == nil { throw Self.notOAuth(integration, scheme) }
        }
        try await confirm(
            company?.value, field: company?.field ?? "realm_id", accessToken: accessToken, integration: integration)
        _ = try await database.saveCredentials(
            integrationID: integration.id,
            OAuthTokens(
                accessToken: accessToken, refreshToken: refreshToken, accessTokenExpiresAt: expiresAt,
                remoteTenantID: company?.value),
            expectedGeneration: nil, source: .imported, box: box, actor: principal.actor)
        let connected = try await database.integration(id: integration.id) ?? integration
        return JSONResponse(connected.json)
    }

    /// The companies a new grant opens, where the platform names them only after it (`Connector.companies`); `nil`
    /// where the redirect names it. A grant that opens none is refused.
    private func companies(accessToken: String, integration: Integration) async throws -> [RemoteCompany]? {
        let found = try await Self.companies(
            of: integration, accessToken: accessToken, connectors: connectors, transport: transport,
            rateLimiters: rateLimiters)
        if let found, found.isEmpty {
            throw Problem(
                status: .conflict, title: "Nothing granted",
                detail: "the grant opens no organisation: connect again and allow at least one")
        }
        return found
    }

    /// The companies `accessToken`'s grant opens, by `integration`'s connector (`Connector.companies`); `nil` where
    /// the platform names the company in the redirect instead.
    /// The call counts against the integration's limits as its sync's calls do: a sync started within the minute
    /// (Sage's 200 a minute per business) must not go over them by this one.
    /// - Throws: a 502 problem when the platform did not list them.
    static func companies(
        of integration: Integration, accessToken: String, connectors: [Platform: any Connector],
        transport: any HTTPTransport, rateLimiters: RateLimiters
    ) async throws -> [RemoteCompany]? {
        guard let connector = connectors[integration.platform] else { return nil }
        var transport = transport
        if let policy = connector.capabilities.rateLimit {
            transport = RateLimitedTransport(
                base: transport, limiter: await rateLimiters.limiter(integrationID: integration.id, policy: policy))
        }
        let context = ConnectorContext(
            integrationID: integration.id, tenantID: integration.tenantID, settings: integration.settings,
            credentials: FixedCredentials(accessToken: accessToken, remoteTenantID: nil), transport: transport,
            logger: Logger(label: "ledgerwire.oauth"))
        do {
            return try await connector.companies(context: context)
        } catch {
            throw Problem(
                status: .badGateway, title: "Companies not listed",
                detail: "the platform did not list what the grant opens: \(error.message)")
        }
    }

    /// `available_tenants` as an integration keeps and shows them.
    static func json(_ companies: [RemoteCompany]) -> JSONValue {
        .array(companies.map { ["tenant_id": .string($0.id), "name": .string($0.name)] })
    }

    /// Refuses a company the access token does not open, before it is claimed for the integration: nobody can
    /// claim (and so lock others out of, and receive the webhooks of) a company they were not granted.
    private func confirm(
        _ company: String?, field: String, accessToken: String, integration: Integration
    ) async throws {
        guard let company, let connector = connectors[integration.platform] else { return }
        let context = ConnectorContext(
            integrationID: integration.id, tenantID: integration.tenantID, settings: integration.settings,
            credentials: FixedCredentials(accessToken: accessToken, remoteTenantID: company), transport: transport,
            logger: Logger(label: "ledgerwire.oauth"))
        let opens: Bool
        do {
            opens = try await connector.confirmsAccess(to: company, context: context)
        } catch {
            throw Problem(
                status: .badGateway, title: "Company not confirmed",
                detail: "the platform could not confirm access to the company: \(error.message)")
        }
        guard opens else {
            throw Problem.invalid([
                FieldError(field: field, message: "the access token does not open this company")
            ])
        }
    }

    /// QuickBooks realm ids are digits (up to 32 here, which is more than they use).
    static func isRealmID(_ text: String) -> Bool {
        !text.isEmpty && text.count <= 32 && text.allSatisfy { $0.isASCII && $0.isNumber }
    }

    /// The platform's OAuth endpoints; a 409 saying how the platform connects when it is not by OAuth.
    private func oauthEndpoints(for integration: Integration) throws -> OAuthEndpoints {
        guard let connector = connectors[integration.platform] else {
            throw Problem(
                status: .conflict, title: "Conflict",
                detail: "\(integration.platform.rawValue) is not connected by OAuth here; import its credentials")
        }
        let scheme = connector.authentication(settings: integration.settings)
        guard let endpoints = scheme.oauthEndpoints else { throw Self.notOAuth(integration, scheme) }
        return endpoints
    }

    /// A 409 saying how the integration's platform connects, for a request that only OAuth platforms take.
    private static func notOAuth(_ integration: Integration, _ scheme: AuthenticationScheme) -> Problem {
        Problem(
            status: .conflict, title: "Conflict",
            detail: "\(integration.platform.rawValue) does not connect by OAuth: "
                + scheme.howToConnect.replacing("{id}", with: integration.id))
    }

    private func oauthClient(for integration: Integration) async throws -> OAuthClient {
        let endpoints = try oauthEndpoints(for: integration)
        let secrets = try await database.integrationSecrets(id: integration.id, box: box)
        var missing: [FieldError] = []
        for key in ["client_id", "redirect_uri"] where integration.settings[key]?.stringValue == nil {
            missing.append(FieldError(field: "settings.\(key)", message: "is required to connect by OAuth"))
        }
        if secrets["client_secret"] == nil {
            missing.append(FieldError(field: "settings.client_secret", message: "is required to connect by OAuth"))
        }
        guard missing.isEmpty, let clientID = integration.settings["client_id"]?.stringValue,
            let redirectURI = integration.settings["redirect_uri"]?.stringValue,
            let clientSecret = secrets["client_secret"]
        else { throw Problem.invalid(missing, detail: "the integration's settings are incomplete") }
        return OAuthClient(
            clientID: clientID, clientSecret: clientSecret, redirectURI: redirectURI, endpoints: endpoints,
            transport: transport)
    }
}
