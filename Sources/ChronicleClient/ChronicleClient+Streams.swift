import ChronicleCore
import Foundation
import NIOHTTP1

extension ChronicleClient {
    /// Appends events to one stream, all or nothing, if the stream is at `expected` (and, with
    /// a `condition`, if no event matching its query was stored after its position).
    ///
    /// Safe to retry: the events' ids are chosen here (``EventData/id``), so when an attempt
    /// is lost after the server stored it, the next one stores nothing and the receipt says
    /// ``AppendReceipt/replayed``. Sending the same events again yourself does the same.
    ///
    /// - Throws: ``ChronicleClientError``: `wrong-expected-revision` (with
    ///   ``ChronicleClientError/actualRevision``), `append-condition-failed` (with
    ///   ``ChronicleClientError/position``), `rule-violated` (with ``ChronicleClientError/rule``)…
    @discardableResult
    public func append(_ events: [EventData], to stream: StreamName, expected: ExpectedRevision = .any, condition: AppendCondition? = nil, correlationId: String? = nil) async throws -> AppendReceipt {
        let body = WireStreamAppend(expectedRevision: WireExpectation(expected: expected), events: events.map(WireEventInput.init), condition: condition.map(WireCondition.init))
        let request = ClientRequest(method: .POST, path: Self.streamPath(stream), body: try Self.body(body), correlationId: correlationId ?? Self.newCorrelationId())
        let (answer, response) = try await call(request, as: WireAppendResponse.self)
        return AppendReceipt(streams: [answer.result], position: answer.lastPosition, eventIds: events.map(\.id), replayed: answer.replayed ?? false, correlationId: response.correlationId ?? request.correlationId!)
    }

    /// Appends one event to a stream; see ``append(_:to:expected:condition:correlationId:)``.
    @discardableResult
    public func append(_ event: EventData, to stream: StreamName, expected: ExpectedRevision = .any, condition: AppendCondition? = nil, correlationId: String? = nil) async throws -> AppendReceipt {
        try await append([event], to: stream, expected: expected, condition: condition, correlationId: correlationId)
    }

    /// Appends to several streams atomically (`POST /v1/append`), each with its own
    /// expectation, under the request's DCB condition if it has one. Retried as safely as
    /// ``append(_:to:expected:condition:correlationId:)``.
    ///
    /// The request's `rules` are the server's to apply (its schema's); a request that
    /// carries some is refused here with `invalid-input`.
    @discardableResult
    public func append(request: AppendRequest, correlationId: String? = nil) async throws -> AppendReceipt {
        guard request.rules.isEmpty else {
            throw ChronicleClientError(.invalidInput, "Append rules are applied by the server from its schema; send the request without rules.")
        }
        let outgoing = ClientRequest(method: .POST, path: "/v1/append", body: try Self.body(WireMultiStreamAppend(request)), correlationId: correlationId ?? Self.newCorrelationId())
        let (answer, response) = try await call(outgoing, as: WireMultiStreamAppendResponse.self)
        return AppendReceipt(
            streams: answer.streams.map(\.result), position: answer.position, eventIds: request.streams.flatMap { $0.events.map(\.id) },
            replayed: answer.replayed ?? false, correlationId: response.correlationId ?? outgoing.correlationId!
        )
    }

    /// Reads up to `limit` events of a stream from `start`, in `direction`, page by page.
    ///
    /// - Throws: ``ChronicleClientError`` `stream-not-found` for a stream that does not exist.
    public func read(_ stream: StreamName, from start: ReadStart = .start, direction: ReadDirection = .forwards, limit: Int = .max) async throws -> [RecordedEvent] {
        var events: [RecordedEvent] = []
        var from: String? = switch start {
        case .start: nil
        case .end: "end"
        case .revision(let revision): String(revision)
        }
        while events.count < limit {
            var query = [("direction", direction.rawValue), ("limit", String(min(1000, limit - events.count)))]
            if let from { query.append(("from", from)) }
            let (page, _) = try await call(ClientRequest(method: .GET, path: Self.streamPath(stream), query: query), as: WireStreamPage.self)
            events += page.events.map(\.event)
            guard let next = page.next, !page.events.isEmpty else { break }
            from = String(next)
        }
        return events
    }

