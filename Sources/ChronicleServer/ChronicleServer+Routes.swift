import Hummingbird

extension ChronicleServer {
    /// One operation the server serves: an HTTP method and a path with `{name}` parameters,
    /// such as `POST /v1/streams/{stream}`.
    public struct Route: Hashable, Sendable, CustomStringConvertible {
        /// The method, upper case (`GET`).
        public var method: String
        /// The path template, as in the OpenAPI document (`/v1/streams/{stream}`).
        public var path: String

        /// Creates a route.
        public init(method: String, path: String) {
            self.method = method
            self.path = path
        }

        /// `METHOD path`.
        public var description: String { "\(method) \(path)" }
    }

    /// Every route the server serves, read back from a router built exactly as ``run()``
    /// builds it: the one route table. There is no list to keep by hand; `OpenAPITests`
    /// checks this against the paths of `/openapi.json` in both directions, so a route
    /// missing from the document, or a documented operation the server does not serve, fails.
    public var routes: [Route] {
        let router = Router(context: ChronicleRequestContext.self)
        registerRoutes(on: router)
        return router.routes.map { Route(method: $0.method.rawValue, path: $0.path.description) }
    }
}
