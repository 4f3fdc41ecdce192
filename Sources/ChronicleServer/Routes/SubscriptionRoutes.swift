import ChronicleCore
import HTTPTypes
import Hummingbird
import HummingbirdWebSocket
import NIOCore
import ServiceLifecycle

extension HTTPField.Name {
    static let lastEventID = Self("Last-Event-ID")!
}

extension ChronicleServer {
    func registerSubscriptionRoutes(on router: Router<ChronicleRequestContext>) {
        let store = store
        let metrics = metrics
        let heartbeat = configuration.heartbeatInterval
        let shutdown = shutdown

        // Server-Sent Events: `id` is the event's position, so a reconnecting client's
        // Last-Event-ID resumes exactly after the last event it received.
        router.get("/v1/subscribe") { request, context in
            try context.require(.read)
            let query = request.uri.queryParameters
            let after = try await LogQuery.after(request.headers[.lastEventID] ?? query["after"].map(String.init), store: store, name: request.headers[.lastEventID] == nil ? "after" : "Last-Event-ID")
            let feed = LiveFeed(store: store, filter: LogQuery.filter(types: query.getAll("type"), categories: query.getAll("category"), correlation: query["correlation"].map(String.init)), query: try LogQuery.query(query["query"]), heartbeat: heartbeat, shutdown: shutdown)
            return Response(
                status: .ok,
                headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"],
                body: ResponseBody { writer in
                    metrics.subscriberConnected("sse")
                    defer { metrics.subscriberDisconnected("sse") }
                    try await writer.write(ByteBuffer(string: "retry: 1000\n: following the log after position \(after)\n\n"))
                    let stop = try await request.body.consumeWithCancellationOnInboundClose { _ in
                        try await feed.run(after: after) { event in
                            // `data` is the event's wire form, `EventResponse`, whose encoding is this
                            // same text; written directly, as the hottest path of the server.
                            try await writer.write(ByteBuffer(string: "id: \(event.position)\nevent: \(event.type)\ndata: \(event.jsonText)\n\n"))
                        } heartbeat: { position in
                            try await writer.write(ByteBuffer(string: ": heartbeat \(position)\n\n"))
                        }
                    }
                    if case .shutdown(let position) = stop {
                        try await writer.write(ByteBuffer(string: "event: shutdown\ndata: \(try WireEncoder.text(FeedShutdown(resumeAfter: position)))\n\n"))
                    }
                    try await writer.finish(nil)
                }
            )
        }

        // WebSocket: each message is {"type":"event","event":{…}} or {"type":"heartbeat","position":N};
        // reconnect with ?after=<the last event's position> to resume.
        router.ws("/v1/ws") { request, context in
            do {
                try context.require(.read)
                _ = try await LogQuery.after(request.uri.queryParameters["after"].map(String.init), store: store)
                _ = try LogQuery.query(request.uri.queryParameters["query"])
                return .upgrade([:])
            } catch {
                return .dontUpgrade
            }
        } onUpgrade: { inbound, outbound, webSocket in
            let query = webSocket.request.uri.queryParameters
            let after = try await LogQuery.after(query["after"].map(String.init), store: store)
            let feed = LiveFeed(store: store, filter: LogQuery.filter(types: query.getAll("type"), categories: query.getAll("category"), correlation: query["correlation"].map(String.init)), query: try LogQuery.query(query["query"]), heartbeat: heartbeat, shutdown: shutdown)
            metrics.subscriberConnected("websocket")
            defer { metrics.subscriberDisconnected("websocket") }
            let stop = try await withThrowingTaskGroup(of: LiveFeed.Stop?.self) { group in
                group.addTask {
                    try await feed.run(after: after) { event in
                        // `FeedMessage.event`'s encoding (WireTests holds them equal), glued here:
                        // the envelope through the encoder costs ~60% more per frame on this, the
                        // hottest path, for the same bytes.
                        try await outbound.write(.text("{\"type\":\"event\",\"event\":\(event.jsonText)}"))
                    } heartbeat: { position in
                        try await outbound.write(.text(try WireEncoder.text(FeedMessage.heartbeat(position: position))))
                    }
                }
                group.addTask {
                    // Reading keeps control frames flowing; the loop ends when the client closes.
                    for try await _ in inbound.messages(maxSize: 1 << 16) {}
                    return nil
                }
                let first = try await group.next() ?? nil
                group.cancelAll()
                return first
            }
            if case .shutdown(let position) = stop {
                // The WebSocket layer also closes every connection on shutdown (code 1000), so
                // these may lose the race; a client resumes after the last position it saw either way.
                if let text = try? WireEncoder.text(FeedMessage.shutdown(resumeAfter: position)) { try? await outbound.write(.text(text)) }
                try? await outbound.close(.goingAway, reason: "shutting down; resume after \(position)")
            }
        }
    }
}
