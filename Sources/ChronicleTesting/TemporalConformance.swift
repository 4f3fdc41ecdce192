import ChronicleCore
import Foundation
import Testing

/// A projection for the temporal checks: `profile-<id>` streams whose `Set` events merge
/// their data into the state (RFC 7386: `null` removes a field); a soft delete marks the
/// document, a hard delete (or an `Erased` event, which erases the stream) removes it.
public struct ProfileProjection: Projection {
    /// Creates the projection.
    public init() {}

    public var name: String { "profiles" }
    public var definitionHash: String { "profile-v1" }

    public func entity(of event: RecordedEvent) -> (entity: String, id: String)? {
        let stream = StreamDeletion.stream(of: event) ?? event.stream
        guard stream.category == "profile", let id = stream.entityID else { return nil }
        return ("profile", id)
    }

    public func erases(eventType: String, in stream: StreamName) -> Bool {
        eventType == "Erased" && stream.category == "profile"
    }

    public func evolve(_ document: Document?, with event: RecordedEvent) throws -> DocumentChange {
        guard let (entity, id) = entity(of: event) else { return .none }
        if StreamDeletion.stream(of: event) != nil {
            return StreamDeletion.change(for: event, document: document, entity: entity, id: id)
        }
        guard event.type == "Set" else { return .none }
        let state = (document?.state ?? [:]).merging(event.data)
        return .save(Document(entity: entity, id: id, state: state, version: event.revision, position: event.position, updatedAtMicroseconds: event.recordedAtMicroseconds))
    }
}

/// Checks the read model across time — as of any position, the changes between two, blame —
/// against the documents a fresh fold of the log up to each position gives, on every backend.
public enum TemporalConformance {
    static func profile(_ id: String) -> StreamName { try! StreamName("profile-\(id)") }

    /// A scripted history: creates, merges, a removed field, soft deletes, a revival, an
    /// erasure. Returns the head.
    static func script(_ store: any EventStore) async throws -> Int64 {
        func set(_ id: String, _ data: JSONValue) async throws {
            try await store.append(to: profile(id), [EventData(type: "Set", data: data, metadata: ["actor": "tester", "correlationId": .string("c-\(id)")])])
        }
        try await set("a", ["name": "Ada", "email": "ada@example.com"])
        try await set("b", ["name": "Bob"])
        try await set("a", ["email": "ada@lovelace.org"])
        try await set("c", ["name": "Cy", "tier": 1])
        try await set("b", ["nick": "bobby", "name": .null])
        _ = try await store.delete(profile("b"), mode: .soft, expected: .any)
        try await set("c", ["tier": 2])
        try await set("b", ["name": "Robert"])
        try await store.append(to: profile("c"), [EventData(type: "Erased", data: [:])])
        try await set("a", ["address": ["city": "London"]])
        try await set("a", ["address": ["city": "Paris", "zip": "75001"]])
        _ = try await store.delete(profile("a"), mode: .soft, expected: .any)
        try await set("d", ["name": "Di"])
        // Several versions of one document in one append, and of two in one atomic append: a
        // driver that folds an append's events before writing must still record each version.
        try await store.append(to: profile("e"), [
            EventData(type: "Set", data: ["name": "Eve", "tier": 1]), EventData(type: "Set", data: ["tier": 2]),
            EventData(type: "Set", data: ["tier": .null, "nick": "eve"]),
        ])
        try await store.append(AppendRequest([
            .init(stream: profile("e"), events: [EventData(type: "Set", data: ["name": "Eve L."])]),
            .init(stream: profile("f"), events: [EventData(type: "Set", data: ["name": "Fay"]), EventData(type: "Set", data: ["name": "Fay B."])]),
        ]))
        try await set("e", ["tier": 3])
        return try await store.headPosition()
    }

    /// The documents a fresh fold of `entries` up to `position` gives.
    static func reference(_ entries: [LogEntry], upTo position: Int64) throws -> [String: Document] {
        var documents = DocumentSet()
        for case .event(let event) in entries where event.position <= position {
            try documents.apply(event, ProfileProjection())
        }
        return documents.documents["profile"] ?? [:]
    }

