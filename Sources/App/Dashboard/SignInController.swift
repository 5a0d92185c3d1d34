import Accounting
import Foundation
import HTTPTypes
import Hummingbird
import Persistence

/// `/sign-in` and `/sign-out`: people sign in to the dashboard with their email and password.
///
/// Signing in makes a new session (a fresh token, never one the browser already had: the old one is ended), sent in
/// an HttpOnly, SameSite=Lax cookie (Secure when the page came over HTTPS). The sign-in form carries a token of its
/// own, matched against a cookie set with the form, so no other site can sign a browser in. Failed sign-ins are slowed
/// per address and per email: after five within a minute, that address or email waits out the minute.
struct SignInController {
    static let formCookie = "lw_sign_in"

    let database: AppDatabase
    let renderer: Result<DashboardRenderer, DashboardError>
    let byAddress: AuthenticationThrottle
    let byEmail: AuthenticationThrottle
    let now: @Sendable () -> Timestamp

    init(database: AppDatabase, now: @escaping @Sendable () -> Timestamp = Timestamp.now) {
        self.database = database
        self.renderer = DashboardRenderer.bundled
        self.byAddress = AuthenticationThrottle(limit: 5, window: .seconds(60))
        self.byEmail = AuthenticationThrottle(limit: 5, window: .seconds(60))
        self.now = now
    }

    /// The sign-in page's routes (no session needed).
    var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.get("/sign-in", use: form)
        routes.post("/sign-in", use: signIn)
        return routes
    }

    /// Signing out (with a session, and its form token).
    var sessionEndpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.post("/sign-out", use: signOut)
        return routes
    }

    struct SignInView: Sendable {
        var next: String
        var formToken: String
        var email: String
        var error: String?
    }

    @Sendable func form(request: Request, context: AppRequestContext) async throws -> Response {
        try page(next: Self.safeNext(request.uri.queryParameters.get("next")), email: "", error: nil, context: context)
    }

    @Sendable func signIn(request: Request, context: AppRequestContext) async throws -> Response {
        var request = request
        let fields = FormURLEncoded.fields(String(buffer: try await request.collectBody(upTo: context.maxUploadSize)))
        func field(_ name: String) -> String { fields.first { $0.name == name }?.value ?? "" }
        let next = Self.safeNext(field("next"))
        let email = field("email").trimmingCharacters(in: .whitespaces)
        guard let cookie = request.cookies[Self.formCookie]?.value,
            ConstantTime.equal(Array(cookie.utf8), Array(field("_form").utf8))
        else {
            return try page(
                next: next, email: email, error: "The sign-in form had expired. Please sign in again.",
                context: context, status: .forbidden)
        }
        let address = context.remoteIP.map(AuthenticationThrottle.clientKey(forIP:)) ?? "local"
        let emailKey = "email:" + email.lowercased()
        if let wait = byAddress.wait(for: address) ?? byEmail.wait(for: emailKey) {
            var response = try page(
                next: next, email: email,
                error:
                    "Too many sign-in attempts. Please wait \(Int(wait.components.seconds) + 1) seconds and try again.",
                context: context, status: .tooManyRequests)
            response.headers[.retryAfter] = String(Int(wait.components.seconds) + 1)
            return response
        }
        guard !email.isEmpty, !field("password").isEmpty,
            let (_, token) = try await database.signIn(email: email, password: field("password"), now: now())
        else {
            byAddress.recordFailure(from: address)
            byEmail.recordFailure(from: emailKey)
            return try page(
                next: next, email: email, error: "The email or password is not right.", context: context,
                status: .unauthorized)
        }
        // A new session each sign-in: a token planted in the browser beforehand signs nobody in.
        if let previous = request.cookies[WebSessionMiddleware.cookieName]?.value, previous.utf8.count <= 128 {
            _ = try await database.signOut(token: previous)
        }
        var response = Response(status: .seeOther, headers: [.location: next])
        response.setCookie(Self.sessionCookie(token, secure: Self.isSecure(request)))
        response.setCookie(Cookie(name: Self.formCookie, value: "", maxAge: 0, path: "/sign-in", httpOnly: true))
        return response
    }

    @Sendable func signOut(request: Request, context: AppRequestContext) async throws -> Response {
        if let token = request.cookies[WebSessionMiddleware.cookieName]?.value {
            _ = try await database.signOut(token: token)
        }
        var response = Response(status: .seeOther, headers: [.location: "/sign-in"])
        response.setCookie(
            Cookie(
                name: WebSessionMiddleware.cookieName, value: "", maxAge: 0, path: "/", secure: Self.isSecure(request),
                httpOnly: true, sameSite: .lax))
        return response
    }

    private func page(
        next: String, email: String, error: String?, context: AppRequestContext, status: HTTPResponse.Status = .ok
    ) throws -> Response {
        let formToken = APIKey.generateToken()
        var response = try renderer.get().response(
            Screen(
                "sign-in", title: "Sign in", section: nil, context: context,
                page: SignInView(next: next, formToken: formToken, email: email, error: error)),
            status: status)
        response.setCookie(
            Cookie(
                name: Self.formCookie, value: formToken, maxAge: 3600, path: "/sign-in", httpOnly: true,
                sameSite: .strict))
        return response
    }

    static func sessionCookie(_ token: String, secure: Bool) -> Cookie {
        Cookie(
            name: WebSessionMiddleware.cookieName, value: token, maxAge: 7 * 24 * 3600, path: "/", secure: secure,
            httpOnly: true, sameSite: .lax)
    }

    /// Whether the browser reached this server over HTTPS (directly or through a proxy that says so).
    static func isSecure(_ request: Request) -> Bool {
        request.uri.scheme == .https || request.headers[.xForwardedProto]?.lowercased() == "https"
    }

    /// Where to go after signing in: a path of this site only (never `//host` or `https://…`), else the overview.
    static func safeNext(_ next: String?) -> String {
        guard let next, next.hasPrefix("/"), !next.hasPrefix("//"), !next.contains("\\"), next.utf8.count <= 2048,
            !next.unicodeScalars.contains(where: { $0.value < 0x20 })
        else { return "/" }
        return next
    }

    /// The answer to a page asked for without a session: the sign-in page, which comes back to it.
    static func redirect(toSignInFrom request: Request) -> Response {
        var path = request.uri.path
        if let query = request.uri.query, !query.isEmpty { path += "?" + query }
        let next =
            path == "/" ? "" : "?next=" + (path.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")
        return Response(status: .seeOther, headers: [.location: "/sign-in" + next])
    }
}

extension HTTPField.Name {
    static let xForwardedProto = HTTPField.Name("X-Forwarded-Proto")!
}
