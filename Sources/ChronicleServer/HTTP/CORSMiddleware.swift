import HTTPTypes
import Hummingbird

/// Cross-origin requests from the configured origins (`corsOrigins:`; none by default):
/// a preflight `OPTIONS` is answered `204` with what may be sent, and every answer to an
/// allowed origin (errors too) says so, exposing the headers a client reads. A request from
/// another origin gets no CORS headers, so the browser keeps its answer from the page.
struct CORSMiddleware: RouterMiddleware {
    typealias Context = ChronicleRequestContext
    let origins: Set<String>

    static let allowedMethods = "GET, HEAD, POST, DELETE"
    static let allowedHeaders = "Authorization, Content-Type, If-Match, If-None-Match, Last-Event-ID, X-Correlation-ID"
    static let exposedHeaders = "ETag, Location, Link, Retry-After, X-Correlation-ID"

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let origin = request.headers[.origin], origins.contains(origin) || origins.contains("*") else {
            return try await next(request, context)
        }
        if request.method == .options, request.headers[.accessControlRequestMethod] != nil {
            return Response(status: .noContent, headers: [
                .accessControlAllowOrigin: origin, .vary: "Origin",
                .accessControlAllowMethods: Self.allowedMethods, .accessControlAllowHeaders: Self.allowedHeaders,
                .accessControlMaxAge: "600",
            ])
        }
        var response = try await next(request, context)
        response.headers[.accessControlAllowOrigin] = origin
        response.headers[.accessControlExposeHeaders] = Self.exposedHeaders
        response.headers[.vary] = "Origin"
        return response
    }
}

extension HTTPField.Name {
    static let accessControlAllowOrigin = Self("Access-Control-Allow-Origin")!
    static let accessControlAllowMethods = Self("Access-Control-Allow-Methods")!
    static let accessControlAllowHeaders = Self("Access-Control-Allow-Headers")!
    static let accessControlExposeHeaders = Self("Access-Control-Expose-Headers")!
    static let accessControlRequestMethod = Self("Access-Control-Request-Method")!
    static let accessControlMaxAge = Self("Access-Control-Max-Age")!
}
