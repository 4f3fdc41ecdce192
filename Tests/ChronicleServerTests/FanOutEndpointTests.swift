import ChronicleCore
import ChronicleProjections
import ChronicleTestSupport
import Foundation
import Testing

/// The README's "One event, several entities" section: its schema and its curl lines, read
/// from README.md so that the test runs what a new user pastes.
struct ReadmeFanOut {
    let schema: String
    /// The curl lines: method, path and body.
    let requests: [(method: String, path: String, body: String?)]

    static let section = section(heading: "### One event, several entities", file: "fanout.yaml")

    /// The schema written to `file` and the curl lines after it, in the section under `heading`.
    static func section(heading title: String, file: String) -> ReadmeFanOut {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        guard let readme = try? String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8),
              let heading = readme.range(of: title),
              let start = readme.range(of: "cat > \(file) <<'YAML'\n", range: heading.upperBound..<readme.endIndex),
              let end = readme.range(of: "\nYAML\n", range: start.upperBound..<readme.endIndex),
              let close = readme.range(of: "\n```\n", range: end.upperBound..<readme.endIndex) else {
            return ReadmeFanOut(schema: "README.md has no schema \(file) under \(title)", requests: [])
        }
        let lines = readme[end.upperBound..<close.lowerBound].split(separator: "\n").filter { $0.hasPrefix("curl ") }
        return ReadmeFanOut(schema: String(readme[start.upperBound..<end.lowerBound]), requests: lines.compactMap { parse(String($0)) })
    }

    /// `curl [--json 'BODY'] [-X METHOD] ['localhost:8080/PATH']  # comment`, as the README writes them.
    static func parse(_ line: String) -> (method: String, path: String, body: String?)? {
        var tokens: [String] = []
        var current = "", quoted = false, index = line.startIndex
        while index < line.endIndex {
            let character = line[index]
            if character == "'" { quoted.toggle() } else if character == " " && !quoted {
                if !current.isEmpty { tokens.append(current) }
                current = ""
                if line[index...].trimmingCharacters(in: .whitespaces).hasPrefix("#") { break }
            } else { current.append(character) }
            index = line.index(after: index)
        }
        if !current.isEmpty, !current.hasPrefix("#") { tokens.append(current) }
        var method = "GET", body: String?, path: String?
        var iterator = tokens.dropFirst().makeIterator()
        while let token = iterator.next() {
            switch token {
            case "--json": body = iterator.next(); method = "POST"
            case "-X": method = iterator.next() ?? method
            default: if token.hasPrefix("localhost:8080") { path = String(token.dropFirst("localhost:8080".count)) }
            }
        }
        return path.map { (method, $0, body) }
    }
}

@Suite("HTTP: one event, several entities")
struct FanOutEndpointTests {
    @Test("the README's seed example: one UserUpdated changes the user and the mailing list, in history, effects and after a rebuild (SQLite)")
    func readmeOnSQLite() async throws { try await readme(backend: .sqlite) }

    @Test("the README's seed example: one UserUpdated changes the user and the mailing list, in history, effects and after a rebuild (PostgreSQL)", TestPostgres.enabled)
    func readmeOnPostgres() async throws { try await readme(backend: .postgres) }

