import Accounting
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Persistence

/// The dashboard's sessions: the `lw_session` cookie names a session; its user becomes the request's `Principal`
/// (with the API key role of the same level, so pages and forms are authorized exactly as the API is), and every
/// request that changes something must carry the session's form token and come from this site.
///
/// A page asked for without a session is redirected to the sign-in page, which comes back to it; a form sent without
/// one is refused.
struct WebSessionMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    static let cookieName = "lw_session"
    static let formTokenField = "_csrf"

    let database: AppDatabase
    let formTokens: FormTokenKey
    let now: @Sendable () -> Timestamp

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard let token = request.cookies[Self.cookieName]?.value, !token.isEmpty, token.utf8.count <= 128,
            let (user, _) = try await database.session(token: token, now: now())
        else {
            guard request.method == .get || request.method == .head else {
                throw Problem(
                    status: .forbidden, title: "Forbidden",
                    detail: "you are not signed in, or your session has ended: sign in again and resend the form")
            }
            return SignInController.redirect(toSignInFrom: request)
        }
        var context = context
        context.principal = Principal(
            role: user.role.access, tenantID: user.tenantID, actor: Principal.userActorPrefix + user.id)
        context.signedIn = SignedIn(
            userID: user.id, name: user.name, email: user.email,
            roleLabel: user.role.rawValue.replacingOccurrences(of: "_", with: " "),
            csrfToken: formTokens.token(forSession: token))
        // Times as the user's school keeps them; UTC for those of no one school, or when the school set no zone.
        var zone: String?
        if let tenantID = user.tenantID { zone = try await database.schoolTimeZone(tenantID: tenantID) }
        return try await DashboardTime.$zone.withValue(DashboardTime.Zone(identifier: zone)) {
            try await Self.checkingForms(request, context: context, token: token, next: next, formTokens: formTokens)
        }
    }

    /// Passes a page on; a change only when it came from one of this dashboard's forms.
    private static func checkingForms(
        _ request: Request, context: Context, token: String, next: (Request, Context) async throws -> Response,
        formTokens: FormTokenKey
    ) async throws -> Response {
        guard request.method != .get, request.method != .head else { return try await next(request, context) }
        // A change must come from one of this dashboard's own forms: same site, carrying the session's form token.
        if let site = request.headers[.secFetchSite], site != "same-origin" {
            throw Self.forgedForm
        }
        var context = context
        // A file upload (`multipart/form-data`, read by its own route within that route's limit) carries the form
        // token in its action's query, as the page wrote it.
        if request.headers[.contentType]?.lowercased().hasPrefix("multipart/form-data") == true {
            guard let given = request.uri.queryParameters.get(Self.formTokenField),
                formTokens.isValid(String(given), forSession: token)
            else { throw Self.forgedForm }
            return try await next(request, context)
        }
        var request = request
        let body = try await request.collectBody(upTo: context.maxUploadSize)
        let form = FormURLEncoded.fields(String(buffer: body))
        guard let given = form.first(where: { $0.name == Self.formTokenField })?.value,
            formTokens.isValid(given, forSession: token)
        else { throw Self.forgedForm }
        context.form = form
        return try await next(request, context)
    }

    static var forgedForm: Problem {
        Problem(
            status: .forbidden, title: "Forbidden",
            detail: "this form did not come from your dashboard session (its form token is missing or out of date): "
                + "reload the page and try again")
    }
}

extension HTTPField.Name {
    static let secFetchSite = HTTPField.Name("Sec-Fetch-Site")!
}
