import Hummingbird
import HummingbirdCore
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOHTTP1

/// The HTTP/1 + WebSocket child channel with a ``ConnectionGuard`` after its request decoder.
///
/// Hummingbird adds its idle-timeout handler only once the first request head is decoded, so
/// without the guard a connection that never finishes its first request line is held open
/// for ever, and a request the parser refuses before that gets no answer.
struct GuardedHTTPChannel: ServerChildChannel {
    typealias Value = HTTP1WebSocketUpgradeChannel.Value

    let inner: HTTP1WebSocketUpgradeChannel
    let limits: ConnectionGuard.Limits
    let addresses: AddressConnectionLimit
    let metrics: ServerMetrics
    let allowsUpgrade: @Sendable (HTTPRequestHead) -> Bool

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        inner.setup(channel: channel, logger: logger).flatMapThrowing { value in
            let decoder = try channel.pipeline.syncOperations.handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self)
            try channel.pipeline.syncOperations.addHandler(ConnectionGuard(limits: limits, addresses: addresses, metrics: metrics, allowsUpgrade: allowsUpgrade, logger: logger), position: .after(decoder))
            return value
        }
    }

    func handle(value: Value, logger: Logger) async {
        await inner.handle(value: value, logger: logger)
    }
}

extension HTTPServerBuilder {
    /// HTTP/1 with WebSocket upgrades on `router`, each connection guarded by `limits` and
    /// counted against its address's limit in `addresses`.
    static func guardedHTTP1WebSocketUpgrade<Router: HTTPResponderBuilder & _HB_SendableMetatype>(
        webSocketRouter: Router, limits: ConnectionGuard.Limits, addresses: AddressConnectionLimit, metrics: ServerMetrics,
        allowsUpgrade: @escaping @Sendable (HTTPRequestHead) -> Bool
    ) -> HTTPServerBuilder where Router.Responder.Context: WebSocketRequestContext {
        let webSocketResponder = webSocketRouter.buildResponder()
        return .init { responder in
            GuardedHTTPChannel(
                inner: HTTP1WebSocketUpgradeChannel(responder: responder, webSocketResponder: webSocketResponder, configuration: .init()),
                limits: limits,
                addresses: addresses,
                metrics: metrics,
                allowsUpgrade: allowsUpgrade
            )
        }
    }
}
