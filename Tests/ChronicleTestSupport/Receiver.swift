import Foundation
import HTTPTypes
import Hummingbird
import Logging
import ServiceLifecycle
import Synchronization

/// A real HTTP receiver on loopback that records calls and answers from a script.
public final class Receiver: Sendable {
    /// One request it received.
    public struct Call: Sendable {
        /// The `Idempotency-Key` header.
        public var key: String
        /// The `X-Chronicle-Signature` header.
        public var signature: String?
        /// The `Chronicle-Timestamp` header.
        public var timestamp: String?
        /// The body.
        public var body: String
    }

    private let calls = Mutex<[Call]>([])
    private let answers: Mutex<[(Int, String)]>
    let fallback: (Int, String)
    let before: @Sendable (Call) async throws -> Void

    /// A receiver that gives `answers` (status, body) in turn, then `fallback`; `before` runs
    /// first on each request (to hold it, say), after it is recorded.
    public init(answers: [(Int, String)] = [], then fallback: (Int, String), before: @escaping @Sendable (Call) async throws -> Void = { _ in }) {
        self.answers = Mutex(answers)
        self.fallback = fallback
        self.before = before
    }

    /// The requests received so far.
    public var received: [Call] { calls.withLock { $0 } }

    func answer(_ call: Call) -> (Int, String) {
        calls.withLock { $0.append(call) }
        return answers.withLock { $0.isEmpty ? fallback : $0.removeFirst() }
    }

    /// Runs the receiver for `body`, with its URL.
    public func run<T: Sendable>(_ body: @escaping @Sendable (String) async throws -> T) async throws -> T {
        let router = Router()
        router.post("/hook") { request, _ -> Response in
            let text = String(buffer: try await request.body.collect(upTo: 1 << 20))
            let call = Call(key: request.headers[HTTPField.Name("Idempotency-Key")!] ?? "", signature: request.headers[HTTPField.Name("X-Chronicle-Signature")!], timestamp: request.headers[HTTPField.Name("Chronicle-Timestamp")!], body: text)
            let (status, answer) = self.answer(call)
            try await self.before(call)
            return Response(status: .init(code: status), headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: answer)))
        }
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        var logger = Logger(label: "receiver")
        logger.logLevel = .critical
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)), onServerRunning: { continuation.yield($0.localAddress?.port ?? 0) }, logger: logger)
        let group = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: [], logger: logger))
        return try await withThrowingTaskGroup(of: T?.self) { tasks in
            tasks.addTask {
                try await group.run()
                return nil
            }
            var iterator = ports.makeAsyncIterator()
            let port = await iterator.next() ?? 0
            let value = try await body("http://127.0.0.1:\(port)/hook")
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            return value
        }!
    }
}
