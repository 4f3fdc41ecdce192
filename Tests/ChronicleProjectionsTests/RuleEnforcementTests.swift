import ChronicleCore
import ChroniclePostgres
import ChronicleProjections
import ChronicleSQLite
import ChronicleTestSupport
import ChronicleTesting
import Foundation
import Testing

/// The seed's rules schema, with every kind of rule the write path enforces.
let rulesSchema = """
    entities:
      user:
        unique: [email]
        ignore: [UserLoggedIn]
        events:
          UserCreated:
            create: true
            schema: { type: object, required: [email], properties: { email: { type: string, format: email } } }
            require:
              - this: absent
          UserUpdatedEmailAddress: merge
          UserProfileSaved: upsert
          UserEmailVerified: { set: { emailVerified: true } }
          UserBanned:
            set: { banned: true }
            require:
              - this: exists
                where: { emailVerified: true }
                otherwise: { code: not-verified }
          UserDeleted: delete
      advertisement:
        events:
          AdvertisementPosted:
            create: true
            require:
              - entity: user
                id: $.data.userId
                where: { emailVerified: true }
                otherwise: { status: 403, code: email-unverified, detail: "Verify your email address before posting." }
    """

/// A store holding the rules schema's projection inline, with what the checks need.
typealias RuleStore = ConformanceStore

/// A fresh store of `backend` holding the rules schema's projection inline.
func withRuleStore(_ backend: any ConformanceBackend, _ body: (RuleStore) async throws -> Void) async throws {
    try await backend.withStore(projection: DeclarativeProjection(schema: try EntitySchema(yaml: rulesSchema)), lifecycle: .inline) { try await body($0) }
}

/// One rule check, run on a fresh store per backend.
struct RuleCase: Sendable, CustomTestStringConvertible {
    let name: String
    let run: @Sendable (RuleStore) async throws -> Void
    var testDescription: String { name }
}

private func stream(_ name: String) -> StreamName { try! StreamName(name) }

private func event(_ type: String, _ data: JSONValue, id: UUID = .timeOrdered()) -> EventData {
    EventData(id: id, type: type, data: data)
}

/// Appends and returns the error it was refused with; records an issue if it was stored.
private func refusal(_ store: RuleStore, _ request: AppendRequest, sourceLocation: SourceLocation = #_sourceLocation) async throws -> ChronicleError {
    let head = try await store.headPosition()
    do {
        let result = try await store.append(request)
        Issue.record("the append was stored at \(result.position)", sourceLocation: sourceLocation)
        throw ChronicleError(.invalidInput, "stored")
    } catch let error as ChronicleError {
        #expect(try await store.headPosition() == head, "a refused append writes nothing", sourceLocation: sourceLocation)
        return error
    }
}

private func refusal(_ store: RuleStore, _ name: String, _ events: [EventData], sourceLocation: SourceLocation = #_sourceLocation) async throws -> ChronicleError {
    try await refusal(store, AppendRequest([.init(stream: stream(name), events: events)]), sourceLocation: sourceLocation)
}

private func createVerifiedUser(_ store: RuleStore, _ id: String, email: String) async throws {
    try await store.append(to: stream("user-\(id)"), [event("UserCreated", ["email": .string(email)]), event("UserEmailVerified", [:])])
}

