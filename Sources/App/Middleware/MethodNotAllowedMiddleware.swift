import HTTPTypes
import Hummingbird
import HummingbirdCore
import NIOCore

/// The routes as they are registered, with the methods each path takes, so a request with a wrong method is answered
/// 405 with `Allow` (RFC 9110 §15.5.6) instead of Hummingbird's 404.
///
/// It stands in for the router while routes are added (groups and route collections call `on` with the full path),
/// passes everything on, and notes each path's methods in the order they came, the order the router's trie keeps.
final class RouteTable: RouterMethods {
    typealias Context = AppRequestContext

    let router: Router<AppRequestContext>
    private var paths: [RouterPath] = []
    private var methods: [String: [HTTPRequest.Method]] = [:]

    init(_ router: Router<AppRequestContext>) {
        self.router = router
    }

    @discardableResult func on<Responder: HTTPResponder>(
        _ path: RouterPath, method: HTTPRequest.Method, responder: Responder
    ) -> Self where Responder.Context == AppRequestContext {
        router.on(path, method: method, responder: responder)
        if methods[path.description] == nil { paths.append(path) }
        methods[path.description, default: []].append(method)
        return self
    }

    @discardableResult func add(middleware: any MiddlewareProtocol<Request, Response, AppRequestContext>) -> Self {
        router.add(middleware: middleware)
        return self
    }

    /// The router with every route, answering 405 to a path it knows asked with a method it does not take.
    func finish() -> Router<AppRequestContext> {
        // The same paths in the same order make the same trie: a path resolves here exactly as in the router.
        let probe = Router(context: AppRequestContext.self)
        for path in paths {
            let allow = (methods[path.description] ?? []).map(\.rawValue).joined(separator: ", ")
            probe.get(path) { _, _ in Response(status: .ok, headers: [.allow: allow]) }
        }
        // Middleware added after the routes wraps only what no route matched.
        router.add(middleware: MethodNotAllowedMiddleware(probe: probe.buildResponder()))
        return router
    }
}

/// Answers 405 with `Allow` when the router found no route for a request because its path takes other methods.
struct MethodNotAllowedMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    /// Answers `GET` on each known path with the path's methods in `Allow`, and 404 elsewhere.
    let probe: RouterResponder<AppRequestContext>

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            let head = HTTPRequest(method: .get, scheme: nil, authority: nil, path: request.head.path)
            let known = try await probe.respond(
                to: Request(head: head, body: RequestBody(buffer: ByteBuffer())), context: context)
            guard known.status == .ok, let allow = known.headers[.allow],
                !allow.split(separator: ",").contains(where: { $0.filter { $0 != " " } == request.method.rawValue })
            else { throw error }
            var response = try Problem(
                status: .methodNotAllowed, title: "Method Not Allowed",
                detail: "\(request.uri.path) does not take \(request.method.rawValue); it takes \(allow)"
            ).response(from: request, context: context)
            response.headers[.allow] = allow
            return response
        }
    }
}
