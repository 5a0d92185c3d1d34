import Foundation
import HTTPTypes
import Hummingbird

/// Says how long the server took to make each dashboard page (`Server-Timing: app;dur=<ms>`), which a browser's
/// developer tools show beside the network time, and which the page benchmark reads.
struct ServerTimingMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let start = ContinuousClock.now
        var response = try await next(request, context)
        let elapsed = (ContinuousClock.now - start).components
        let milliseconds = Double(elapsed.seconds) * 1e3 + Double(elapsed.attoseconds) / 1e15
        response.headers[.serverTiming] = "app;dur=" + String(format: "%.2f", milliseconds)
        return response
    }
}

extension HTTPField.Name {
    static let serverTiming = HTTPField.Name("Server-Timing")!
}
