import ChronicleCore
import Logging
import NIOCore
import NIOHTTP1

/// Guards one HTTP connection against clients that hold it without making progress, and
/// answers requests the HTTP parser refuses.
///
/// It sits right after the HTTP/1 request decoder, before the WebSocket upgrader:
/// - a connection must finish its request head within ``Limits/requestHeaderTimeout`` of
///   opening (a partial request line held open is closed), and an idle keep-alive connection
///   must start its next request within ``Limits/idleTimeout``;
/// - a request the parser cannot read (a header section over the limit, a control byte in the
///   request line, `Content-Length: abc`, a TLS hello on the plain port) gets a
///   `400`/`431` problem and the connection is closed.
///
/// A request that asks for a WebSocket upgrade takes the handler out of the pipeline once its
/// head is read: the WebSocket has heartbeats of its own. An upgrade `allowsUpgrade` refuses
/// (no valid API key) loses its `Upgrade` header and goes on as a plain request that closes
/// the connection, so the client gets the same `401` problem as every other route rather
/// than an empty `400`.
final class ConnectionGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    /// The time limits a connection works within.
    struct Limits: Sendable {
        var requestHeaderTimeout: TimeAmount
        var idleTimeout: TimeAmount
    }

    private let limits: Limits
    private let allowsUpgrade: @Sendable (HTTPRequestHead) -> Bool
    private let logger: Logger
    private var deadline: Scheduled<Void>?
    private var requestsInFlight = 0
    private var answeredParseError = false

    init(limits: Limits, allowsUpgrade: @escaping @Sendable (HTTPRequestHead) -> Bool, logger: Logger) {
        self.limits = limits
        self.allowsUpgrade = allowsUpgrade
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { arm(context, after: limits.requestHeaderTimeout, waitingFor: "a request head") }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        disarm()
    }

    func channelActive(context: ChannelHandlerContext) {
        arm(context, after: limits.requestHeaderTimeout, waitingFor: "a request head")
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        disarm()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head(var head) = unwrapInboundIn(data) {
            disarm()
            requestsInFlight += 1
            if head.headers.contains(name: "upgrade") {
                guard allowsUpgrade(head) else {
                    head.headers.remove(name: "upgrade")
                    head.headers.replaceOrAdd(name: "connection", value: "close")
                    context.fireChannelRead(wrapInboundOut(.head(head)))
                    return
                }
                context.fireChannelRead(data)
                context.pipeline.syncOperations.removeHandler(self, promise: nil)
                return
            }
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) {
            requestsInFlight = max(0, requestsInFlight - 1)
            if requestsInFlight == 0 { arm(context, after: limits.idleTimeout, waitingFor: "the next request") }
        }
        context.write(data, promise: promise)
    }

    /// On graceful shutdown, a connection between requests is closed at once (one in a
    /// request is left to Hummingbird, which closes it after the response).
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent, requestsInFlight == 0 {
            disarm()
            context.close(promise: nil)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let parseError = error as? HTTPParserError else {
            context.fireErrorCaught(error)
            return
        }
        disarm()
        guard !answeredParseError else { return }
        answeredParseError = true
        // A response already under way cannot be replaced: close.
        guard requestsInFlight == 0 else {
            logger.debug("HTTP parse error in a request being answered; closing", metadata: ["chronicle.error": "\(parseError)"])
            context.close(promise: nil)
            return
        }
        let problem = Self.problem(for: parseError)
        logger.info("Refused a request the HTTP parser cannot read", metadata: ["chronicle.code": "\(problem.code)", "chronicle.error": "\(parseError)"])
        let body = context.channel.allocator.buffer(string: problem.json.canonicalText + "\n")
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: "application/problem+json")
        headers.add(name: "content-length", value: String(body.readableBytes))
        headers.add(name: "connection", value: "close")
        let head = HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: Int(problem.status.code)), headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in
            channel.close(promise: nil)
        }
    }

    /// The problem answering a parse error: `431` for a header section over the limit,
    /// `400` for the rest.
    static func problem(for error: HTTPParserError) -> Problem {
        switch error {
        case .headerOverflow:
            Problem(.init(code: 431, reasonPhrase: "Request Header Fields Too Large"), code: "headers-too-large", title: "Request header fields too large", detail: "The request's header section is larger than the server accepts (80 KiB). Send fewer or shorter headers.")
        case .invalidContentLength, .unexpectedContentLength:
            Problem(.badRequest, code: "malformed-request", title: "Malformed request", detail: "The request's Content-Length is not a valid length (\(error)). Send a decimal byte count, or no Content-Length.")
        default:
            Problem(.badRequest, code: "malformed-request", title: "Malformed request", detail: "The request is not valid HTTP/1.1 (\(error)). This port speaks plain HTTP; send a request line `METHOD /path HTTP/1.1` and headers without control characters.")
        }
    }

    private func arm(_ context: ChannelHandlerContext, after timeout: TimeAmount, waitingFor what: String) {
        disarm()
        let logger = logger
        deadline = context.eventLoop.assumeIsolatedUnsafeUnchecked().scheduleTask(in: timeout) {
            logger.debug("Closing a connection that sent nothing in time", metadata: ["chronicle.waiting-for": "\(what)", "chronicle.timeout": "\(timeout)"])
            context.close(promise: nil)
        }
    }

    private func disarm() {
        deadline?.cancel()
        deadline = nil
    }
}
