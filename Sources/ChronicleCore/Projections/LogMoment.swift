/// A moment of the log, as `asOf`, `from` and `to` name it: a position, or an instant (the
/// last position recorded at or before it).
public enum LogMoment: Sendable, Hashable, CustomStringConvertible {
    /// Right after this position (0: before the first event).
    case position(Int64)
    /// As it stood at this instant (microseconds since the epoch).
    case instant(Int64)

    /// Parses a position (`42`) or an RFC 3339 instant; `nil` if it is neither.
    public init?(parsing text: String) {
        if let position = Int64(text), position >= 0 {
            self = .position(position)
        } else if let instant = Timestamp.microseconds(parsing: text) {
            self = .instant(instant)
        } else {
            return nil
        }
    }

    public var description: String {
        switch self {
        case .position(let position): "position \(position)"
        case .instant(let instant): Timestamp.iso8601(microseconds: instant)
        }
    }

    /// The position this moment names in `store`, whose read model `documents` must have
    /// applied it.
    ///
    /// - Throws: ``ChronicleError/Code/momentOutOfRange`` for a position beyond the head
    ///   (400), an instant in the future (400) or before the first event (404), each with
    ///   the valid range in its details; ``ChronicleError/Code/notCaughtUp`` when an
    ///   asynchronous projection has not reached it yet.
    public func resolve(in store: any EventStore, documents: any DocumentStore, name: String = "asOf", now: Int64 = Timestamp.now()) async throws -> Int64 {
        let position = try await position(in: store, name: name, now: now)
        let start = try await documents.historyStart()
        guard position >= start else {
            throw Self.outOfRange("The read model before position \(start) was not recorded: this store was upgraded then from a version that kept no past. Ask for \(name) from \(start) on, or rebuild the projection (chronicle projections rebuild, or POST /v1/projections/{name}/rebuild) to record its whole past from the log.", status: 404, ["historyFrom": .integer(start), "head": .integer(try await store.headPosition())])
        }
        let applied = try await documents.documentsPosition()
        guard position <= applied else {
            var error = ChronicleError(.notCaughtUp, "The read model has applied the log up to position \(applied), not yet \(position) (\(self)). Retry in a moment.")
            error.details = ["position": .integer(applied), "lag": .integer(position - applied)]
            throw error
        }
        return position
    }

    /// The position this moment names in `store`'s log, with the range checks of
    /// ``resolve(in:documents:name:now:)`` but none about read models (an export's `--until`).
    public func position(in store: any EventStore, name: String = "asOf", now: Int64 = Timestamp.now()) async throws -> Int64 {
        let head = try await store.headPosition()
        let position: Int64
        switch self {
        case .position(let asked):
            guard asked <= head else {
                throw Self.outOfRange("\(name)=\(asked) is beyond the log's head: use a position from 0 to \(head), or an instant.", status: 400, ["head": .integer(head)])
            }
            position = asked
        case .instant(let instant):
            guard instant <= now else {
                throw Self.outOfRange("\(name)=\(Timestamp.iso8601(microseconds: instant)) is in the future (it is \(Timestamp.iso8601(microseconds: now)) now): use an instant up to now, or a position.", status: 400, ["head": .integer(head), "now": .string(Timestamp.iso8601(microseconds: now))])
            }
            guard let first = try await store.readLog(after: 0, limit: 1, filter: LogFilter()).events.first, instant >= first.recordedAtMicroseconds else {
                let first = try await store.readLog(after: 0, limit: 1, filter: LogFilter()).events.first
                let range = first.map { "the first event was recorded at \(Timestamp.iso8601(microseconds: $0.recordedAtMicroseconds))" } ?? "the log is empty"
                var details: [String: JSONValue] = ["head": .integer(head)]
                if let first { details["first"] = .string(Timestamp.iso8601(microseconds: first.recordedAtMicroseconds)) }
                throw Self.outOfRange("\(name)=\(Timestamp.iso8601(microseconds: instant)) is before the first event: \(range). Use a later instant, or position 0 for the empty read model.", status: 404, details)
            }
            position = try await store.position(atInstant: instant)
        }
        return position
    }

    /// The positions two moments name, refusing a range that ends before it starts.
    public static func range(from: LogMoment, to: LogMoment, in store: any EventStore, documents: any DocumentStore) async throws -> (from: Int64, to: Int64) {
        let start = try await from.resolve(in: store, documents: documents, name: "from")
        let end = try await to.resolve(in: store, documents: documents, name: "to")
        guard start <= end else {
            throw outOfRange("from (\(from), position \(start)) is after to (\(to), position \(end)): give the earlier moment as from.", status: 400, ["from": .integer(start), "to": .integer(end)])
        }
        return (start, end)
    }

    private static func outOfRange(_ message: String, status: Int, _ details: [String: JSONValue]) -> ChronicleError {
        var error = ChronicleError(.momentOutOfRange, message)
        error.status = status
        error.details = details
        return error
    }
}