enum RuleCases {
    static let all: [RuleCase] = [
        .init(name: "a plain stream append of a refused type is refused with the schema's status, code and rule") { store in
            try await store.append(to: stream("user-ada"), [event("UserCreated", ["email": "ada@example.com"])])
            let error = try await refusal(store, "advertisement-x", [event("AdvertisementPosted", ["userId": "ada", "title": "Bike"])])
            #expect(error.code == .ruleViolated && error.status == 403 && error.message == "Verify your email address before posting.")
            #expect(error.details["rule"] == "email-unverified" && error.details["entity"] == "user" && error.details["id"] == "ada")
            try await store.append(to: stream("user-ada"), [event("UserEmailVerified", [:])])
            try await store.append(to: stream("advertisement-x"), [event("AdvertisementPosted", ["userId": "ada", "title": "Bike"])])
            #expect(try await store.document(entity: "advertisement", id: "x")?.state["title"] == "Bike")
        },
        .init(name: "default details say what was found; generated rule names") { store in
            let missing = try await refusal(store, "user-bob", [event("UserBanned", [:])])
            #expect(missing.code == .entityNotFound && missing.details["entity"] == "user" && missing.details["id"] == "bob", "\(missing)")
            try await store.append(to: stream("user-bob"), [event("UserCreated", ["email": "bob@example.com"])])
            let unverified = try await refusal(store, "user-bob", [event("UserBanned", [:])])
            #expect(unverified.code == .ruleViolated && unverified.status == 422 && unverified.details["rule"] == "not-verified")
            #expect(unverified.message == "User bob has no emailVerified.", "\(unverified.message)")
            let again = try await refusal(store, "user-bob", [event("UserCreated", ["email": "bob2@example.com"])])
            #expect(again.status == 409 && again.details["rule"] == "UserCreated.require[0]" && again.message == "User bob already exists.", "\(again)")
        },
        .init(name: "unique holds on raw appends: one live holder of an email") { store in
            try await store.append(to: stream("user-ada"), [event("UserCreated", ["email": "ada@example.com"])])
            let error = try await refusal(store, "user-eve", [event("UserCreated", ["email": "ada@example.com"])])
            #expect(error.code == .ruleViolated && error.status == 409 && error.details["rule"] == "user.unique.email", "\(error)")
            try await store.append(to: stream("user-eve"), [event("UserCreated", ["email": "eve@example.com"])])
            let merge = try await refusal(store, "user-eve", [event("UserUpdatedEmailAddress", ["email": "ada@example.com"])])
            #expect(merge.details["rule"] == "user.unique.email" && merge.message == #"Another user already has email = "ada@example.com"; email is unique."#, "\(merge.message)")
            try await store.append(to: stream("user-ada"), [event("UserUpdatedEmailAddress", ["email": "ada@example.com", "name": "Ada"])])
            let page = try await store.documents(DocumentQuery(entity: "user", filters: [.init(field: "email", .eq, "ada@example.com")]))
            #expect(page.documents.map(\.id) == ["ada"])
        },
        .init(name: "a multi-stream append that breaks a rule in one part writes nothing") { store in
            try await createVerifiedUser(store, "ada", email: "ada@example.com")
            let error = try await refusal(store, AppendRequest([
                .init(stream: stream("advertisement-1"), events: [event("AdvertisementPosted", ["userId": "ada"])]),
                .init(stream: stream("advertisement-2"), events: [event("AdvertisementPosted", ["userId": "nobody"])]),
            ]))
            #expect(error.code == .ruleViolated && error.message == "Verify your email address before posting.")
            #expect(try await store.document(entity: "advertisement", id: "1") == nil)
        },
        .init(name: "rules of later events see the earlier events of the same append") { store in
            try await store.append(AppendRequest([
                .init(stream: stream("user-ada"), events: [event("UserCreated", ["email": "ada@example.com"]), event("UserEmailVerified", [:])]),
                .init(stream: stream("advertisement-1"), events: [event("AdvertisementPosted", ["userId": "ada"])]),
            ]))
            #expect(try await store.document(entity: "advertisement", id: "1") != nil)
            let twice = try await refusal(store, "user-bob", [event("UserCreated", ["email": "bob@example.com"]), event("UserCreated", ["email": "bob@example.com"])])
            #expect(twice.details["rule"] == "UserCreated.require[0]")
            #expect(try await store.info(stream("user-bob")) == nil)
        },
        .init(name: "merge, set and delete need an existing entity; upsert and create make one") { store in
            for type in ["UserUpdatedEmailAddress", "UserEmailVerified", "UserDeleted"] {
                let error = try await refusal(store, "user-zed", [event(type, ["email": "z@example.com"])])
                #expect(error.code == .entityNotFound && error.message.contains("user zed does not exist"), "\(type): \(error)")
            }
            try await store.append(to: stream("user-zed"), [event("UserProfileSaved", ["name": "Zed"])])
            #expect(try await store.document(entity: "user", id: "zed")?.state == ["name": "Zed"])
            try await store.append(to: stream("user-zed"), [event("UserDeleted", [:])])
            let deleted = try await refusal(store, "user-zed", [event("UserEmailVerified", [:])])
            #expect(deleted.code == .entityNotFound && deleted.message.contains("was deleted"))
        },
        .init(name: "undeclared types are refused on an entity's streams; ignore: lets one through; a type goes to its own entity") { store in
            try await store.append(to: stream("user-ada"), [event("UserCreated", ["email": "ada@example.com"])])
            let undeclared = try await refusal(store, "user-ada", [event("UserRenamed", ["name": "x"])])
            #expect(undeclared.code == .undeclaredEventType && undeclared.details["entity"] == "user", "\(undeclared)")
            let elsewhere = try await refusal(store, "misc-1", [event("AdvertisementPosted", ["userId": "ada"])])
            #expect(elsewhere.code == .undeclaredEventType && elsewhere.details["entity"] == "advertisement", "\(elsewhere)")
            let wrongEntity = try await refusal(store, "user-ada", [event("AdvertisementPosted", ["userId": "ada"])])
            #expect(wrongEntity.code == .undeclaredEventType)
            let ignored = try await store.append(to: stream("user-ada"), [event("UserLoggedIn", [:])])
            let document = try #require(try await store.document(entity: "user", id: "ada"))
            #expect(ignored.lastRevision == 1 && document.version == 0, "an ignored type is stored and leaves the entity as it was")
            try await store.append(to: stream("misc-1"), [event("Anything", [:])])
        },
        .init(name: "payload schemas hold on raw appends") { store in
            let error = try await refusal(store, "user-ada", [event("UserCreated", ["email": "not-an-email"])])
            #expect(error.code == .invalidPayload && error.details["pointer"] == "/email", "\(error)")
            let missing = try await refusal(store, "advertisement-1", [event("AdvertisementPosted", ["title": "x"])])
            #expect(missing.code == .invalidPayload && missing.details["pointer"] == "/userId", "\(missing)")
        },
        .init(name: "a retry of a stored append returns the original result though its rules no longer hold") { store in
            let id = UUID.timeOrdered()
            let first = try await store.append(to: stream("user-ada"), [event("UserCreated", ["email": "ada@example.com"], id: id)])
            let retry = try await store.append(to: stream("user-ada"), [event("UserCreated", ["email": "ada@example.com"], id: id)])
            #expect(retry == first)
        },
        .init(name: "a version rule compares with the entity's version") { store in
            try await store.append(to: stream("user-ada"), [event("UserCreated", ["email": "ada@example.com"]), event("UserLoggedIn", [:])])
            let rule = AppendRule(.version(entity: "user", id: "ada", expected: 1), status: 409)
            let stale = try await refusal(store, AppendRequest([.init(stream: stream("user-ada"), events: [event("UserEmailVerified", [:])])], rules: [rule]))
            #expect(stale.code == .wrongExpectedRevision && stale.actualRevision == 0, "the stream is at 1, the entity at version 0")
            let current = AppendRule(.version(entity: "user", id: "ada", expected: 0), status: 409)
            try await store.append(AppendRequest([.init(stream: stream("user-ada"), events: [event("UserEmailVerified", [:])])], rules: [current]))
        },
        .init(name: "an import restores history as it was, unchecked; the unique audit reports what breaks a rule") { store in
            let history = InMemoryEventStore()
            try await history.append(to: stream("user-ada"), [event("UserCreated", ["email": "same@example.com"])])
            try await history.append(to: stream("user-eve"), [event("UserCreated", ["email": "same@example.com"])])
            try await history.append(to: stream("user-bob"), [event("UserCreated", ["email": "bob@example.com"])])
            try await store.importLog(await history.exportLog(after: 0, limit: 100)) { _ in }
            let projection = DeclarativeProjection(schema: try EntitySchema(yaml: rulesSchema))
            let violations = try await projection.uniqueViolations(in: store, pageSize: 1)
            #expect(violations == [UniqueViolation(entity: "user", field: "email", value: "same@example.com", ids: ["ada", "eve"])], "\(violations)")
            let error = try await refusal(store, "user-zed", [event("UserCreated", ["email": "same@example.com"])])
            #expect(error.details["rule"] == "user.unique.email", "appends still keep the rule")
        },
        .init(name: "reactor outcomes are checked: a refused outcome writes nothing and keeps the checkpoint") { store in
            try await store.append(to: stream("user-ada"), [event("UserCreated", ["email": "ada@example.com"])])
            let checkpoint = try await store.reactorCheckpoint("poster", fromBeginning: true)
            let head = try await store.headPosition()
            await #expect(throws: ChronicleError.self) {
                try await store.completeReaction("poster", after: checkpoint, through: head, outcomes: [
                    ReactorOutcome(stream: stream("advertisement-1"), events: [event("AdvertisementPosted", ["userId": "ada"])]),
                ])
            }
            #expect(try await store.headPosition() == head)
            #expect(try await store.reactorPosition("poster") == checkpoint)
        },
    ]
}

