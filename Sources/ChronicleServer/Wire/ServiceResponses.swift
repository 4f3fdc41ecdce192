/// What `GET /` answers an API client: where things are.
public struct IndexResponse: Codable, Sendable, Hashable {
    /// `Chronicle`.
    public var name = "Chronicle"
    /// The API's base path.
    public var api = "/v1"
    /// The OpenAPI document.
    public var openapi = "/openapi.json"
    /// The readiness check.
    public var health = "/health/ready"

    /// The index.
    public init() {}
}

/// `GET /health/live` (`{"status":"live"}`) and `GET /health/ready`
/// (`{"status":"ready","position":N}`).
public struct HealthResponse: Codable, Sendable, Hashable {
    /// `live` or `ready`.
    public var status: String
    /// The log's head, for readiness only (absent from liveness).
    public var position: Int64?

    /// Alive (the process answers).
    public static let live = HealthResponse(status: "live", position: nil)

    /// Ready: the store answers, its log is at `position`.
    public static func ready(position: Int64) -> HealthResponse {
        HealthResponse(status: "ready", position: position)
    }

    init(status: String, position: Int64?) {
        self.status = status
        self.position = position
    }

    enum CodingKeys: String, CodingKey { case status, position }

    /// Leaves `position` out when there is none.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(status, forKey: .status)
        if let position { try container.encode(position, forKey: .position) }
    }
}

/// `GET /v1/whoami`: the role of the request's API key, so a client (the web console) shows
/// only what that key may do, and whether the server wants a key at all.
public struct WhoAmIResponse: Codable, Sendable, Hashable {
    /// `read`, `write` or `admin` (`admin` on a server without keys); `null` when the server
    /// has keys and the request sent none.
    public var role: Role?
    /// Whether the server has API keys (without them it is open, on loopback only).
    public var keys: Bool

    /// Creates the answer.
    public init(role: Role?, keys: Bool) {
        self.role = role
        self.keys = keys
    }
}