    func readme(backend: TestBackend) async throws {
        let section = ReadmeFanOut.section
        #expect(section.requests.count == 6, "the README's section has its six curl lines")
        let projection = DeclarativeProjection(schema: try EntitySchema(yaml: section.schema))
        try await withServer(projection: projection, snapshotInterval: 2, backend: backend) { server in
            var answers: [TestResponse] = []
            for request in section.requests {
                let answer = request.method == "POST" ? try await server.post(request.path, request.body ?? "") : try await server.get(request.path)
                #expect(answer.status == (request.method == "POST" ? 201 : 200), "\(request.method) \(request.path): \(answer.body)")
                answers.append(answer)
            }
            guard answers.count == 6 else { return }
            let list = answers[3].json, history = answers[4].json, effects = answers[5].json
            #expect(list["state"] == ["name": "News", "email": "new_email@gmail.com"] && list["version"] == 0, "\(answers[3].body)")
            #expect(list["position"] == 3, "the list's document moved to the event's position")
            let user = try await server.get("/v1/entities/user/bgg7x").json
            #expect(user["state"] == ["name": "Ada", "email": "new_email@gmail.com"] && user["version"] == 1, "its own stream's event moves the user's version")
            guard case .array(let entries)? = history["history"] else { Issue.record("\(answers[4].body)"); return }
            #expect(entries.map { $0["type"] } == ["MailingListCreated", "UserUpdated"])
            #expect(entries.last?["stream"] == "user-bgg7x" && entries.last?["version"] == 0 && entries.last?["position"] == 3)
            #expect(entries.first?["stream"] == .null, "the list's own events name no stream")
            #expect(entries.last?["patch"] == [["op": "replace", "path": "/email", "value": "new_email@gmail.com"]], "the patch it made to this entity")
            guard case .array(let changed)? = effects["effects"] else { Issue.record("\(answers[5].body)"); return }
            #expect(changed.map { [$0["entity"], $0["id"]] } == [["mailingList", "aXd45"], ["user", "bgg7x"]])
            #expect(changed.allSatisfy { $0["change"] == "updated" && $0["patch"] == [["op": "replace", "path": "/email", "value": "new_email@gmail.com"]] }, "\(answers[5].body)")
            #expect(effects["event"]?["type"] == "UserUpdated" && effects["projection"] == "entities")

            // Time travel, diff and blame of the list see the other stream's event.
            #expect(try await server.get("/v1/entities/mailingList/aXd45?asOf=2").json["state"]?["email"] == "old@example.com")
            #expect(try await server.get("/v1/entities/mailingList/aXd45?asOf=3").json["state"]?["email"] == "new_email@gmail.com")
            let blame = try await server.get("/v1/entities/mailingList/aXd45/blame").json
            guard case .array(let fields)? = blame["fields"] else { Issue.record("no blame"); return }
            #expect(fields.first { $0["pointer"] == "/email" }?["stream"] == "user-bgg7x")
            #expect(fields.first { $0["pointer"] == "/name" }?["stream"] == "mailingList-aXd45")

            // More changes on both sides, past the snapshot interval: timelines still fold in order.
            for index in 1...3 {
                let body = #"{"type":"UserUpdated","data":{"user_id":"u","email":"e\#(index)@x","updated":[{"type":"MailingList","_id":"aXd45","email":"e\#(index)@x"}]}}"#
                #expect(try await server.post("/v1/streams/user-bgg7x", body).status == 201)
                #expect(try await server.post("/v1/streams/mailingList-aXd45", #"{"type":"MailingListCreated","data":{"name":"News \#(index)","email":"own\#(index)@x"}}"#).status == 201)
            }
            let current = try await server.get("/v1/entities/mailingList/aXd45").json
            #expect(current["state"] == ["name": "News 3", "email": "own3@x"] && current["version"] == 3, "\(current)")
            let replayed = try await server.get("/v1/entities/mailingList/aXd45/history").json
            guard case .array(let all)? = replayed["history"] else { Issue.record("no history"); return }
            #expect(all.map { $0["version"] } == [0, 0, 0, 1, 1, 2, 2, 3])
            #expect(try await server.get("/v1/entities/mailingList/aXd45?version=2").json["state"] == ["name": "News 2", "email": "e3@x"], "version 2 holds until the stream's next event, with the other stream's change after it")
            #expect(try await server.get("/v1/entities/mailingList/aXd45?version=1").json["state"] == ["name": "News 1", "email": "e2@x"])

            // A rebuild from the events alone gives the same documents.
            let before = try await server.get("/v1/entities/mailingList?includeDeleted=true").body
            let users = try await server.get("/v1/entities/user?includeDeleted=true").body
            let rebuilt = try await server.request(.POST, "/v1/projections/entities/rebuild")
            #expect(rebuilt.status == 200, "\(rebuilt.body)")
            #expect(try await server.get("/v1/entities/mailingList?includeDeleted=true").body == before)
            #expect(try await server.get("/v1/entities/user?includeDeleted=true").body == users)
            #expect(try await server.get("/v1/events/3/effects").json["effects"] == effects["effects"], "effects are the same after a rebuild")
        }
    }

    @Test("bad input: a path that names nothing or no id is a 422 naming the entity, the path and the event; a missing document a 404; nothing is stored (SQLite)")
    func badInputOnSQLite() async throws { try await badInput(backend: .sqlite) }

