import NIOCore
import NIOPosix
import Synchronization

/// A TCP proxy on a loopback port, for fault tests: the code under test connects to the
/// proxy instead of the real server, and the test can cut every connection (and refuse new
/// ones) to make the server unreachable, then restore it.
public final class TCPProxy: Sendable {
    private struct State {
        var open = true
        var channels: [any Channel] = []
    }

    private final class Shared: Sendable {
        let lock = Mutex(State())
        func withLock<T>(_ body: (inout State) -> T) -> T { lock.withLock { body(&$0) } }
    }

    private let state = Shared()
    private let server: any Channel
    /// The proxy's port on 127.0.0.1.
    public let port: Int

    private struct Refused: Error {}

    /// Starts a proxy to `host:port`.
    public init(to host: String, port targetPort: Int) async throws {
        let state = self.state
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { inbound in
                guard state.withLock({ $0.open }) else { return inbound.eventLoop.makeFailedFuture(Refused()) }
                return ClientBootstrap(group: inbound.eventLoop).connect(host: host, port: targetPort).flatMapThrowing { outbound in
                    let (a, b) = GlueHandler.matchedPair()
                    try inbound.pipeline.syncOperations.addHandler(a)
                    try outbound.pipeline.syncOperations.addHandler(b)
                    let keep = state.withLock { state in
                        if state.open { state.channels += [inbound, outbound] }
                        return state.open
                    }
                    if !keep {
                        inbound.close(promise: nil)
                        outbound.close(promise: nil)
                    }
                }
            }
        server = try await bootstrap.bind(host: "127.0.0.1", port: 0).get()
        port = server.localAddress?.port ?? 0
    }

    /// Closes every proxied connection and refuses new ones until ``restore()``.
    public func cut() {
        let channels = state.withLock { state in
            state.open = false
            defer { state.channels = [] }
            return state.channels
        }
        for channel in channels { channel.close(promise: nil) }
    }

    /// Leaves every proxied connection open but passes nothing more on it, either way — a
    /// network that went silent (a partition without a reset); new connections work.
    public func mute() {
        let channels = state.withLock { state in
            defer { state.channels = [] }
            return state.channels
        }
        for channel in channels {
            channel.eventLoop.execute {
                (try? channel.pipeline.syncOperations.handler(type: GlueHandler.self))?.muted = true
            }
        }
    }

    /// Accepts connections again.
    public func restore() {
        state.withLock { $0.open = true }
    }

    /// Stops the proxy and closes its connections.
    public func stop() async {
        cut()
        try? await server.close()
    }
}

/// Forwards what one channel reads to its partner, on the same event loop.
private final class GlueHandler: ChannelDuplexHandler {
    typealias InboundIn = NIOAny
    typealias OutboundIn = NIOAny
    typealias OutboundOut = NIOAny

    private var partner: GlueHandler?
    private var context: ChannelHandlerContext?
    /// Drops what arrives instead of passing it on (``TCPProxy/mute()``).
    var muted = false

    static func matchedPair() -> (GlueHandler, GlueHandler) {
        let first = GlueHandler(), second = GlueHandler()
        first.partner = second
        second.partner = first
        return (first, second)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        partner = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if !muted { partner?.context?.write(data, promise: nil) }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if !muted { partner?.context?.flush() }
    }

    func channelInactive(context: ChannelHandlerContext) {
        partner?.context?.close(promise: nil)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
