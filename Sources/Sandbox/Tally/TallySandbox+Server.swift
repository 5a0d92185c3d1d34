import Connectors
import Foundation
public import Hummingbird
public import Logging
import NIOCore

extension TallySandbox {
    /// The largest body taken (a bulk import of a few thousand vouchers is a few megabytes); a larger one is answered
    /// as a request Tally cannot process.
    static let maximumBody = 64 << 20

    /// The emulator's HTTP surface: `POST /` answers one envelope at a time; `GET /` says the server is running, as
    /// Tally's does in a browser.
    public nonisolated func router() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        let running = version == .prime ? "TallyPrime Server is Running" : "Tally.ERP 9 Server is Running"
        router.get("/") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/xml;charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: "<RESPONSE>\(running)</RESPONSE>")))
        }
        router.post("/") { request, _ in await self.respond(to: request) }
        return router
    }

    /// One `POST /`: waits its turn, answers, holds the answer back when slow, and drops it when told to.
    nonisolated func respond(to request: Request) async -> Response {
        let contentType = request.headers[.contentType]
        let body = (try? await request.body.collect(upTo: Self.maximumBody)).map { Data($0.readableBytesView) }
        await enter()
        let answer = await answer(body ?? Data(), contentType: contentType)
        let delay = await holdBack(importing: answer.objects)
        if delay > .zero { try? await Task.sleep(for: delay) }
        var drop = false
        if answer.isImport { drop = await takeDroppedAnswer() }
        await leave()
        if drop {
            // The import is applied; the connection breaks before the answer is whole.
            return Response(
                status: .ok, headers: [.contentType: answer.encoding.contentType],
                body: ResponseBody { writer in
                    try await writer.write(ByteBuffer(bytes: answer.body.prefix(8)))
                    throw CancellationError()
                })
        }
        return Response(
            status: .ok, headers: [.contentType: answer.encoding.contentType],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: answer.body)))
    }

    // MARK: Listening

    /// Serves the emulator on `host`:`port` (0 picks a free port, kept for every restart) until the task is cancelled.
    /// `stopListening()` closes the port (connections are refused, the books kept); `startListening()` opens the same
    /// port again. `onListening` is called with the port each time the server is up.
    public func run(
        host: String = "127.0.0.1", port: Int, logger: Logger = Logger(label: "ledgerwire.sandbox.tally"),
        onListening: @escaping @Sendable (Int) async -> Void = { _ in }
    ) async throws {
        var port = port
        // Hummingbird logs a server cancelled by `stopListening()` as an error: only its critical messages are kept.
        var serverLogger = logger
        serverLogger.logLevel = .critical
        while !Task.isCancelled {
            let (stopped, stop) = AsyncStream<Void>.makeStream()
            stopSignal = stop
            let asked = port
            let application = Application(
                router: router(), configuration: .init(address: .hostname(host, port: port), serverName: "Tally"),
                onServerRunning: { channel in
                    let bound = channel.localAddress?.port ?? asked
                    await self.listening(on: bound)
                    await onListening(bound)
                }, logger: serverLogger)
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask {
                    defer { stop.finish() }
                    try await application.run()
                }
                tasks.addTask {
                    for await _ in stopped { break }
                }
                _ = try await tasks.next()
                tasks.cancelAll()
                try? await tasks.waitForAll()
            }
            port = listeningPort ?? port
            listeningPort = nil
            stopSignal = nil
            for waiter in stoppedWaiters { waiter.resume() }
            stoppedWaiters = []
            if Task.isCancelled { break }
            if !startRequested {
                let (started, start) = AsyncStream<Void>.makeStream()
                startSignal = start
                for await _ in started { break }
                startSignal = nil
            }
            startRequested = false
        }
    }

    func listening(on port: Int) {
        listeningPort = port
        for waiter in listeningWaiters { waiter.resume(returning: port) }
        listeningWaiters = []
    }

    /// The port the emulator listens on, once it does.
    public func port() async -> Int {
        if let listeningPort { return listeningPort }
        return await withCheckedContinuation { listeningWaiters.append($0) }
    }

    /// "Tally not running": the port is closed (connections refused) when this returns; the books are kept.
    public func stopListening() async {
        guard listeningPort != nil, let stopSignal else { return }
        await withCheckedContinuation { continuation in
            stoppedWaiters.append(continuation)
            stopSignal.yield()
        }
    }

    /// Tally started again: listening on the same port when this returns.
    public func startListening() async {
        guard listeningPort == nil else { return }
        if let startSignal {
            startSignal.yield()
        } else {
            startRequested = true
        }
        _ = await port()
    }
}
