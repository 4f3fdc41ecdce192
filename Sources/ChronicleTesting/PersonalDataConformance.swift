import ChronicleCore
import Foundation
import Testing

/// A projection with personal fields: `person-<id>` streams, whose `Registered {email, name,
/// age}` creates the person (email and name are the person's), `Moved {address}` merges
/// (address is the person's); and `note-<id>` streams, whose `Noted {about, text}` creates a
/// note whose text belongs to the person `about` names.
public struct PersonalProjection: Projection {
    /// Creates the projection.
    public init() {}

    public var name: String { "people" }
    public var definitionHash: String { "people-v1" }

    public func entity(of event: RecordedEvent) -> (entity: String, id: String)? {
        let stream = StreamDeletion.stream(of: event) ?? event.stream
        guard ["person", "note"].contains(stream.category), let id = stream.entityID else { return nil }
        return (stream.category, id)
    }

    public func evolve(_ document: Document?, with event: RecordedEvent) throws -> DocumentChange {
        guard let (entity, id) = entity(of: event) else { return .none }
        if StreamDeletion.stream(of: event) != nil { return StreamDeletion.change(for: event, document: document, entity: entity, id: id) }
        let state = (document?.state ?? [:]).merging(event.data)
        return .save(Document(entity: entity, id: id, state: state, version: event.revision, position: event.position, updatedAtMicroseconds: event.recordedAtMicroseconds))
    }

    public var declaresPersonalData: Bool { true }

    public func declaresPersonalFields(type: String) -> Bool { ["Registered", "Moved", "Noted"].contains(type) }

    public func personalFields(type: String, stream: StreamName, data: @autoclosure () throws -> JSONValue) throws -> [PersonalField] {
        switch type {
        case "Registered": return ["email", "name"].map { PersonalField(name: $0, subject: stream.entityID ?? "") }
        case "Moved": return [PersonalField(name: "address", subject: stream.entityID ?? "")]
        case "Noted":
            guard case .string(let about)? = try data()["about"] else {
                throw ChronicleError(.invalidPayload, "Noted: about (the subject of its text) is missing.")
            }
            return [PersonalField(name: "text", subject: about)]
        default: return []
        }
    }
}

/// Checks crypto-shredding on every backend: personal fields sealed as stored and readable
/// everywhere while the key exists; an erasure that destroys the key, counts what it touched
/// and rewrites the documents; nothing readable of the person after it, anywhere a store
/// answers; the hash chain intact; backups with and without keys.
public enum PersonalDataConformance {
    static func person(_ id: String) -> StreamName { try! StreamName("person-\(id)") }

