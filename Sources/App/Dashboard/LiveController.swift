import HTTPTypes
import Hummingbird
import NIOCore
public import Persistence
import ServiceLifecycle
import Synchronization

/// Counts the store's commits that change what the dashboard shows.
///
/// One observation serves every open page; it sees this process's commits (the workers and the API run in it).
public final class DashboardChanges: Sendable {
    private let count = Atomic<UInt64>(0)
    private let observation = Mutex<ChangeObservation?>(nil)

    public init() {}

    /// Starts counting `database`'s commits.
    public func observe(_ database: AppDatabase) {
        let observation = database.observeChanges { [weak self] in self?.bump() }
        self.observation.withLock { $0 = observation }
    }

    /// How many changes have been seen.
    var version: UInt64 { count.load(ordering: .acquiring) }

    func bump() { count.add(1, ordering: .releasing) }
}

/// `GET /live`: Server-Sent Events telling an open dashboard page that something it shows changed (`event: change`),
/// at most four times a second (each stream looks at the change count every 250 ms, which costs nothing), so the page
/// fetches its fresh copy within a second; a comment every 15 s keeps the connection open. The events carry no data: what the page shows is read again through the page's own route, under
/// the signed-in person's authorization. A stream ends after ten minutes (the browser reconnects at once) or when the
/// server shuts down.
struct LiveController {
    let changes: DashboardChanges

    static let coalescing: Duration = .milliseconds(250)
    static let heartbeat: Duration = .seconds(15)
    static let lifetime: Duration = .seconds(600)

    var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.get("/live", use: stream)
        return routes
    }

    @Sendable func stream(request: Request, context: AppRequestContext) async throws -> Response {
        _ = try context.require(.viewer)
        var headers = HTTPFields()
        headers[.contentType] = "text/event-stream"
        headers[.cacheControl] = "no-store"
        let changes = self.changes
        return Response(
            status: .ok, headers: headers,
            body: ResponseBody { writer in
                try await writer.write(ByteBuffer(string: "retry: 1000\n\n"))
                let end = ContinuousClock.now + Self.lifetime
                var seen = changes.version
                var lastWrite = ContinuousClock.now
                while ContinuousClock.now < end, !Task.isShuttingDownGracefully {
                    try await Task.sleep(for: Self.coalescing)
                    let version = changes.version
                    if version != seen {
                        seen = version
                        try await writer.write(ByteBuffer(string: "event: change\ndata: \(version)\n\n"))
                        lastWrite = .now
                    } else if ContinuousClock.now - lastWrite >= Self.heartbeat {
                        try await writer.write(ByteBuffer(string: ": still here\n\n"))
                        lastWrite = .now
                    }
                }
                try await writer.finish(nil)
            })
    }
}
