import ChronicleCore
import ChronicleProjections
import Foundation
import Testing

let userSchema = """
    entities:
      user:
        events:
          UserCreated: create
          UserUpdatedEmailAddress: merge
          UserEmailVerified: { set: { emailVerified: true, level: 2, note: "yes" } }
          UserDeleted: delete
          UserErased: erase
      advertisement:
        events:
          AdvertisementPosted: { create: true }
    """

@Suite("Declarative schema and projection")
struct EntitySchemaTests {
    @Test("a schema parses into entities and operations")
    func parses() throws {
        let schema = try EntitySchema(yaml: userSchema)
        #expect(schema.entities.keys.sorted() == ["advertisement", "user"])
        #expect(schema.entities["user"]?.events["UserCreated"] == .create)
        #expect(schema.entities["user"]?.events["UserUpdatedEmailAddress"] == .merge)
        #expect(schema.entities["user"]?.events["UserEmailVerified"] == .set(["emailVerified": true, "level": 2, "note": "yes"]))
        #expect(schema.entities["user"]?.events["UserDeleted"] == .delete)
        #expect(schema.entities["user"]?.events["UserErased"] == .erase)
        #expect(DeclarativeProjection(schema: schema).erases(eventType: "UserErased", in: try StreamName("user-1")))
        #expect(!DeclarativeProjection(schema: schema).erases(eventType: "UserDeleted", in: try StreamName("user-1")))
        #expect(schema.entities["advertisement"]?.events["AdvertisementPosted"] == .create)
        #expect(schema.definitionHash == (try EntitySchema(yaml: userSchema)).definitionHash)
        #expect(schema.definitionHash != (try EntitySchema(yaml: userSchema.replacingOccurrences(of: "merge", with: "create"))).definitionHash)
    }

