import ChronicleCore
import Foundation
import Testing

/// A projection whose events change several entities: `member-<id>` streams and `list-<id>`
/// streams. `Opened {title}` (a list's own stream) creates the list; `Joined {email, lists}`
/// (a member's stream) creates the member and adds it to each list named; `EmailChanged
/// {email, lists}` changes the member's email and its entry in each list named; `Left {list}`
/// removes it from one list. A soft delete of a member's stream marks only the member deleted.
/// Appending `Joined`/`EmailChanged` naming a list that does not exist is refused.
public struct DirectoryProjection: Projection {
    /// Creates the projection.
    public init() {}

    public var name: String { "directory" }
    public var definitionHash: String { "directory-v1" }
    public var changesOtherEntities: Bool { true }

    public func entity(of event: RecordedEvent) -> (entity: String, id: String)? {
        let stream = StreamDeletion.stream(of: event) ?? event.stream
        guard ["member", "list"].contains(stream.category), let id = stream.entityID else { return nil }
        return (stream.category, id)
    }

    /// The lists an event names.
    static func lists(of event: RecordedEvent) -> [String] {
        switch event.type {
        case "Joined", "EmailChanged":
            guard case .array(let lists)? = event.data["lists"] else { return [] }
            return lists.compactMap { if case .string(let id) = $0 { id } else { nil } }
        case "Left":
            if case .string(let id)? = event.data["list"] { return [id] }
            return []
        default:
            return []
        }
    }

    public func targets(of event: RecordedEvent) -> [DocumentChangeKey] {
        guard let (entity, id) = entity(of: event) else { return [] }
        var keys = [DocumentChangeKey(entity: entity, id: id)]
        if entity == "member", StreamDeletion.stream(of: event) == nil {
            for list in Self.lists(of: event) where !keys.contains(DocumentChangeKey(entity: "list", id: list)) {
                keys.append(DocumentChangeKey(entity: "list", id: list))
            }
        }
        return keys
    }

    public func evolve(_ document: Document?, with event: RecordedEvent) throws -> DocumentChange {
        guard let (entity, id) = entity(of: event) else { return .none }
        return try evolve(document, with: event, target: DocumentChangeKey(entity: entity, id: id))
    }

    public func evolve(_ document: Document?, with event: RecordedEvent, target: DocumentChangeKey) throws -> DocumentChange {
        if StreamDeletion.stream(of: event) != nil {
            guard let (entity, id) = entity(of: event), target == DocumentChangeKey(entity: entity, id: id) else { return .none }
            return StreamDeletion.change(for: event, document: document, entity: entity, id: id)
        }
        let own = event.stream.category == target.entity && event.stream.entityID == target.id
        func save(_ state: JSONValue) -> DocumentChange {
            .save(Document(
                entity: target.entity, id: target.id, state: state, version: own ? event.revision : document?.version ?? -1,
                position: event.position, updatedAtMicroseconds: event.recordedAtMicroseconds
            ))
        }
        let state = document?.state ?? [:]
        guard let memberID = event.stream.entityID else { return .none }
        switch (target.entity, event.type) {
        case ("list", "Opened") where own:
            return save(["title": event.data["title"] ?? .null, "members": [:]])
        case ("member", "Joined") where own:
            return save(["email": event.data["email"] ?? .null, "lists": event.data["lists"] ?? []])
        case ("list", "Renamed") where own:
            return save(state.merging(["title": event.data["title"] ?? .null]))
        case ("member", "EmailChanged") where own:
            return save(state.merging(["email": event.data["email"] ?? .null]))
        case ("list", "Joined"), ("list", "EmailChanged"):
            guard document != nil, Self.lists(of: event).contains(target.id) else { return .none }
            return save(state.merging(["members": [memberID: event.data["email"] ?? .null]]))
        case ("list", "Left"):
            guard document != nil, Self.lists(of: event).contains(target.id) else { return .none }
            return save(state.merging(["members": [memberID: .null]]))
        default:
            return .none
        }
    }