    /// Reads a page of the global log after `position`: up to `limit` (1–1000) events that
    /// match `filter`. Continue with the page's ``LogPage/scannedThrough`` as `after`.
    public func readLog(after position: Int64 = 0, limit: Int = 100, filter: LogFilter = LogFilter()) async throws -> LogPage {
        let query = [("after", String(position)), ("limit", String(min(max(limit, 1), 1000)))] + Self.filterQuery(filter)
        let (page, _) = try await call(ClientRequest(method: .GET, path: "/v1/log", query: query), as: WireLogPage.self)
        return LogPage(events: page.events.map(\.event), scannedThrough: page.next)
    }

    /// Every event caused by one request (its correlation id), after `position`: its own
    /// events, then the outcomes of its asynchronous work as they are stored.
    public func correlation(_ correlationId: String, after position: Int64 = 0, limit: Int = 100) async throws -> LogPage {
        let query = [("after", String(position)), ("limit", String(min(max(limit, 1), 1000)))]
        let (page, _) = try await call(ClientRequest(method: .GET, path: "/v1/correlations/" + PathSegment.encode(correlationId), query: query), as: WireLogPage.self)
        return LogPage(events: page.events.map(\.event), scannedThrough: page.next)
    }

    /// The events matching a DCB query after `position` (`POST /v1/query`), with the
    /// ``DCBQueryPage/head`` to put in the condition of the append that decides on them.
    public func query(_ query: DCBQuery, after position: Int64 = 0, limit: Int = 100) async throws -> DCBQueryPage {
        let body = WireQueryRequest(query: WireQuery(query), after: position, limit: min(max(limit, 1), 1000))
        let (page, _) = try await call(ClientRequest(method: .POST, path: "/v1/query", body: try Self.body(body)), as: WireQueryResponse.self)
        return DCBQueryPage(events: page.events.map(\.event), head: page.head)
    }

    /// Deletes a stream: soft (hidden, can be written again; role `write`) or hard (purged
    /// and tombstoned; role `admin`), if it is at `expected` (`.any`, `.streamExists` or
    /// `.exact`).
    @discardableResult
    public func delete(_ stream: StreamName, mode: DeleteMode = .soft, expected: ExpectedRevision = .any) async throws -> DeleteResult {
        let headers: [(String, String)]
        switch expected {
        case .exact(let revision): headers = [("If-Match", "\"\(revision)\"")]
        case .streamExists: headers = [("If-Match", "*")]
        case .any: headers = []
        case .noStream: throw ChronicleClientError(.invalidInput, "A delete expects a stream that exists: .any, .streamExists or .exact(revision).")
        }
        let request = ClientRequest(method: .DELETE, path: Self.streamPath(stream), query: [("mode", mode.rawValue)], headers: headers)
        let (answer, _) = try await call(request, as: WireDeleteResponse.self)
        return DeleteResult(stream: StreamName(stored: answer.stream), revision: answer.revision, position: answer.position)
    }

    /// A `GET` of any other endpoint of the API (`/v1/reactors`, `/v1/projections`…),
    /// decoded as `T`, with the client's authentication, retries and problems.
    public func get<T: Decodable>(_ path: String, query: [(String, String)] = [], as type: T.Type = T.self) async throws -> T {
        try await call(ClientRequest(method: .GET, path: path, query: query), as: T.self).0
    }

    /// A `POST` of any other endpoint of the API, with a JSON body, decoded as `T`. Retried
    /// like every call: use it for requests that are safe to repeat.
    public func post<T: Decodable>(_ path: String, body: some Encodable & Sendable, as type: T.Type = T.self) async throws -> T {
        try await call(ClientRequest(method: .POST, path: path, body: try Self.body(body)), as: T.self).0
    }

    /// `type=`, `category=` and `correlation=` items for a filter.
    static func filterQuery(_ filter: LogFilter) -> [(String, String)] {
        filter.types.sorted().map { ("type", $0) } + filter.categories.sorted().map { ("category", $0) } + (filter.correlation.map { [("correlation", $0)] } ?? [])
    }
}