    @Test("bad input: a path that names nothing or no id is a 422 naming the entity, the path and the event; a missing document a 404; nothing is stored (PostgreSQL)", TestPostgres.enabled)
    func badInputOnPostgres() async throws { try await badInput(backend: .postgres) }

    func badInput(backend: TestBackend) async throws {
        let projection = DeclarativeProjection(schema: try EntitySchema(yaml: ReadmeFanOut.section.schema))
        try await withServer(projection: projection, backend: backend) { server in
            #expect(try await server.post("/v1/streams/user-bgg7x", #"{"type":"UserCreated","data":{"email":"a@x"}}"#).status == 201)
            #expect(try await server.post("/v1/streams/mailingList-aXd45", #"{"type":"MailingListCreated","data":{"email":"a@x"}}"#).status == 201)
            let head = try await server.store.headPosition()
            func update(_ updated: String) async throws -> TestResponse {
                try await server.post("/v1/streams/user-bgg7x", #"{"type":"UserUpdated","data":{"email":"b@x","updated":\#(updated)}}"#)
            }
            let noID = try await update(#"[{"type":"MailingList","email":"b@x"},{"type":"User","_id":"bgg7x","email":"b@x"}]"#)
            #expect(noID.status == 422 && noID.json["code"] == "invalid-payload" && noID.json["entity"] == "mailingList" && noID.json["path"] == "$._id" && noID.json["eventType"] == "UserUpdated", "\(noID.body)")
            #expect(noID.body.contains("resolves to nothing"))
            let numeric = try await update(#"[{"type":"MailingList","_id":7,"email":"b@x"}]"#)
            #expect(numeric.status == 422 && numeric.json["path"] == "$._id" && numeric.body.contains("a JSON number"), "\(numeric.body)")
            let notArray = try await update(#"{"type":"User"}"#)
            #expect(notArray.status == 422 && notArray.json["path"] == "$.data.updated", "\(notArray.body)")
            let noEmail = try await update(#"[{"type":"User","_id":"bgg7x"}]"#)
            #expect(noEmail.status == 422 && noEmail.json["entity"] == "user" && noEmail.json["path"] == "$.email", "\(noEmail.body)")
            let missing = try await update(#"[{"type":"User","_id":"bgg7x","email":"b@x"},{"type":"MailingList","_id":"nope","email":"b@x"}]"#)
            #expect(missing.status == 404 && missing.json["code"] == "entity-not-found" && missing.json["entity"] == "mailingList" && missing.json["id"] == "nope", "\(missing.body)")
            #expect(try await server.store.headPosition() == head, "nothing of a refused append is stored")
            #expect(try await server.get("/v1/entities/user/bgg7x").json["state"]?["email"] == "a@x", "and no document changed")

            let declarative = try await server.post("/v1/events/UserUpdated", #"{"id":"bgg7x","updated":[]}"#)
            #expect(declarative.status == 422 && declarative.json["code"] == "no-home-entity", "\(declarative.body)")
            #expect(try await server.get("/v1/events/0/effects").status == 400)
            let beyond = try await server.get("/v1/events/\(head + 1)/effects")
            #expect(beyond.status == 400 && beyond.json["code"] == "moment-out-of-range", "\(beyond.body)")
            #expect(try await server.get("/v1/events/x/effects").status == 400)
            #expect(try await server.request(.DELETE, "/v1/streams/user-bgg7x?mode=hard").status == 200)
            let purged = try await server.get("/v1/events/1/effects")
            #expect(purged.status == 404 && purged.json["code"] == "event-not-found", "\(purged.body)")
        }
    }

    @Test("a schema whose paths cannot be parsed stops the server from starting, with the line; a live lifecycle is refused")
    func badSchema() async throws {
        #expect {
            _ = try EntitySchema(yaml: ReadmeFanOut.section.schema.replacingOccurrences(of: "id: $._id", with: "id: _id"), file: "fanout.yaml")
        } throws: { error in
            guard let error = error as? ChronicleError else { return false }
            return error.message.hasPrefix("fanout.yaml, line ") && error.message.contains("`id:` is the path")
        }
        let projection = DeclarativeProjection(schema: try EntitySchema(yaml: ReadmeFanOut.section.schema))
        #expect {
            _ = try InMemoryEventStore(projections: [ProjectionRegistration(projection, lifecycle: .live)])
        } throws: { ($0 as? ChronicleError)?.message.contains("live projection") == true }
    }
}