    /// The scripted store: two people with unique markers in their personal fields.
    public static func run(_ store: ConformanceStore, fork: (@Sendable (ConformanceStore) async throws -> Void) async throws -> Void) async throws {
        let marker = "m\(UUID().uuidString.prefix(8).lowercased())"
        let adaEmail = "ada-\(marker)@example.com", adaAddress = "12 \(marker) Street", noteText = "ada said \(marker)"
        let registered = EventData(type: "Registered", data: ["email": .string(adaEmail), "name": "Ada", "age": 36])
        try await store.append(to: person("ada"), [registered])
        try await store.append(to: person("bob"), [EventData(type: "Registered", data: ["email": "bob@example.com", "name": "Bob", "age": 40])])
        try await store.append(to: person("ada"), [EventData(type: "Moved", data: ["address": .string(adaAddress)])])
        try await store.append(to: try StreamName("note-1"), [EventData(type: "Noted", data: ["about": "ada", "text": .string(noteText)])])
        let beforeErasure = try await store.headPosition()

        // While the key exists, every read shows plaintext; what is stored is sealed.
        let adaEvents = try await store.read(person("ada"))
        #expect(adaEvents.map { $0.data["email"] } == [.string(adaEmail), nil])
        #expect(adaEvents[1].data["address"] == .string(adaAddress))
        #expect(try await store.readLog(after: 0, limit: 100).events.contains { $0.dataJSON.contains(noteText) })
        #expect(try await store.document(entity: "person", id: "ada")?.state["email"] == .string(adaEmail))
        #expect(try await store.document(entity: "note", id: "1")?.state["text"] == .string(noteText))
        let exported = try await exportText(store)
        #expect(!exported.contains(marker), "the export holds the sealed form, not the plaintext")
        #expect(exported.contains(PersonalData.sealedMember))
        #expect(exported.contains("bob") && exported.contains("\"age\":36"), "fields that are not personal stay readable")
        #expect(try await store.verify().isIntact)

        // A retry of a personal append is the same append (sealing is deterministic).
        let retried = try await store.append(AppendRequest([.init(stream: person("ada"), events: [registered])]))
        #expect(retried.replayed)

        // The erasure.
        let erasure = try await store.eraseSubject("ada", actor: "dpo")
        #expect(!erasure.replayed)
        #expect(erasure.receipt.subject == "ada" && erasure.receipt.actor == "dpo")
        #expect(erasure.receipt.events == 3, "Registered and Moved of ada, and the note about her")
        #expect(erasure.receipt.documents == 2, "ada's person document and the note")
        #expect(erasure.receipt.position == beforeErasure + 1)

        // Nothing of ada is readable; everything else is as it was.
        let erased = PersonalData.erased
        let after = try await store.read(person("ada"))
        #expect(after.map { $0.data["email"] } == [erased, nil])
        #expect(after[0].data["name"] == erased && after[0].data["age"] == 36)
        #expect(after[1].data["address"] == erased)
        #expect(try await store.read(try StreamName("note-1"))[0].data["text"] == erased)
        #expect(try await store.read(try StreamName("note-1"))[0].data["about"] == "ada")
        let bob = try await store.read(person("bob"))[0]
        #expect(bob.data["email"] == "bob@example.com")
        let log = try await store.readLog(after: 0, limit: 100).events
        #expect(!log.contains { $0.dataJSON.contains(marker) })
        #expect(try await store.document(entity: "person", id: "ada")?.state == ["email": erased, "name": erased, "age": 36, "address": erased])
        #expect(try await store.document(entity: "note", id: "1")?.state["text"] == erased)
        #expect(try await store.document(entity: "person", id: "bob")?.state["email"] == "bob@example.com")
        for position in 1...beforeErasure {
            let past = try await store.document(entity: "person", id: "ada", asOf: position)
            #expect(past?.state.canonicalText.contains(marker) != true, "as of \(position), the read model's past holds no plaintext")
        }
        let page = try await store.documents(DocumentQuery(entity: "person"))
        #expect(!page.documents.contains { $0.state.canonicalText.contains(marker) })
        #expect(!(try await exportText(store)).contains(marker))
        #expect(try await store.verify().isIntact, "the chain covers the sealed form, so it still verifies")

        // Erasing again returns the first receipt and writes nothing.
        let head = try await store.headPosition()
        let again = try await store.eraseSubject("ada", actor: "someone else")
        #expect(again.replayed && again.receipt == erasure.receipt)
        #expect(try await store.headPosition() == head)
        #expect(try await store.erasureReceipt(id: erasure.receipt.id) == erasure.receipt)
        #expect(try await store.erasureReceipts() == [erasure.receipt])
        await #expect { try await store.erasureReceipt(id: UUID()) } throws: { ($0 as? ChronicleError)?.code == .erasureNotFound }

        // A rebuild gives the same documents.
        let documentsBefore = try await store.documents(DocumentQuery(entity: "person")).documents
        _ = try await store.rebuildDocuments { _, _ in }
        #expect(try await store.documents(DocumentQuery(entity: "person")).documents == documentsBefore)

        // Backups: the keys travel apart from the log. With them bob is readable and ada
        // stays erased; without them every personal field is unreadable.
        let entries = try await exportEntries(store)
        let keys = try await store.exportSubjectKeys()
        #expect(keys.keys.map(\.subject) == ["bob"] && keys.erased.map(\.subject) == ["ada"])
        #expect(!keys.text.contains(marker))
        try await fork { target in
            try await target.importSubjectKeys(try SubjectKeyArchive(text: keys.text).rows(wrappingWith: target.masterKey))
            try await target.importLog(entries) { _ in }
            #expect(try await target.read(person("bob"))[0].data["email"] == "bob@example.com")
            #expect(try await target.read(person("ada"))[0].data["email"] == erased)
            #expect(try await target.document(entity: "person", id: "bob")?.state["email"] == "bob@example.com")
            #expect(try await target.verify().isIntact)
        }
        try await fork { target in
            try await target.importLog(entries) { _ in }
            #expect(try await target.read(person("bob"))[0].data["email"] == erased)
            #expect(try await target.document(entity: "person", id: "bob")?.state["age"] == 40)
            #expect(try await target.verify().isIntact)
        }

        // The person may come back: new events get a new key, readable until erased again.
        try await store.append(to: person("ada"), [EventData(type: "Moved", data: ["address": "1 New Road"])])
        #expect(try await store.read(person("ada")).last?.data["address"] == "1 New Road")
        #expect(try await store.read(person("ada"))[0].data["email"] == erased)
        let second = try await store.eraseSubject("ada", actor: nil)
        #expect(!second.replayed && second.receipt.events == 1)
        #expect(try await store.read(person("ada")).last?.data["address"] == erased)
    }