    public func checkAppend(_ event: RecordedEvent, documents: (any DocumentLookup)?) throws {
        guard let documents, ["Joined", "EmailChanged"].contains(event.type) else { return }
        for list in Self.lists(of: event) where try documents.document(entity: "list", id: list) == nil {
            throw ChronicleError(.entityNotFound, "list \(list) does not exist.", stream: event.stream)
        }
    }
}

/// Checks that one event changes several entities on every backend: every document it names
/// in the append's transaction (or the asynchronous page), the temporal table and as-of reads
/// at its position, each entity's timeline (its stream's events and the others' that changed
/// it), the effects of an event, a refused fan-out that stores nothing, and a rebuild.
public enum FanOutConformance {
    static func stream(_ name: String) -> StreamName { try! StreamName(name) }

    /// The scripted history; returns the head.
    static func script(_ store: any EventStore) async throws -> Int64 {
        try await store.append(to: stream("list-news"), [EventData(type: "Opened", data: ["title": "News"])])
        try await store.append(to: stream("list-jobs"), [EventData(type: "Opened", data: ["title": "Jobs"])])
        try await store.append(to: stream("member-ada"), [EventData(type: "Joined", data: ["email": "ada@example.com", "lists": ["news", "jobs"]])])
        try await store.append(to: stream("member-bob"), [EventData(type: "Joined", data: ["email": "bob@example.com", "lists": ["news"]])])
        try await store.append(to: stream("member-ada"), [EventData(type: "EmailChanged", data: ["email": "ada@lovelace.org", "lists": ["news", "jobs", "news"]])])
        try await store.append(to: stream("list-news"), [EventData(type: "Renamed", data: ["title": "Headlines"])])
        try await store.append(to: stream("member-bob"), [EventData(type: "Left", data: ["list": "news"])])
        _ = try await store.delete(stream("member-bob"), mode: .soft, expected: .any)
        return try await store.headPosition()
    }

    /// The documents a fresh fold of the log up to `position` gives, by entity kind and id.
    static func reference(_ entries: [LogEntry], upTo position: Int64) throws -> [String: [String: Document]] {
        var documents = DocumentSet()
        for case .event(let event) in entries where event.position <= position {
            try documents.apply(event, DirectoryProjection())
        }
        return documents.documents
    }

    static func all(_ store: ConformanceStore, _ entity: String, asOf position: Int64? = nil) async throws -> [Document] {
        let query = DocumentQuery(entity: entity, limit: 100, includeDeleted: true)
        if let position { return try await store.documents(query, asOf: position).documents }
        return try await store.documents(query).documents
    }