@Suite("Rules hold on every append (in-memory, SQLite)")
struct RuleEnforcementTests {
    @Test(arguments: [InMemoryBackend() as any ConformanceBackend, SQLiteBackend()], RuleCases.all)
    func rule(backend: any ConformanceBackend, check: RuleCase) async throws {
        try await withRuleStore(backend) { try await check.run($0) }
    }
}

@Suite("Rules hold on every append (PostgreSQL)", TestPostgres.enabled)
struct PostgresRuleEnforcementTests {
    @Test(arguments: RuleCases.all)
    func rule(check: RuleCase) async throws {
        try await withRuleStore(PostgresBackend()) { try await check.run($0) }
    }
}

@Suite("Rules: what a check reads ahead")
struct RuleReadAheadTests {
    private func recorded(_ stream: String, _ type: String, _ data: JSONValue) -> RecordedEvent {
        RecordedEvent(id: UUID(), stream: try! StreamName(stream), type: type, revision: 0, position: 0, recordedAtMicroseconds: 0, dataJSON: data.canonicalText, metadataJSON: "{}", hash: .zero)
    }

    @Test("the documents a type's require: names, and the holders of the unique values it sets")
    func reads() throws {
        let projection = DeclarativeProjection(schema: try EntitySchema(yaml: rulesSchema))
        #expect(projection.readsForCheck(of: recorded("advertisement-1", "AdvertisementPosted", ["userId": "ada"])) == [.document(entity: "user", id: "ada")])
        #expect(projection.readsForCheck(of: recorded("user-ada", "UserCreated", ["email": "a@x.org"])) == [.holder(entity: "user", field: "email", value: "a@x.org")])
        #expect(projection.readsForCheck(of: recorded("user-ada", "UserEmailVerified", [:])).isEmpty)
        #expect(projection.readsForCheck(of: recorded("misc-1", "Anything", [:])).isEmpty)
    }
}
