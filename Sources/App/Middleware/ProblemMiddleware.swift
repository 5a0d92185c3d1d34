import Accounting
import Hummingbird
import Logging
import Persistence

/// Turns every error a route throws into `application/problem+json`; unknown errors become an opaque 500
/// and are logged without request bodies.
struct ProblemMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            let problem = Problem(error)
            if problem.status == .internalServerError {
                context.logger.error(
                    "request.failed",
                    metadata: [
                        "http.path": "\(request.uri.path)", "error.type": "\(String(reflecting: type(of: error)))",
                    ]
                )
            }
            return try problem.response(from: request, context: context)
        }
    }
}