    /// The current and as-of documents, the timelines, the effects.
    static func check(_ store: ConformanceStore, entries: [LogEntry], head: Int64, _ when: String) async throws {
        let final = try reference(entries, upTo: head)
        for entity in ["member", "list"] {
            #expect(try await all(store, entity) == (final[entity] ?? [:]).values.sorted { $0.id < $1.id }, "\(when): \(entity) documents")
        }
        let news = try #require(final["list"]?["news"])
        #expect(news.state == ["title": "Headlines", "members": ["ada": "ada@lovelace.org"]], "\(when): \(news.state)")
        #expect(news.version == 1, "an event of another stream keeps the list's version (its stream's revision)")
        #expect(final["list"]?["jobs"]?.state["members"] == ["ada": "ada@lovelace.org"])
        #expect(final["list"]?["jobs"]?.version == 0)
        for position in 0...head {
            let expected = try reference(entries, upTo: position)
            for entity in ["member", "list"] {
                #expect(try await all(store, entity, asOf: position) == (expected[entity] ?? [:]).values.sorted { $0.id < $1.id }, "\(when): \(entity) as of \(position)")
            }
        }

        // The list's timeline: its stream's two events, and the members' three that changed it.
        let timeline = try await EntityTimeline.load(entity: "list", id: "news", store: store, documents: store, projection: DirectoryProjection())
        #expect(timeline.steps.map(\.event.type) == ["Opened", "Joined", "Joined", "EmailChanged", "Renamed", "Left"], "\(when)")
        #expect(timeline.steps.map(\.version) == [0, 0, 0, 0, 1, 1])
        #expect(timeline.steps.map(\.isOwn) == [true, false, false, false, true, false])
        #expect(timeline.steps.last?.document == news)
        #expect(timeline.latestVersion == 1)
        #expect(timeline.document(at: .version(0))?.state["members"] == ["ada": "ada@lovelace.org", "bob": "bob@example.com"], "version 0 holds until the stream's next event")
        var state: JSONValue = [:]
        for step in timeline.steps {
            let next = step.document?.state ?? [:]
            state = try JSONPatch.diff(from: state, to: next).apply(to: state)
        }
        #expect(state == news.state, "the patches of the timeline lead to the current state")
        let ada = try await EntityTimeline.load(entity: "member", id: "ada", store: store, documents: store, projection: DirectoryProjection())
        #expect(ada.steps.map(\.event.type) == ["Joined", "EmailChanged"], "a member's timeline is its own stream")
        let missing = try await EntityTimeline.load(entity: "list", id: "nobody", store: store, documents: store, projection: DirectoryProjection())
        #expect(missing.steps.isEmpty)

        // The effects of the email change: the member, and each list once.
        let change = try #require(entries.compactMap { entry -> RecordedEvent? in
            if case .event(let event) = entry, event.type == "EmailChanged" { return event }
            return nil
        }.first)
        let effects = try await EventEffects.load(position: change.position, store: store, documents: store, projection: DirectoryProjection())
        #expect(effects.event.id == change.id)
        #expect(effects.effects.map { "\($0.entity)/\($0.id)" } == ["member/ada", "list/news", "list/jobs"], "\(when)")
        #expect(effects.effects.allSatisfy { $0.change == .updated })
        #expect(effects.effects.first { $0.id == "news" }?.patch.json == [["op": "replace", "path": "/members/ada", "value": "ada@lovelace.org"]])
        let opened = try await EventEffects.load(position: 1, store: store, documents: store, projection: DirectoryProjection())
        #expect(opened.effects.map(\.change) == [.created])
        let deletion = try await EventEffects.load(position: head, store: store, documents: store, projection: DirectoryProjection())
        #expect(deletion.effects.map { "\($0.entity)/\($0.id) \($0.change)" } == ["member/bob deleted"], "a soft delete changes only its stream's entity")
        await #expect { try await EventEffects.load(position: head + 1, store: store, documents: store, projection: DirectoryProjection()) } throws: {
            ($0 as? ChronicleError)?.code == .momentOutOfRange
        }
    }

    /// On an inline projection: the script, a refused fan-out, the checks, and again after a rebuild.
    public static func run(_ store: ConformanceStore) async throws {
        let head = try await script(store)
        await #expect {
            try await store.append(to: stream("member-cy"), [EventData(type: "Joined", data: ["email": "cy@example.com", "lists": ["news", "nope"]])])
        } throws: { ($0 as? ChronicleError)?.code == .entityNotFound }
        #expect(try await store.headPosition() == head, "a refused fan-out stores nothing")
        let entries = try await store.exportLog(after: 0, limit: 10_000)
        try await check(store, entries: entries, head: head, "inline")
        try await store.rebuildDocuments()
        try await check(store, entries: entries, head: head, "after a rebuild")
    }

    /// On an asynchronous projection: pages that cut between the events apply every document
    /// an event changes at its position.
    public static func runAsync(_ store: ConformanceStore) async throws {
        let head = try await script(store)
        let entries = try await store.exportLog(after: 0, limit: 10_000)
        var checkpoint: Int64 = 0
        while checkpoint < head {
            let page = try await store.readLog(after: checkpoint, limit: 3, filter: LogFilter())
            guard let last = page.events.last else { break }
            checkpoint = try await store.applyProjection(page.events, after: checkpoint, through: last.position)
        }
        try await check(store, entries: entries, head: head, "async")
    }
}
