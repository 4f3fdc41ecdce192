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
/// - a request's body must be in within ``Limits/requestBodyTimeout`` of its head (however
///   it trickles), or the request gets a `408` problem and the connection is closed; the
///   handler never sees the end of that body, so nothing of it is stored;
/// - a client address holding ``AddressConnectionLimit/maximum`` connections gets a `429`
///   problem on a new one, which is closed at once (nothing it sends is read);
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
        var requestBodyTimeout: TimeAmount
    }

    /// What the connection is waiting for while a deadline is armed.
    private enum Wait: String {
        case head = "a request head"
        case body = "the request body"
        case next = "the next request"
    }

    private let limits: Limits
    private let addresses: AddressConnectionLimit?
    private let metrics: ServerMetrics?
    private let allowsUpgrade: @Sendable (HTTPRequestHead) -> Bool
    private let logger: Logger
    private var deadline: Scheduled<Void>?
    private var waiting: Wait?
    private var started = false
    private var requestsInFlight = 0
    private var responseStarted = false
    private var answeredParseError = false
    /// Set once the guard answered in the handler's place (a 408, a 429): from then on what
    /// the client sends is not read and what the handler writes is dropped.
    private var answered = false

    init(limits: Limits, addresses: AddressConnectionLimit? = nil, metrics: ServerMetrics? = nil, allowsUpgrade: @escaping @Sendable (HTTPRequestHead) -> Bool, logger: Logger) {
        self.limits = limits
        self.addresses = addresses
        self.metrics = metrics
        self.allowsUpgrade = allowsUpgrade
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { start(context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        disarm()
    }

    func channelActive(context: ChannelHandlerContext) {
        start(context)
        context.fireChannelActive()
    }

    /// Counts the connection against its address's limit (or refuses it) and starts waiting
    /// for the first request head.
    private func start(_ context: ChannelHandlerContext) {
        guard !started else { return }
        started = true
        if let addresses, let address = context.channel.remoteAddress?.ipAddress {
            guard addresses.admit(address) else {
                answer(context, with: Problem(.tooManyRequests, code: "too-many-connections", title: "Too many connections", detail: "This address holds \(addresses.maximum) open connections to the server, its maximum (maximumConnectionsPerAddress). Reuse a keep-alive connection, or close one before opening another."))
                return
            }
            // Counted until the channel closes, also after a WebSocket upgrade removes the guard.
            context.channel.closeFuture.whenComplete { _ in addresses.release(address) }
        }
        arm(context, after: limits.requestHeaderTimeout, waitingFor: .head)
    }

    func channelInactive(context: ChannelHandlerContext) {
        disarm()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !answered else { return }
        switch unwrapInboundIn(data) {
        case .head(var head):
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
            if Self.announcesBody(head) { arm(context, after: limits.requestBodyTimeout, waitingFor: .body) }
        case .end:
            if waiting == .body { disarm() }
        case .body:
            break
        }
        context.fireChannelRead(data)
    }

    /// Whether a request head says a body follows (a length above zero, or chunks).
    static func announcesBody(_ head: HTTPRequestHead) -> Bool {
        if head.headers.contains(name: "transfer-encoding") { return true }
        return head.headers.first(name: "content-length").flatMap(Int.init).map { $0 > 0 } ?? false
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard !answered else {
            promise?.fail(ChannelError.ioOnClosedChannel)
            return
        }
        switch unwrapOutboundIn(data) {
        case .head:
            responseStarted = true
        case .end:
            responseStarted = false
            requestsInFlight = max(0, requestsInFlight - 1)
            if requestsInFlight == 0 { arm(context, after: limits.idleTimeout, waitingFor: .next) }
        case .body:
            break
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
        guard !answeredParseError, !answered else { return }
        answeredParseError = true
        // A response already under way cannot be replaced: close.
        guard requestsInFlight == 0 else {
            logger.debug("HTTP parse error in a request being answered; closing", metadata: ["chronicle.error": "\(parseError)"])
            context.close(promise: nil)
            return
        }
        let problem = Self.problem(for: parseError)
        logger.info("Refused a request the HTTP parser cannot read", metadata: ["chronicle.code": "\(problem.code)", "chronicle.error": "\(parseError)"])
        answer(context, with: problem)
    }

    /// Answers `problem` in the handler's place and closes the connection; from then on
    /// nothing the client sends is read and nothing the handler writes goes out.
    private func answer(_ context: ChannelHandlerContext, with problem: Problem) {
        disarm()
        answered = true
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
            // Closing with the client's bytes unread makes the kernel reset the connection,
            // and the client may lose the answer: close the sending side, drop what still
            // comes for a moment (or until the client closes), then close.
            let closed = channel.eventLoop.makePromise(of: Void.self)
            closed.futureResult.whenFailure { _ in channel.close(promise: nil) }
            channel.close(mode: .output, promise: closed)
            channel.eventLoop.scheduleTask(in: Self.linger) { channel.close(promise: nil) }
        }
    }

    /// How long an answered connection still reads (and drops) what the client sends.
    static let linger = TimeAmount.seconds(2)

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

    private func arm(_ context: ChannelHandlerContext, after timeout: TimeAmount, waitingFor what: Wait) {
        disarm()
        waiting = what
        deadline = context.eventLoop.assumeIsolatedUnsafeUnchecked().scheduleTask(in: timeout) {
            self.deadlinePassed(context, waitingFor: what, timeout: timeout)
        }
    }

    private func deadlinePassed(_ context: ChannelHandlerContext, waitingFor what: Wait, timeout: TimeAmount) {
        deadline = nil
        waiting = nil
        logger.debug("Closing a connection that did not send in time", metadata: ["chronicle.waiting-for": "\(what.rawValue)", "chronicle.timeout": "\(timeout)"])
        guard what == .body, !responseStarted else {
            context.close(promise: nil)
            return
        }
        metrics?.recordRequestBodyTimeout()
        answer(context, with: Problem(.requestTimeout, code: "request-body-timeout", title: "Request body too slow", detail: "The request's body did not arrive within \(Self.seconds(timeout)) of its head (requestBodyTimeoutSeconds); nothing of it was stored. Send the whole body at once, or a smaller one."))
    }

    private static func seconds(_ amount: TimeAmount) -> String {
        let seconds = Double(amount.nanoseconds) / 1e9
        return seconds == seconds.rounded() ? "\(Int(seconds)) s" : "\(seconds) s"
    }

    private func disarm() {
        deadline?.cancel()
        deadline = nil
        waiting = nil
    }
}
