import NIOCore
import NIOPosix
import Synchronization

/// A plain TCP connection to a test server, for requests an HTTP client would never send
/// (a partial request line, a control byte, a TLS hello), or sends too slowly.
struct RawConnection: Sendable {
    let channel: any Channel
    private let collected: Collected

    /// Keeps what the server sent.
    private final class Collected: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let text = Mutex("")

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let buffer = unwrapInboundIn(data)
            text.withLock { $0 += String(buffer: buffer) }
        }
    }

    /// Connects to the loopback port.
    static func open(port: Int) async throws -> RawConnection {
        let collected = Collected()
        // A loaded server accepts slowly while thousands connect: more than NIO's 10 s.
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.seconds(120))
            .channelOption(.socketOption(.so_reuseaddr), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(collected) }
            }
            .connect(host: "127.0.0.1", port: port).get()
        return RawConnection(channel: channel, collected: collected)
    }

    /// What the server has sent so far.
    var received: String {
        collected.text.withLock { $0 }
    }

    /// Waits until what the server sent satisfies `done` (a deadline around it ends it).
    func receive(until done: @Sendable (String) -> Bool) async throws -> String {
        while true {
            let text = received
            if done(text) { return text }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Sends bytes as they are.
    func send(_ bytes: [UInt8]) async throws {
        try await channel.writeAndFlush(channel.allocator.buffer(bytes: bytes))
    }

    func send(_ text: String) async throws {
        try await send(Array(text.utf8))
    }

    /// Waits until the server closes the connection (cancelling closes it from this side,
    /// so a deadline around the wait ends it).
    func closed() async throws {
        let channel = channel
        try await withTaskCancellationHandler {
            try await channel.closeFuture.get()
        } onCancel: {
            channel.close(promise: nil)
        }
        try Task.checkCancellation()
    }

    func close() async {
        try? await channel.close()
    }

    /// Sends `bytes`, then reads everything the server sends until it closes the connection.
    static func exchange(port: Int, _ bytes: [UInt8]) async throws -> String {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connectTimeout(.seconds(120)).connect(host: "127.0.0.1", port: port) { channel in
            channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel) }
        }
        let raw = channel.channel
        return try await withTaskCancellationHandler {
            try await channel.executeThenClose { inbound, outbound in
                // A server that answers before reading (a refused connection) may have closed
                // already: what it sent is still there to read.
                do {
                    try await outbound.write(ByteBuffer(bytes: bytes))
                } catch ChannelError.ioOnClosedChannel {}
                var received = ByteBuffer()
                for try await chunk in inbound { received.writeImmutableBuffer(chunk) }
                try Task.checkCancellation()
                return String(buffer: received)
            }
        } onCancel: {
            raw.close(promise: nil)
        }
    }
}