    /// An asynchronous projection applies plaintext pages, and an erasure rewrites it.
    public static func runAsync(_ store: ConformanceStore) async throws {
        let marker = "m\(UUID().uuidString.prefix(8).lowercased())"
        try await store.append(to: person("ada"), [EventData(type: "Registered", data: ["email": .string("ada-\(marker)@example.com"), "name": "Ada"])])
        try await store.append(to: person("bob"), [EventData(type: "Registered", data: ["email": "bob@example.com", "name": "Bob"])])
        let page = try await store.readLog(after: 0, limit: 100)
        #expect(try await store.applyProjection(page.events, after: 0, through: page.scannedThrough) == page.scannedThrough)
        #expect(try await store.document(entity: "person", id: "ada")?.state["email"] == .string("ada-\(marker)@example.com"))
        let erasure = try await store.eraseSubject("ada", actor: nil)
        #expect(erasure.receipt.events == 1 && erasure.receipt.documents == 1)
        #expect(try await store.document(entity: "person", id: "ada")?.state["email"] == PersonalData.erased)
        #expect(try await store.document(entity: "person", id: "bob")?.state["email"] == "bob@example.com")
        #expect(try await store.document(entity: "person", id: "ada", asOf: 1)?.state.canonicalText.contains(marker) != true)
    }

    /// A reactor's outcome is an append like any other: its personal fields are sealed as
    /// stored, readable, and erased with the subject.
    public static func runReactorOutcome(_ store: ConformanceStore) async throws {
        let marker = "m\(UUID().uuidString.prefix(8).lowercased())"
        try await store.append(to: person("bob"), [EventData(type: "Registered", data: ["email": "bob@example.com", "name": "Bob"])])
        let checkpoint = try await store.reactorCheckpoint("welcome", fromBeginning: true)
        let outcome = ReactorOutcome(stream: person("ada"), events: [EventData(type: "Registered", data: ["email": .string("ada-\(marker)@example.com"), "name": "Ada"])])
        try await store.completeReaction("welcome", after: checkpoint, through: 1, outcomes: [outcome])
        #expect(try await store.reactorPosition("welcome") == 1)
        #expect(try await store.read(person("ada")).first?.data["email"] == .string("ada-\(marker)@example.com"))
        #expect(try await store.document(entity: "person", id: "ada")?.state["email"] == .string("ada-\(marker)@example.com"))
        #expect(try await exportText(store).contains(marker) == false, "the outcome is stored sealed")
        #expect(try await store.subjectKeyRows().map(\.subject).sorted() == ["ada", "bob"])
        _ = try await store.eraseSubject("ada", actor: nil)
        #expect(try await store.read(person("ada")).first?.data["email"] == PersonalData.erased)
    }

