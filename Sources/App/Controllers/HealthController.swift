import Accounting
import Hummingbird
import Logging
import NIOCore
import Persistence
import Prometheus
import Synchronization

/// `/health`, `/ready` and `/metrics`: unauthenticated, for load balancers and Prometheus.
struct HealthController {
    let metrics: AppMetrics
    let readiness: Readiness
    /// When set (`metrics.require_key`), `/metrics` needs a bearer API key.
    let metricsAuthentication: AuthenticationMiddleware?

    var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.get("/health") { _, _ in JSONResponse(["status": "ok"]) }
        routes.get("/ready") { _, _ in
            readiness.isReady
                ? JSONResponse(["status": "ready"]) : JSONResponse(["status": "starting"], status: .serviceUnavailable)
        }
        let registry = metrics.registry
        let scrape: @Sendable (Request, AppRequestContext) async throws -> Response = { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4"],
                body: .init(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer()))
            )
        }
        if let metricsAuthentication {
            routes.group().add(middleware: metricsAuthentication).get("/metrics", use: scrape)
        } else {
            routes.get("/metrics", use: scrape)
        }
        return routes
    }
}

/// Whether the server is ready: migrated, listening, workers running.
public final class Readiness: Sendable {
    private let ready = Atomic<Bool>(false)

    public init() {}

    public var isReady: Bool { ready.load(ordering: .acquiring) }

    public func markReady() { ready.store(true, ordering: .releasing) }
}
