import Hummingbird
import HummingbirdWebSocket

/// The request context of the Chronicle server: Hummingbird's core storage, the WebSocket
/// handler reference, and the role the request authenticated as.
public struct ChronicleRequestContext: RequestContext, WebSocketRequestContext {
    /// Hummingbird's per-request storage.
    public var coreContext: CoreRequestContextStorage
    /// Where a WebSocket upgrade keeps its handler.
    public let webSocket: WebSocketHandlerReference<ChronicleRequestContext>
    /// The role of the request's API key (every role when the server has no keys).
    public var role: Role?
    /// The request's correlation id: `X-Correlation-ID` if sent, else a new one. Stored as
    /// `correlationId` (and, unless set, `causationId`) in the metadata of the events it appends.
    public var correlationId: String = ""

    /// Creates the context of a new request.
    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.webSocket = .init()
        self.role = nil
    }

    /// Throws `401`/`403` unless the request's role includes `needed`.
    public func require(_ needed: Role) throws {
        guard let role else {
            throw Problem(.unauthorized, code: "unauthorized", title: "Unauthorized", detail: "Send an API key as Authorization: Bearer <key>.", headers: [.wwwAuthenticate: "Bearer"])
        }
        guard role >= needed else {
            throw Problem(.forbidden, code: "forbidden", title: "Forbidden", detail: "This needs the \(needed.rawValue) role; the API key has \(role.rawValue).")
        }
    }
}
