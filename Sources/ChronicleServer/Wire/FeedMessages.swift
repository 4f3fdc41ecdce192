/// The messages of the WebSocket feed (`/v1/ws`), one JSON object per text message, told
/// apart by `type`: `event`, `heartbeat`, `shutdown`.
public enum FeedMessage: Codable, Sendable, Hashable {
    /// An event of the log.
    case event(EventResponse)
    /// Nothing new; the subscriber has seen everything up to `position`.
    case heartbeat(position: Int64)
    /// The server is shutting down; resume after `resumeAfter`.
    case shutdown(resumeAfter: Int64)

    enum CodingKeys: String, CodingKey { case type, event, position, resumeAfter }

    /// Reads a message; an unknown `type` is an error.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        switch try container.decode(String.self, forKey: .type) {
        case "event": self = .event(try container.decode(EventResponse.self, forKey: .event))
        case "heartbeat": self = .heartbeat(position: try container.decode(Int64.self, forKey: .position))
        case "shutdown": self = .shutdown(resumeAfter: try container.decode(Int64.self, forKey: .resumeAfter))
        case let other: throw DecodingError.dataCorruptedError(forKey: .type, in: container, debugDescription: "Unknown feed message type \(other.debugDescription).")
        }
    }

    /// `{"type":"event","event":{…}}`, `{"type":"heartbeat","position":N}`,
    /// `{"type":"shutdown","resumeAfter":N}`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .event(let event):
            try container.encode("event", forKey: .type)
            try container.encode(event, forKey: .event)
        case .heartbeat(let position):
            try container.encode("heartbeat", forKey: .type)
            try container.encode(position, forKey: .position)
        case .shutdown(let position):
            try container.encode("shutdown", forKey: .type)
            try container.encode(position, forKey: .resumeAfter)
        }
    }
}

/// The `data` of the Server-Sent Events `shutdown` event (`/v1/subscribe`).
public struct FeedShutdown: Codable, Sendable, Hashable {
    /// Why the feed ends.
    public var reason = "the server is shutting down"
    /// The position to resume after (`Last-Event-ID`).
    public var resumeAfter: Int64

    /// Creates the message.
    public init(resumeAfter: Int64) {
        self.resumeAfter = resumeAfter
    }
}
