import AsyncHTTPClient
import ChronicleCore
import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// One call of the API, before it is sent.
struct ClientRequest: Sendable {
    var method: HTTPMethod
    /// The path, its segments already percent-encoded.
    var path: String
    var query: [(String, String)] = []
    var body: Data?
    var headers: [(String, String)] = []
    /// Sent as `X-Correlation-ID`, the same on every attempt.
    var correlationId: String?

    /// The path and its query string.
    var target: String {
        guard !query.isEmpty else { return path }
        var components = URLComponents()
        components.queryItems = query.map { URLQueryItem(name: $0.0, value: $0.1) }
        // URLComponents leaves `+` as is, which a form decoder reads as a space.
        let text = (components.percentEncodedQuery ?? "").replacingOccurrences(of: "+", with: "%2B")
        return path + "?" + text
    }
}

/// The server's answer to one call, body read.
struct ClientResponse: Sendable {
    var status: Int
    var headers: HTTPHeaders
    var body: Data

    var correlationId: String? { headers.first(name: "X-Correlation-ID") }
}

/// A failure to reach the server or to read its whole answer: worth another attempt.
struct TransportFailure: Error {
    var cause: any Error
}

extension ChronicleClient {
    /// Sends `request`, retrying on a lost connection and on `503` as the ``RetryPolicy``
    /// allows; a non-2xx answer becomes a ``ChronicleClientError``. The writes that must not
    /// happen twice carry their own idempotency: appends their client-made event ids,
    /// declarative writes an `Idempotency-Key`.
    func send(_ request: ClientRequest) async throws -> ClientResponse {
        let policy = configuration.retry
        var attempt = 1
        while true {
            do {
                let response = try await sendOnce(request)
                if response.status == 503, attempt < policy.maximumAttempts {
                    let delay = policy.delay(beforeRetry: attempt, retryAfter: response.headers.first(name: "Retry-After").flatMap { Int($0) })
                    logger.debug("chronicle.client retrying after 503", metadata: ["chronicle.path": "\(request.path)", "chronicle.attempt": "\(attempt)", "chronicle.retry_in_ms": "\(delay.milliseconds)"])
                    try await Task.sleep(for: delay)
                    attempt += 1
                    continue
                }
                guard (200..<300).contains(response.status) || response.status == 304 else {
                    throw problem(response)
                }
                return response
            } catch let failure as TransportFailure {
                guard attempt < policy.maximumAttempts else {
                    throw ChronicleClientError(.connectionFailed, "Cannot reach the Chronicle server at \(base) (\(request.method) \(request.path), \(attempt) attempts). Is it running there?", cause: failure.cause)
                }
                let delay = policy.delay(beforeRetry: attempt)
                logger.debug("chronicle.client retrying after a lost connection", metadata: ["chronicle.path": "\(request.path)", "chronicle.attempt": "\(attempt)", "chronicle.error": "\(failure.cause)", "chronicle.retry_in_ms": "\(delay.milliseconds)"])
                try await Task.sleep(for: delay)
                attempt += 1
            }
        }
    }

    /// One attempt: the answer, or a ``TransportFailure``.
    func sendOnce(_ request: ClientRequest, timeout: Duration? = nil) async throws -> ClientResponse {
        let (response, body) = try await execute(request, timeout: timeout ?? configuration.requestTimeout)
        do {
            let bytes = try await body.collect(upTo: 256 << 20)
            return ClientResponse(status: Int(response.status.code), headers: response.headers, body: Data(bytes.readableBytesView))
        } catch {
            throw try Self.transport(error)
        }
    }

    /// Sends the head of `request`; the body is the caller's to read.
    func execute(_ request: ClientRequest, timeout: Duration) async throws -> (HTTPClientResponse, HTTPClientResponse.Body) {
        var outgoing = HTTPClientRequest(url: base + request.target)
        outgoing.method = request.method
        outgoing.headers.add(name: "Accept", value: "application/json, application/problem+json")
        if let apiKey = configuration.apiKey { outgoing.headers.add(name: "Authorization", value: "Bearer \(apiKey)") }
        if let correlationId = request.correlationId { outgoing.headers.add(name: "X-Correlation-ID", value: correlationId) }
        for (name, value) in request.headers { outgoing.headers.replaceOrAdd(name: name, value: value) }
        if let body = request.body {
            outgoing.headers.add(name: "Content-Type", value: "application/json")
            outgoing.body = .bytes(ByteBuffer(bytes: body))
        }
        do {
            let response = try await http.execute(outgoing, timeout: TimeAmount.nanoseconds(Int64(timeout.milliseconds) * 1_000_000))
            return (response, response.body)
        } catch {
            throw try Self.transport(error)
        }
    }

    /// A transport error as a ``TransportFailure`` to retry, or rethrown as it is
    /// (cancellation) or as a configuration error (a URL the client cannot use).
    static func transport(_ error: any Error) throws -> TransportFailure {
        if error is CancellationError { throw error }
        if let client = error as? HTTPClientError {
            switch client {
            case .cancelled: throw CancellationError()
            case .invalidURL, .emptyHost, .emptyScheme, .alreadyShutdown, .missingSocketPath:
                throw ChronicleClientError(.invalidConfiguration, "The client cannot send this request: \(client).", cause: client)
            default: break
            }
        }
        return TransportFailure(cause: error)
    }

    /// The error for a non-2xx answer.
    func problem(_ response: ClientResponse) -> ChronicleClientError {
        let retryAfter = response.headers.first(name: "Retry-After").flatMap { Int($0) }
        if let json = try? JSONValue(parsing: response.body), case .object = json {
            return ChronicleClientError(status: response.status, problem: json, retryAfter: retryAfter, correlationId: response.correlationId)
        }
        var error = ChronicleClientError(.init("http-\(response.status)"), "The server answered \(response.status) without a problem body: \(String(decoding: response.body.prefix(200), as: UTF8.self))", status: response.status)
        error.retryAfter = retryAfter
        error.correlationId = response.correlationId
        return error
    }

    /// Sends `request` and decodes the answer.
    func call<T: Decodable>(_ request: ClientRequest, as type: T.Type = T.self) async throws -> (T, ClientResponse) {
        let response = try await send(request)
        return (try decode(T.self, response, request), response)
    }

    func decode<T: Decodable>(_ type: T.Type, _ response: ClientResponse, _ request: ClientRequest) throws -> T {
        do {
            return try JSONDecoder().decode(T.self, from: response.body)
        } catch {
            throw ChronicleClientError(.invalidResponse, "The answer to \(request.method) \(request.path) is not what this client reads: \(String(decoding: response.body.prefix(200), as: UTF8.self))", status: response.status, cause: error)
        }
    }

    /// A JSON body.
    static func body(_ value: some Encodable) throws -> Data {
        try JSONEncoder().encode(value)
    }

    /// `/v1/streams/{stream}`.
    static func streamPath(_ stream: StreamName) -> String {
        "/v1/streams/" + PathSegment.encode(stream.rawValue)
    }

    /// `/v1/entities/{entity}/{id}`.
    static func entityPath(_ entity: String, _ id: String) -> String {
        "/v1/entities/\(PathSegment.encode(entity))/\(PathSegment.encode(id))"
    }

    /// A new correlation id.
    static func newCorrelationId() -> String { UUID().uuidString.lowercased() }
}

extension Duration {
    /// Whole milliseconds.
    var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