    @Test("a bad schema names the line and what is wrong", arguments: [
        ("entities:\n  user:\n    events:\n      UserCreated: replace\n", "line 4", "unknown operation \"replace\""),
        ("entities:\n  user-account:\n    events:\n      A: create\n", "line 2", "no '-'"),
        ("entities:\n  user:\n    evnts:\n      A: create\n", "line 3", "unknown key \"evnts\""),
        ("entities:\n  user:\n    events: {}\n", "line 3", "no `events:`"),
        ("entites:\n  user: {}\n", "line 1", "unknown key \"entites\""),
        ("entities:\n  user:\n    events:\n      A: { set: 3 }\n", "line 4", "mapping of fields"),
        ("entities:\n  user:\n    events:\n      A: create\n  order:\n    events:\n      A: merge\n", "line 7", "already changes entity user"),
        ("entities:\n  ad:\n    events:\n      Posted: { create: true, require: [ { entity: user } ] }\n", "line 4", "names `entity:` and `id:`"),
        ("entities:\n  ad:\n    events:\n      Posted: { create: true, require: [ { entity: user, id: $.data.u, otherwise: { status: 500 } } ] }\n", "line 4", "403, 409 or 422"),
        ("entities:\n  ad:\n    events:\n      Posted: { create: true, schema: { pattern: \"(\" } }\n", "line 4", "not a usable JSON Schema"),
        ("entities:\n  ad:\n    events:\n      Posted: { create: true, merge: true }\n", "line 4", "exactly one operation"),
        ("entities:\n  user:\n    events:\n      A: create\nreactors:\n  mail:\n    on: [A]\n    webhook: { url: \"ftp://x\" }\n", "line 8", "needs an http(s)"),
        ("entities:\n  user:\n    events:\n      A: create\nreactors:\n  mail:\n    webhook: { url: \"http://x\" }\n", "line 7", "`on:` lists"),
        ("entities:\n  user:\n    events:\n      A: create\nreactors:\n  mail:\n    on: [A]\n    webhook: { url: \"http://x\" }\n    concurrency: 0\n", "line 9", "`concurrency:` is a number of streams from 1 to 256"),
        ("entities:\n  user:\n    ignore: [A]\n    events:\n      A: create\n", "line 3", "both declared under `events:` and listed under `ignore:`"),
        ("entities:\n  user:\n    ignore: user\n    events:\n      A: create\n", "line 3", "`ignore:` is a list of event types"),
        ("entities:\n  ad:\n    events:\n      Posted: { create: true, require: [ { this: absent, where: { a: 1 } } ] }\n", "line 4", "`where:` needs `this: exists`"),
        ("entities:\n  ad:\n    events:\n      Posted: { create: true, require: [ { this: exists, entity: user } ] }\n", "line 4", "`this:` or `entity:`"),
        ("entities:\n  ad:\n    events:\n      Posted: { create: true, require: [ { this: exists, otherwise: { code: \"a b\" } } ] }\n", "line 4", "`otherwise.code` is a name"),
        ("entities:\n  ad:\n    events:\n      Posted: { create: true, require: [ { this: exists, otherwise: { stauts: 403 } } ] }\n", "line 4", "unknown key \"stauts\" in `otherwise:`"),
        ("entities:\n  ad:\n    events:\n      Posted: { create: true, require: [ { this: exists, where: {} } ] }\n", "line 4", "`where:` is a mapping"),
        ("entities: [\n", "", "not valid YAML"),
        ("- 1\n- 2\n", "", "must be a mapping"),
    ])
    func badSchemas(yaml: String, line: String, fragment: String) {
        #expect {
            _ = try EntitySchema(yaml: yaml, file: "schema.yaml")
        } throws: { error in
            guard let error = error as? ChronicleError, error.code == .invalidInput else { return false }
            return error.message.hasPrefix("schema.yaml") && (line.isEmpty || error.message.contains(line)) && error.message.contains(fragment)
        }
    }

    @Test("reactors parse with their webhook, retries and start")
    func reactors() throws {
        let schema = try EntitySchema(yaml: userSchema + """

            reactors:
              welcome-email:
                on: [UserCreated]
                webhook: { url: "http://127.0.0.1:9000/welcome", timeout: 2s, secret: "k" }
                retry: { attempts: 3, backoff: exponential }
                from: beginning
                concurrency: 16
            """)
        let reactor = try #require(schema.reactors["welcome-email"])
        #expect(reactor.concurrency == 16)
        let reactorsOnly = try EntitySchema(yaml: "entities: {}\nreactors:\n  m:\n    on: [A]\n    webhook: { url: \"http://x\" }\n")
        #expect(reactorsOnly.entities.isEmpty && reactorsOnly.reactors.count == 1, "a schema may declare only reactors")
        #expect(throws: ChronicleError.self) { try EntitySchema(yaml: "entities: {}\n") }
        #expect(try EntitySchema(yaml: userSchema + "\nreactors:\n  m:\n    on: [A]\n    webhook: { url: \"http://x\" }\n").reactors["m"]?.concurrency == EntitySchema.ReactorDefinition.defaultConcurrency)
        #expect(reactor.types == ["UserCreated"] && reactor.url == "http://127.0.0.1:9000/welcome" && reactor.secret == "k")
        #expect(reactor.timeout == .seconds(2) && reactor.attempts == 3 && reactor.fromBeginning)
    }

    @Test("the seed's user story folds into the expected states")
    func userStory() throws {
        let projection = DeclarativeProjection(schema: try EntitySchema(yaml: userSchema))
        let stream = try StreamName("user-1234")
        func event(_ type: String, _ data: JSONValue, _ revision: Int64) -> RecordedEvent {
            RecordedEvent(id: .timeOrdered(), stream: stream, type: type, revision: revision, position: revision + 10, recordedAtMicroseconds: 1_000 * revision, dataJSON: data.canonicalText, metadataJSON: "{}", hash: .zero)
        }
        let events = [
            event("UserCreated", ["email": "ada@example.com", "name": "Ada"], 0),
            event("UserUpdatedEmailAddress", ["email": "ada@lovelace.org"], 1),
            event("Unlisted", ["ignored": true], 2),
            event("UserEmailVerified", [:], 3),
            event("UserDeleted", [:], 4),
        ]
        let steps = try projection.fold(events)
        #expect(steps[0].document?.state == ["email": "ada@example.com", "name": "Ada"])
        #expect(steps[1].document?.state == ["email": "ada@lovelace.org", "name": "Ada"])
        #expect(steps[2].document == steps[1].document, "an event the schema does not list changes nothing")
        #expect(steps[3].document?.state == ["email": "ada@lovelace.org", "name": "Ada", "emailVerified": true, "level": 2, "note": "yes"])
        #expect(steps[3].document?.version == 3 && steps[3].document?.position == 13)
        #expect(steps[4].document?.deleted == true)
        #expect(projection.entity(of: events[0])?.entity == "user" && projection.entity(of: events[0])?.id == "1234")
        let order = RecordedEvent(id: .timeOrdered(), stream: try StreamName("order-1"), type: "UserCreated", revision: 0, position: 1, recordedAtMicroseconds: 0, dataJSON: "{}", metadataJSON: "{}", hash: .zero)
        #expect(projection.entity(of: order) == nil, "streams of other categories are not entities")
    }

    @Test("schema files are read from disk, with a clear error when missing")
    func files() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("schema-\(UUID().uuidString).yaml").path
        try userSchema.write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        #expect(try EntitySchema.load(file: file).entities.count == 2)
        #expect(throws: ChronicleError.self) { try EntitySchema.load(file: file + ".missing") }
    }
}