    /// Every as-of get and list equals the fold up to its position.
    static func checkAsOf(_ store: ConformanceStore, entries: [LogEntry], head: Int64, _ when: String) async throws {
        for position in 0...head {
            let expected = try reference(entries, upTo: position)
            for id in ["a", "b", "c", "d", "e", "f", "x"] {
                #expect(try await store.document(entity: "profile", id: id, asOf: position) == expected[id], "\(when): get \(id) as of \(position)")
            }
            let all = try await store.documents(DocumentQuery(entity: "profile", limit: 2, includeDeleted: true), asOf: position)
            var listed = all.documents
            var cursor = all.next
            while let next = cursor {
                let page = try await store.documents(DocumentQuery(entity: "profile", limit: 2, cursor: next, includeDeleted: true), asOf: position)
                listed += page.documents
                cursor = page.next
            }
            #expect(listed == expected.values.sorted { $0.id < $1.id }, "\(when): list as of \(position)")
            let live = try await store.documents(DocumentQuery(entity: "profile"), asOf: position)
            #expect(live.documents == expected.values.filter { !$0.deleted }.sorted { $0.id < $1.id }, "\(when): deleted hidden as of \(position)")
        }
    }

    /// The changes between pairs of positions are the difference of the two folds.
    static func checkChanges(_ store: ConformanceStore, entries: [LogEntry], head: Int64) async throws {
        let removals = entries.compactMap { entry -> (Int64, String)? in
            guard case .event(let event) = entry, let record = StreamDeletion.record(of: event), record.mode == .hard, let id = record.stream.entityID else { return nil }
            return (event.position, id)
        }
        for from in stride(from: Int64(0), through: head, by: 3) {
            for to in stride(from: from, through: head, by: 2) {
                let before = try reference(entries, upTo: from), after = try reference(entries, upTo: to)
                var changes: [EntityChange] = []
                var cursor: ChangeCursor?
                repeat {
                    let page = try await store.changes(from: from, to: to, entity: "profile", after: cursor, limit: 2)
                    changes += page.changes
                    cursor = page.next
                } while cursor != nil
                let erased = Set(removals.filter { $0.0 > from && $0.0 <= to }.map(\.1))
                let differing = Set(before.keys).union(after.keys).filter { before[$0] != after[$0] }
                #expect(Set(changes.map(\.id)) == differing.union(erased), "changes from \(from) to \(to)")
                #expect(changes.map(\.position) == changes.map(\.position).sorted(), "in position order of the last change")
                for change in changes {
                    if erased.contains(change.id) {
                        #expect(change.kind == .erased && change.after == nil, "\(change.id) erased in \(from)…\(to)")
                        continue
                    }
                    #expect(change.before == before[change.id] && change.after == after[change.id], "\(change.id) from \(from) to \(to)")
                    if let target = change.after {
                        #expect(try change.patch.apply(to: change.before?.state ?? [:]) == target.state, "the patch of \(change.id) leads from one state to the other")
                    }
                }
            }
        }
        let none = try await store.changes(from: head, to: head, entity: nil, after: nil, limit: 10)
        #expect(none.changes.isEmpty && none.next == nil)
    }

    /// Blame names the event that set each leaf, and agrees with the patches of history.
    static func checkBlame(_ store: ConformanceStore, entries: [LogEntry]) async throws {
        let events = entries.compactMap { entry -> RecordedEvent? in
            if case .event(let event) = entry, event.stream == profile("a") { return event }
            return nil
        }
        let timeline = try EntityTimeline(entity: "profile", id: "a", events: events, projection: ProfileProjection())
        let beforeDelete = try #require(events.last { $0.type == "Set" }).position
        let blame = try #require(EntityBlame(timeline, upTo: beforeDelete))
        let byPointer = Dictionary(uniqueKeysWithValues: blame.lines.map { ($0.pointer.description, $0.event.revision) })
        #expect(byPointer == ["/name": 0, "/email": 1, "/address/city": 3, "/address/zip": 3])
        let first = try #require(EntityBlame(timeline, upTo: events[0].position))
        #expect(first.lines.map(\.event.revision) == [0, 0])
        var previous: JSONValue = [:]
        var touched: [Int64: [String]] = [:]
        for step in timeline.steps {
            let state = step.document?.state ?? [:]
            touched[step.event.revision] = JSONPatch.diff(from: previous, to: state).operations.map { operation in
                switch operation {
                case .add(let path, _), .remove(let path), .replace(let path, _), .move(_, let path), .copy(_, let path), .test(let path, _): path.description
                }
            }
            previous = state
        }
        for line in blame.lines {
            let paths = touched[line.event.revision] ?? []
            #expect(paths.contains { line.pointer.description == $0 || line.pointer.description.hasPrefix($0 + "/") }, "history's patch of revision \(line.event.revision) touches \(line.pointer)")
        }
        _ = store
    }

