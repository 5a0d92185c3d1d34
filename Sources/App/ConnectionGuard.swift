import NIOCore
import NIOHTTPTypes
import Synchronization

/// The number of open HTTP connections, shared by every connection's `ConnectionGuard`.
final class ConnectionCount: Sendable {
    let limit: Int
    private let open = Atomic<Int>(0)

    init(limit: Int) {
        self.limit = limit
    }

    /// Counts one more connection, or refuses it (counting nothing) when `limit` are open.
    func admit() -> Bool {
        if open.add(1, ordering: .relaxed).newValue <= limit { return true }
        open.subtract(1, ordering: .relaxed)
        return false
    }

    func release() {
        open.subtract(1, ordering: .relaxed)
    }
}

/// Bounds one HTTP/1 connection, before any route sees it:
///
/// - it is admitted only while fewer than the server's connection cap are open, and closed at once otherwise;
/// - each request, head and body, must arrive within `requestReadTimeout` of the connection being ready for it
///   (opened, or done answering the previous request), or the connection is closed. A client that sends its header
///   a byte at a time (slowloris) or drips its body holds a connection that long at most, whatever Hummingbird's
///   idle timeout (which every received part resets) says.
final class ConnectionGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let count: ConnectionCount
    private let requestReadTimeout: TimeAmount
    private var admitted = false
    private var deadline: Scheduled<Void>?
    /// Requests read whole and not yet answered (HTTP/1.1 pipelining can bring the next before the last answer).
    private var unanswered = 0

    init(count: ConnectionCount, requestReadTimeout: TimeAmount) {
        self.count = count
        self.requestReadTimeout = requestReadTimeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { start(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        start(context)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .end = unwrapInboundIn(data) {
            // The whole request is in; answering it may take as long as it takes.
            unanswered += 1
            disarm()
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) {
            unanswered = max(0, unanswered - 1)
            // The clock for the next request starts only when nothing read is still being answered.
            if unanswered == 0 { arm(context) }
        }
        context.write(data, promise: promise)
    }

    func channelInactive(context: ChannelHandlerContext) {
        stop()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        stop()
    }

    private func start(_ context: ChannelHandlerContext) {
        guard !admitted else { return }
        guard count.admit() else {
            context.close(promise: nil)
            return
        }
        admitted = true
        arm(context)
    }

    private func arm(_ context: ChannelHandlerContext) {
        disarm()
        deadline = context.eventLoop.assumeIsolated().scheduleTask(in: requestReadTimeout) {
            context.close(promise: nil)
        }
    }

    private func disarm() {
        deadline?.cancel()
        deadline = nil
    }

    private func stop() {
        disarm()
        if admitted {
            admitted = false
            count.release()
        }
    }
}
