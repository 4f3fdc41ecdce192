import NIOCore
import NIOPosix
import Synchronization

/// A TCP proxy on loopback that, when armed, lets a request through to the server but
/// drops the server's answer: it cuts the connection at the answer's first byte, then
/// refuses connections until ``restore()``. The request was processed; the client never
/// learns its result — a server that died between storing an append and answering it.
final class ResponseDroppingProxy: Sendable {
    fileprivate struct State {
        var open = true
        var armed = false
        var dropped = 0
        var channels: [any Channel] = []
    }

    fileprivate final class Shared: Sendable {
        let lock = Mutex(State())
        fileprivate func withLock<T>(_ body: (inout State) -> T) -> T { lock.withLock { body(&$0) } }

        /// Whether to drop an answer now (and from then on refuse connections).
        func shouldDrop() -> Bool {
            withLock { state in
                guard state.armed else { return false }
                state.armed = false
                state.open = false
                state.dropped += 1
                return true
            }
        }
    }

    private let state = Shared()
    private let server: any Channel
    /// The proxy's port on 127.0.0.1.
    let port: Int

    private struct Refused: Error {}

    /// Starts a proxy to `127.0.0.1:targetPort` (the server need not be up yet).
    init(to targetPort: Int) async throws {
        let state = self.state
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { inbound in
                guard state.withLock({ $0.open }) else { return inbound.eventLoop.makeFailedFuture(Refused()) }
                return ClientBootstrap(group: inbound.eventLoop).connect(host: "127.0.0.1", port: targetPort).flatMapThrowing { outbound in
                    let toServer = Glue(shared: nil), toClient = Glue(shared: state)
                    toServer.partner = toClient
                    toClient.partner = toServer
                    try inbound.pipeline.syncOperations.addHandler(toServer)
                    try outbound.pipeline.syncOperations.addHandler(toClient)
                    state.withLock { $0.channels += [inbound, outbound] }
                }
            }
        server = try await bootstrap.bind(host: "127.0.0.1", port: 0).get()
        port = server.localAddress?.port ?? 0
    }

    /// Drops the next answer the server sends, then refuses connections.
    func dropNextAnswer() {
        state.withLock { $0.armed = true }
    }

    /// How many answers were dropped.
    var droppedAnswers: Int { state.withLock { $0.dropped } }

    /// Accepts connections again.
    func restore() {
        state.withLock { $0.open = true }
    }

    /// Stops the proxy and closes its connections.
    func stop() async {
        let channels = state.withLock { state in
            state.open = false
            defer { state.channels = [] }
            return state.channels
        }
        for channel in channels { channel.close(promise: nil) }
        try? await server.close()
    }

    /// Forwards what one channel reads to its partner; on the server side, drops an armed answer.
    private final class Glue: ChannelDuplexHandler {
        typealias InboundIn = NIOAny
        typealias OutboundIn = NIOAny
        typealias OutboundOut = NIOAny

        var partner: Glue?
        private var context: ChannelHandlerContext?
        /// Set on the handler of the server's channel.
        private let shared: Shared?

        init(shared: Shared?) {
            self.shared = shared
        }

        func handlerAdded(context: ChannelHandlerContext) {
            self.context = context
        }

        func handlerRemoved(context: ChannelHandlerContext) {
            self.context = nil
            partner = nil
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            if let shared, shared.shouldDrop() {
                partner?.context?.close(promise: nil)
                context.close(promise: nil)
                return
            }
            partner?.context?.write(data, promise: nil)
        }

        func channelReadComplete(context: ChannelHandlerContext) {
            partner?.context?.flush()
        }

        func channelInactive(context: ChannelHandlerContext) {
            partner?.context?.close(promise: nil)
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            context.close(promise: nil)
        }
    }
}
