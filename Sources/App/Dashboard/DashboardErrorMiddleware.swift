import Accounting
import Hummingbird
import Logging

/// Turns every error a dashboard route throws into a page a person can read, with the same status and words as the
/// API's problem+json (the field errors listed), and a way back.
struct DashboardErrorMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            var problem = Problem(error)
            if let broken = error as? DashboardError {
                context.logger.error("dashboard.broken", metadata: ["error.message": "\(broken.description)"])
                problem.detail = "the dashboard could not show this page; the server's log says why"
            } else if problem.status == .internalServerError {
                context.logger.error(
                    "request.failed",
                    metadata: [
                        "http.path": "\(request.uri.path)", "error.type": "\(String(reflecting: type(of: error)))",
                    ])
            }
            let page = ErrorView(
                heading: problem.title, detail: Self.sentence(problem.detail),
                fields: problem.errors.map { FieldErrorView(field: $0.field, message: $0.message) })
            var response: Response
            switch DashboardRenderer.bundled {
            case .success(let renderer):
                response = try renderer.response(
                    Screen("error", title: problem.title, section: nil, context: context, page: page),
                    status: problem.status)
            case .failure:
                response = DashboardRenderer.html(
                    "<!doctype html><title>Ledgerwire</title><p>The dashboard's templates are missing.</p>",
                    status: problem.status)
            }
            if let retryAfter = problem.retryAfter {
                response.headers[.retryAfter] = String(max(1, Int(retryAfter.components.seconds) + 1))
            }
            return response
        }
    }

    /// `detail` as a sentence: a capital first letter and a full stop.
    static func sentence(_ detail: String) -> String {
        guard let first = detail.first else { return detail }
        let text = first.uppercased() + detail.dropFirst()
        return text.hasSuffix(".") ? text : text + "."
    }
}

struct ErrorView: Sendable {
    var heading: String
    var detail: String
    var fields: [FieldErrorView]
    var back = "/"
    var backLabel = "Back to the overview"
}

struct FieldErrorView: Sendable {
    var field: String
    var message: String
}
