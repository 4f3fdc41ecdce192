import ChronicleCore
import Foundation
import HTTPTypes
import Hummingbird

extension ChronicleServer {
    func registerStreamRoutes(on router: Router<ChronicleRequestContext>) {
        let store = store
        let configuration = configuration
        let metrics = metrics

        router.post("/v1/streams/{stream}") { request, context in
            try context.require(.write)
            let stream = try StreamName(context.parameters.decoded("stream"))
            let (events, bodyExpectation, condition) = try EventRequests.streamAppend(try await request.jsonBody(limit: configuration.maximumRequestBytes))
            try checkCount(events.count, configuration)
            let headerExpectation = try EventRequests.headerExpectation(request.headers)
            if let headerExpectation, let bodyExpectation, headerExpectation.expected != bodyExpectation {
                throw Problem.invalid("\(headerExpectation.header) (\(headerExpectation.expected)) and expectedRevision (\(bodyExpectation)) disagree; send one of them.")
            }
            let start = ContinuousClock.now
            let expected = headerExpectation?.expected ?? bodyExpectation ?? .any
            let append = AppendRequest([.init(stream: stream, expected: expected, events: context.correlating(events))], condition: condition)
            let appended = try await EventRequests.preconditioned(headerExpectation) { try await store.append(append) }
            let result = appended.streams[0]
            metrics.recordAppend(events: events.count, duration: ContinuousClock.now - start)
            return try Response.json(appended.replayed ? .ok : .created, AppendResponse(result, eventIds: events.map(\.id), replayed: appended.replayed), headers: [
                .eTag: EventRequests.eTag(result.lastRevision),
                .location: "/v1/streams/\(PathSegment.encode(stream.rawValue))",
            ])
        }

        router.post("/v1/append") { request, context in
            try context.require(.write)
            var append = try EventRequests.multiStreamAppend(try await request.jsonBody(limit: configuration.maximumRequestBytes))
            for index in append.streams.indices { append.streams[index].events = context.correlating(append.streams[index].events) }
            try checkCount(append.streams.reduce(0) { $0 + $1.events.count }, configuration)
            let start = ContinuousClock.now
            let result = try await store.append(append)
            metrics.recordAppend(events: append.streams.reduce(0) { $0 + $1.events.count }, duration: ContinuousClock.now - start)
            return try Response.json(result.replayed ? .ok : .created, MultiStreamAppendResponse(result, request: append))
        }

        router.post("/v1/query") { request, context in
            try context.require(.read)
            let body = try await request.jsonBody(limit: configuration.maximumRequestBytes)
            guard let object = body.objectValue else {
                throw Problem.invalid("The body is a JSON \(body.kindName); send {\"query\": {\"items\": […]}, \"after\": 0, \"limit\": 100}.")
            }
            try EventRequests.rejectUnknown(object, allowed: ["query", "after", "limit"], at: "")
            let query = try object["query"].map { try EventRequests.query($0, at: "/query") } ?? DCBQuery()
            let after = try object["after"].map { try EventRequests.position($0, at: "/after") } ?? 0
            var limit = 100
            if let raw = object["limit"] {
                guard let value = raw.integralValue, (1...1000).contains(value) else {
                    throw Problem.invalid("/limit must be a whole number from 1 to 1000.", ["pointer": "/limit"])
                }
                limit = Int(value)
            }
            return try Response.json(.ok, QueryResponse(try await store.read(query: query, after: after, limit: limit)))
        }

        router.get("/v1/streams/{stream}") { request, context in
            try context.require(.read)
            let stream = try StreamName(context.parameters.decoded("stream"))
            let query = request.uri.queryParameters
            let direction: ReadDirection
            switch query["direction"].map(String.init) {
            case nil, "forwards": direction = .forwards
            case "backwards": direction = .backwards
            case let other?: throw Problem.invalid("direction must be forwards or backwards; got \(other.debugDescription).")
            }
            var start: ReadStart = .start
            if let from = query["from"] {
                if from == "end" {
                    start = .end
                } else if let revision = Int64(from), revision >= 0 {
                    start = .revision(revision)
                } else {
                    throw Problem.invalid("from must be a revision (0 or more) or end; got \(String(from).debugDescription).")
                }
            }
            let limit = try LogQuery.limit(query["limit"])
            guard let info = try await store.info(stream) else {
                throw ChronicleError(.streamNotFound, "Stream \(stream.rawValue.debugDescription) does not exist. Check the name, or append to it first.", stream: stream)
            }
            let eTag = EventRequests.eTag(info.revision ?? -1)
            if info.status == .active, let none = request.headers[.ifNoneMatch], none.split(separator: ",").contains(where: { $0.trimmingCharacters(in: .whitespaces) == eTag }) {
                return Response(status: .notModified, headers: [.eTag: eTag])
            }
            let events = try await store.read(stream, from: start, direction: direction, limit: limit)
            var next: Int64?
            if events.count == limit, let last = events.last {
                let following = direction == .forwards ? last.revision + 1 : last.revision - 1
                if following >= 0 && following <= (info.revision ?? -1) { next = following }
            }
            var headers = request.nextLink("from", next.map(String.init))
            headers[.eTag] = eTag
            return try Response.json(.ok, StreamPage(stream: stream.rawValue, revision: info.revision ?? -1, events: events, next: next), headers: headers)
        }

        router.delete("/v1/streams/{stream}") { request, context in
            let stream = try StreamName(context.parameters.decoded("stream"))
            let mode: DeleteMode
            switch request.uri.queryParameters["mode"].map(String.init) {
            case nil, "soft": mode = .soft
            case "hard": mode = .hard
            case let other?: throw Problem.invalid("mode must be soft or hard; got \(other.debugDescription).")
            }
            try context.require(mode == .hard ? .admin : .write)
            let expected = try request.headers[.ifMatch].map(EventRequests.ifMatch) ?? .any
            let result = try await store.delete(stream, mode: mode, expected: expected)
            return try Response.json(.ok, StreamDeleteResponse(stream: stream.rawValue, mode: mode.rawValue, revision: result.revision, position: result.position))
        }

        router.get("/v1/log") { request, context in
            try context.require(.read)
            let query = request.uri.queryParameters
            let after = try await LogQuery.after(query["after"].map(String.init), store: store)
            let limit = try LogQuery.limit(query["limit"])
            let filter = LogQuery.filter(types: query.getAll("type"), categories: query.getAll("category"), correlation: query["correlation"].map(String.init))
            let page = try await store.readLog(after: after, limit: limit, filter: filter)
            return try Response.json(.ok, LogPageResponse(page), headers: request.nextLink("after", String(page.scannedThrough)))
        }

        // Every event caused by one request, in order: its own events and, later, their outcomes.
        router.get("/v1/correlations/{id}") { request, context in
            try context.require(.read)
            let id = try context.parameters.decoded("id")
            let query = request.uri.queryParameters
            let after = try await LogQuery.after(query["after"].map(String.init), store: store)
            let limit = try LogQuery.limit(query["limit"])
            let page = try await store.readLog(after: after, limit: limit, filter: LogFilter(correlation: id))
            return try Response.json(.ok, CorrelationResponse(correlationId: id, page: page), headers: request.nextLink("after", String(page.scannedThrough)))
        }
    }
}

private func checkCount(_ count: Int, _ configuration: ChronicleServer.Configuration) throws {
    if count > configuration.maximumEventsPerRequest {
        throw Problem(.contentTooLarge, code: "payload-too-large", title: "Payload too large", detail: "The request has \(count) events; the limit is \(configuration.maximumEventsPerRequest) per request. Split it.")
    }
}
