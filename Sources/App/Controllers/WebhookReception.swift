import Hummingbird
import NIOCore

/// What every webhook endpoint does around its own checks: counts the delivery received, reads the raw body within
/// the size limit, and records each answer's outcome and latency.
struct WebhookReception {
    let source: String
    let metrics: AppMetrics
    private let started = ContinuousClock.now

    init(source: String, metrics: AppMetrics) {
        self.source = source
        self.metrics = metrics
        metrics.recordReceived(source: source)
    }

    /// The raw body, or `nil` when it is larger than `limit` bytes (said by `Content-Length` or found reading it).
    func body(of request: Request, upTo limit: Int) async -> [UInt8]? {
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit { return nil }
        guard let buffer = try? await request.body.collect(upTo: limit) else { return nil }
        return Array(buffer.readableBytesView)
    }

    /// The 413 for a body over the limit, counted.
    func tooLarge(_ request: Request, context: AppRequestContext) throws -> Response {
        answer(.tooLarge, try Problem(HTTPError(.contentTooLarge)).response(from: request, context: context))
    }

    /// `response`, counted under `outcome` with the time since the request came in.
    func answer(_ outcome: AppMetrics.Outcome, _ response: Response) -> Response {
        metrics.record(source: source, outcome: outcome, latency: ContinuousClock.now - started)
        return response
    }
}