    /// Moments: instants resolve to the last position recorded at or before them; bad ones
    /// are refused with the valid range.
    static func checkMoments(_ store: ConformanceStore, entries: [LogEntry], head: Int64) async throws {
        for case .event(let event) in entries {
            let last = entries.compactMap { entry -> Int64? in
                guard case .event(let other) = entry, other.recordedAtMicroseconds <= event.recordedAtMicroseconds else { return nil }
                return other.position
            }.max()
            #expect(try await LogMoment.instant(event.recordedAtMicroseconds).resolve(in: store, documents: store) == last)
        }
        func refused(_ moment: LogMoment, status: Int) async {
            await #expect { try await moment.resolve(in: store, documents: store) } throws: { error in
                guard let error = error as? ChronicleError, error.code == .momentOutOfRange, error.status == status else { return false }
                return error.details["head"] == .integer(head)
            }
        }
        await refused(.position(head + 1), status: 400)
        await refused(.instant(Timestamp.now() + 3_600_000_000), status: 400)
        guard case .event(let first)? = entries.first else { return }
        await refused(.instant(first.recordedAtMicroseconds - 1), status: 404)
        await #expect { try await LogMoment.range(from: .position(head), to: .position(1), in: store, documents: store) } throws: { error in
            (error as? ChronicleError)?.code == .momentOutOfRange
        }
    }

    /// The whole check on an inline projection: as of, changes, blame, moments; again after a
    /// rebuild; and a fresh store that imports the log up to a position equals the read model
    /// as of it.
    public static func run(_ store: ConformanceStore, fresh: (@Sendable (ConformanceStore) async throws -> Void) async throws -> Void) async throws {
        let head = try await script(store)
        let entries = try await store.exportLog(after: 0, limit: 10_000)
        try await checkAsOf(store, entries: entries, head: head, "inline")
        try await checkChanges(store, entries: entries, head: head)
        try await checkBlame(store, entries: entries)
        try await checkMoments(store, entries: entries, head: head)
        try await store.rebuildDocuments()
        try await checkAsOf(store, entries: entries, head: head, "after a rebuild")
        for cut in [head / 2, head - 2] {
            try await fresh { forked in
                try await forked.importLog(Array(entries.prefix { $0.position <= cut })) { _ in }
                let imported = try await forked.documents(DocumentQuery(entity: "profile", includeDeleted: true))
                let asOf = try await store.documents(DocumentQuery(entity: "profile", includeDeleted: true), asOf: cut)
                #expect(imported == asOf, "a store forked at \(cut) is the read model as of \(cut)")
                #expect(try await forked.documents(DocumentQuery(entity: "profile", includeDeleted: true), asOf: cut) == asOf)
            }
        }
    }

    /// On an asynchronous projection: as-of reads answer up to its checkpoint, and beyond it
    /// say how far it is.
    public static func runAsync(_ store: ConformanceStore) async throws {
        let head = try await script(store)
        let entries = try await store.exportLog(after: 0, limit: 10_000)
        let half = head / 2
        // The first `half` events reach past position `half` (an erased stream's events are
        // gone from the log): a store applies only those in (checkpoint, through], so the
        // ones after `half` are applied once, by the next call.
        let page = try await store.readLog(after: 0, limit: Int(half), filter: LogFilter())
        #expect(page.events.contains { $0.position > half }, "the first page reaches past the half")
        #expect(try await store.applyProjection(page.events, after: 0, through: half) == half)
        await #expect { try await LogMoment.position(half + 1).resolve(in: store, documents: store) } throws: { error in
            guard let error = error as? ChronicleError, error.code == .notCaughtUp else { return false }
            return error.details["position"] == .integer(half) && error.details["lag"] == .integer(1)
        }
        let rest = try await store.readLog(after: half, limit: 1000, filter: LogFilter())
        #expect(try await store.applyProjection(rest.events, after: half, through: head) == head)
        try await checkAsOf(store, entries: entries, head: head, "async")
    }

    /// On a live projection (no documents kept): an as-of get folds the stream up to the
    /// position; lists and changes are refused, saying why.
    public static func runLive(_ store: ConformanceStore) async throws {
        let head = try await script(store)
        let entries = try await store.exportLog(after: 0, limit: 10_000)
        for position in 0...head {
            let expected = try reference(entries, upTo: position)
            for id in ["a", "b", "d"] {
                let document = try await store.document(entity: "profile", id: id, asOf: position)
                #expect(document == expected[id], "live get \(id) as of \(position)")
            }
        }
        await #expect { try await store.documents(DocumentQuery(entity: "profile"), asOf: head) } throws: { ($0 as? ChronicleError)?.message.contains("is live") == true }
        await #expect { try await store.changes(from: 0, to: head, entity: nil, after: nil, limit: 10) } throws: { ($0 as? ChronicleError)?.message.contains("is live") == true }
    }
}