    /// An append sealed ahead of the writer (``PersonalSealer``) with a key the writer then
    /// refuses: an append that failed after its fresh key was saved (the key is gone with
    /// it, though the sealer saw it) is followed by one that must get a key that is stored.
    public static func runRolledBackKey(_ store: ConformanceStore) async throws {
        let marker = "m\(UUID().uuidString.prefix(8).lowercased())"
        await #expect(throws: ChronicleError.self) {
            try await store.append(AppendRequest([.init(stream: person("eve"), expected: .exact(5), events: [EventData(type: "Registered", data: ["email": "eve@example.com", "name": "Eve"])])]))
        }
        #expect(try await store.subjectKeyRows().isEmpty, "the refused append saved no key")
        try await store.append(to: person("eve"), [EventData(type: "Registered", data: ["email": .string("eve-\(marker)@example.com"), "name": "Eve"])], expected: .noStream)
        #expect(try await store.read(person("eve")).first?.data["email"] == .string("eve-\(marker)@example.com"))
        let rows = try await store.subjectKeyRows()
        #expect(rows.count == 1 && rows.first?.wrapped != nil)
        let stored = try await storedEvents(store).last?.dataJSON ?? ""
        #expect(PersonalData.keyIDs(in: stored) == Set(rows.map(\.id)), "sealed with the stored key")
    }

    /// Two stores on one database (two nodes, or a server and the CLI): each seals ahead with
    /// the keys it saw, so the other's erasures and new keys must be caught by the writer. An
    /// erasure the first store did not see never lets its old key seal again; a key the
    /// second store made first is the one both use.
    public static func runTwoWriters(_ first: ConformanceStore, _ second: ConformanceStore) async throws {
        let marker = "m\(UUID().uuidString.prefix(8).lowercased())"
        try await first.append(to: person("ada"), [EventData(type: "Registered", data: ["email": "ada@example.com", "name": "Ada"])])
        let oldKey = try #require(try await first.subjectKeyRows().first { $0.subject == "ada" }?.id)
        _ = try await second.eraseSubject("ada", actor: nil)
        try await first.append(to: person("ada"), [EventData(type: "Moved", data: ["address": .string("1 \(marker) Road")])])
        let ada = try #require(try await first.subjectKeyRows().first { $0.subject == "ada" })
        #expect(ada.id != oldKey && ada.wrapped != nil, "a new key, not the erased one")
        #expect(PersonalData.keyIDs(in: try await storedEvents(first).last?.dataJSON ?? "") == [ada.id])
        #expect(try await second.read(person("ada")).map { $0.data["email"] ?? $0.data["address"] } == [PersonalData.erased, .string("1 \(marker) Road")])

        // The second store makes dan's key; the first, which never saw it, uses it too.
        try await second.append(to: person("dan"), [EventData(type: "Registered", data: ["email": "dan@example.com", "name": "Dan"])])
        try await first.append(to: person("dan"), [EventData(type: "Moved", data: ["address": "2 Dan Street"])])
        let dan = try await first.subjectKeyRows().filter { $0.subject == "dan" }
        #expect(dan.count == 1)
        let danEvents = try await storedEvents(first).filter { $0.stream == person("dan") }
        #expect(danEvents.map { PersonalData.keyIDs(in: $0.dataJSON) } == [Set(dan.map(\.id)), Set(dan.map(\.id))])
        #expect(try await first.read(person("dan")).map { $0.data["email"] ?? $0.data["address"] } == ["dan@example.com", "2 Dan Street"])
    }

    /// Bad input: what cannot be sealed, what imitates a sealed value, a subject that is not
    /// there; nothing is stored.
    public static func runRefusals(_ store: ConformanceStore) async throws {
        await #expect {
            try await store.append(to: person("x"), [EventData(type: "Registered", data: ["email": 42])])
        } throws: { error in
            guard let error = error as? ChronicleError, error.code == .invalidPayload else { return false }
            return error.message.contains("email") && error.message.contains("number") && error.details["pointer"] == "/email"
        }
        await #expect {
            try await store.append(to: person("x"), [EventData(type: "Other", data: ["note": ["$sealed": "forged"]])])
        } throws: { error in
            guard let error = error as? ChronicleError, error.code == .invalidInput else { return false }
            return error.message.contains("$sealed") && error.message.contains("rename")
        }
        await #expect {
            try await store.append(to: try StreamName("note-2"), [EventData(type: "Noted", data: ["text": "who?"])])
        } throws: { ($0 as? ChronicleError)?.code == .invalidPayload }
        await #expect { try await store.eraseSubject("", actor: nil) } throws: { ($0 as? ChronicleError)?.code == .invalidInput }
        #expect(try await store.headPosition() == 0)
        #expect(try await store.subjectKeyRows().isEmpty)
    }

    static func exportEntries(_ store: ConformanceStore) async throws -> [LogEntry] {
        var entries: [LogEntry] = []
        while true {
            let page = try await store.exportLog(after: entries.last?.position ?? 0, limit: 500)
            if page.isEmpty { return entries }
            entries += page
        }
    }

    /// The events as stored (sealed), from the export.
    static func storedEvents(_ store: ConformanceStore) async throws -> [RecordedEvent] {
        try await exportEntries(store).compactMap { entry in
            if case .event(let event) = entry { event } else { nil }
        }
    }

    static func exportText(_ store: ConformanceStore) async throws -> String {
        try await exportEntries(store).map(\.jsonText).joined(separator: "\n")
    }
}
