import ChronicleCore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1

/// Turns every error into an `application/problem+json` response; a known path asked with
/// a method it does not serve is a `405` with `Allow`.
struct ProblemMiddleware: RouterMiddleware {
    typealias Context = ChronicleRequestContext
    let routes: RouteTable

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound && !routes.methods(at: request.uri.path).isEmpty {
            let allowed = routes.methods(at: request.uri.path).joined(separator: ", ")
            return Problem(.methodNotAllowed, code: "method-not-allowed", title: "Method not allowed", detail: "\(request.uri.path) does not accept \(request.method.rawValue); it accepts \(allowed). See /openapi.json for the API.", headers: [.allow: allowed]).response()
        } catch {
            let problem = Self.problem(for: error, path: request.uri.path)
            if problem.status.code >= 500 {
                context.logger.error("Request failed", metadata: ["chronicle.error": "\(error)", "chronicle.path": "\(request.uri.path)"])
            }
            return problem.response()
        }
    }

    static func problem(for error: any Error, path: String) -> Problem {
        switch error {
        case let problem as Problem:
            return problem
        case let error as ChronicleError:
            return Problem(error)
        case is NIOTooManyBytesError:
            return Problem(.contentTooLarge, code: "payload-too-large", title: "Payload too large", detail: "The request body is larger than the server's limit. Send fewer or smaller events per request.")
        case let error as HTTPError where error.status == .notFound:
            return Problem(.notFound, code: "route-not-found", title: "Not found", detail: "No endpoint at \(path). See /openapi.json for the API.")
        case let error as HTTPError where error.status == .methodNotAllowed:
            return Problem(.methodNotAllowed, code: "method-not-allowed", title: "Method not allowed", detail: "\(path) does not accept this method. See /openapi.json for the API.", headers: error.headers)
        case let error as any HTTPResponseError:
            return Problem(error.status, code: "http-\(error.status.code)", title: error.status.reasonPhrase, detail: "\(error.status.reasonPhrase).")
        default:
            return Problem(.internalServerError, code: "internal-error", title: "Internal error", detail: "The server failed unexpectedly; the error is in its log. Nothing was written unless the response said so.")
        }
    }
}

extension Problem {
    /// The problem as a response.
    func response() -> Response {
        var headers = headers
        headers[.contentType] = "application/problem+json"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: json.canonicalText + "\n")))
    }
}

/// Finds the role of the request's API key. Keys come as `Authorization: Bearer <key>`,
/// or as `?access_token=` on the WebSocket and event-stream routes only, which browsers
/// cannot give headers (anywhere else a query-string key would end up in access logs and
/// browser history, so it is refused).
struct AuthMiddleware: RouterMiddleware {
    typealias Context = ChronicleRequestContext
    let keys: APIKeys

    /// The routes that accept `?access_token=`.
    static let accessTokenPaths: Set<String> = ["/v1/subscribe", "/v1/ws"]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        context.role = try Self.role(
            keys: keys, authorization: request.headers[.authorization], path: request.uri.path,
            accessToken: request.uri.queryParameters["access_token"].map(String.init)
        )
        return try await next(request, context)
    }

    /// The role the presented key has (`admin` on a server without keys).
    ///
    /// - Throws: a `401` ``Problem`` saying what to send.
    static func role(keys: APIKeys, authorization: String?, path: String, accessToken: String?) throws -> Role {
        if keys.isEmpty { return .admin }
        var presented: String?
        if let header = authorization {
            guard header.lowercased().hasPrefix("bearer ") else {
                throw unauthorized("The Authorization header must be Bearer <key>.")
            }
            presented = String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces)
        } else if let token = accessToken {
            guard accessTokenPaths.contains(path) else {
                throw unauthorized("?access_token= is accepted on /v1/subscribe and /v1/ws only; send the key as Authorization: Bearer <key>.")
            }
            presented = token
        }
        guard let presented else { throw unauthorized("Send an API key as Authorization: Bearer <key>.") }
        guard let role = keys.role(of: presented) else { throw unauthorized("The API key is not valid.") }
        return role
    }

    /// Whether a WebSocket upgrade request carries a key that may read.
    static func allowsUpgrade(_ head: HTTPRequestHead, keys: APIKeys) -> Bool {
        if keys.isEmpty { return true }
        let uri = URI(head.uri)
        let role = try? role(keys: keys, authorization: head.headers.first(name: "authorization"), path: uri.path, accessToken: uri.queryParameters["access_token"].map(String.init))
        return role.map { $0 >= Role.read } ?? false
    }

    private static func unauthorized(_ detail: String) -> Problem {
        Problem(.unauthorized, code: "unauthorized", title: "Unauthorized", detail: detail, headers: [.wwwAuthenticate: "Bearer"])
    }
}

extension HTTPField.Name {
    static let correlationID = Self("X-Correlation-ID")!
}

/// Gives every request a correlation id and echoes it in the response.
struct CorrelationMiddleware: RouterMiddleware {
    typealias Context = ChronicleRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        if let sent = request.headers[.correlationID], !sent.isEmpty, sent.count <= 200, sent.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F }) {
            context.correlationId = sent
        } else if let key = request.headers[IdempotencyKey.header], let id = IdempotencyKey.eventId(key) {
            // A retried write with the same key carries the same correlation.
            context.correlationId = id.uuidString.lowercased()
        } else {
            context.correlationId = UUID.timeOrdered().uuidString.lowercased()
        }
        var response = try await next(request, context)
        response.headers[.correlationID] = context.correlationId
        return response
    }
}

extension ChronicleRequestContext {
    /// The events with this request's correlation (and causation) in their metadata, unless
    /// they carry their own.
    func correlating(_ events: [EventData]) -> [EventData] {
        events.map { event in
            var event = event
            var metadata = event.metadata.objectValue ?? [:]
            if metadata["correlationId"] == nil { metadata["correlationId"] = .string(correlationId) }
            if metadata["causationId"] == nil { metadata["causationId"] = .string(correlationId) }
            event.metadata = .object(metadata)
            return event
        }
    }
}

/// Counts requests by route and status, and times them.
struct MetricsMiddleware: RouterMiddleware {
    typealias Context = ChronicleRequestContext
    let metrics: ServerMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let response = try await next(request, context)
        metrics.recordRequest(method: request.method.rawValue, route: context.endpointPath ?? "unmatched", status: response.status.code, duration: ContinuousClock.now - start)
        return response
    }
}
