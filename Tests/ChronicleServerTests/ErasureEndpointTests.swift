import ChronicleCore
import ChronicleProjections
import ChronicleTesting
import ChronicleTestSupport
import Foundation
import Testing

/// The README's "Forgetting a person" section, then a hunt for the erased values: every
/// HTTP surface, the export, the files of the data directory (SQLite) or a `pg_dump` of the
/// schema (PostgreSQL).
@Suite("HTTP: forgetting a person")
struct ErasureEndpointTests {
    static let section = ReadmeFanOut.section(heading: "### Forgetting a person", file: "people.yaml")

    @Test("the README's example, then no trace of the person on any surface, in the export or in any file of the data directory; verify and a rebuild agree (SQLite)")
    func readmeOnSQLite() async throws { try await readme(backend: .sqlite) }

    @Test("the README's example, then no trace of the person on any surface, in the export or in a pg_dump of the schema; verify and a rebuild agree (PostgreSQL)", TestPostgres.enabled)
    func readmeOnPostgres() async throws { try await readme(backend: .postgres) }

    func readme(backend: TestBackend) async throws {
        let section = Self.section
        #expect(section.requests.count == 6, "the README's section has its six curl lines")
        let projection = DeclarativeProjection(schema: try EntitySchema(yaml: section.schema))
        try await withServer(projection: projection, snapshotInterval: 2, backend: backend) { server in
            // The README's lines, with a marker no other data holds in place of Ada's values.
            let marker = "q\(UUID().uuidString.prefix(12).lowercased())"
            func marked(_ text: String) -> String {
                text.replacingOccurrences(of: "ada@example.com", with: "ada-\(marker)@example.com")
                    .replacingOccurrences(of: "Ada cannot log in", with: "\(marker) cannot log in")
                    .replacingOccurrences(of: "\"name\":\"Ada\"", with: "\"name\":\"Ada \(marker)\"")
            }
            var answers: [TestResponse] = []
            for request in section.requests {
                let answer = request.method == "POST" ? try await server.post(request.path, marked(request.body ?? "")) : try await server.get(request.path)
                answers.append(answer)
            }
            guard answers.count == 6 else { return }
            #expect(answers[0].status == 201 && answers[1].status == 201, "\(answers[0].body) \(answers[1].body)")
            #expect(answers[2].json["state"] == ["id": "ada", "email": .string("ada-\(marker)@example.com"), "name": .string("Ada \(marker)")], "\(answers[2].body)")
            let receipt = answers[3]
            #expect(receipt.status == 201, "\(receipt.body)")
            #expect(receipt.json["replayed"] == false)
            #expect(receipt.json["receipt"]?["subject"] == "ada" && receipt.json["receipt"]?["actor"] == "dpo@example.com")
            #expect(receipt.json["receipt"]?["events"] == 2 && receipt.json["receipt"]?["documents"] == 2, "\(receipt.body)")
            let erased: JSONValue = ["$erased": true]
            #expect(answers[4].json["state"] == ["id": "ada", "email": erased, "name": erased], "\(answers[4].body)")
            if case .array(let events)? = answers[5].json["events"] {
                #expect(events.first?["data"]?["email"] == erased && events.first?["data"]?["name"] == erased, "\(answers[5].body)")
            } else {
                Issue.record("no events: \(answers[5].body)")
            }
            guard case .string(let id)? = receipt.json["receipt"]?["id"] else { Issue.record("no receipt id: \(receipt.body)"); return }
            #expect(receipt.header("Location") == "/v1/erasures/\(id)")

            // The receipt, and erasing again.
            let fetched = try await server.get("/v1/erasures/\(id)")
            #expect(fetched.status == 200 && fetched.json == receipt.json["receipt"], "\(fetched.body)")
            let again = try await server.post("/v1/erasures", #"{"subject":"ada"}"#)
            #expect(again.status == 200 && again.json["replayed"] == true && again.json["receipt"] == receipt.json["receipt"], "\(again.body)")
            let unknown = try await server.get("/v1/erasures/\(UUID().uuidString)")
            #expect(unknown.status == 404 && unknown.json["code"] == "erasure-not-found", "\(unknown.body)")
            #expect(try await server.get("/v1/erasures/nope").status == 400)
            for bad in [#"{}"#, #"{"subject":""}"#, #"{"subject":7}"#, #"{"subject":"ada","actor":1}"#, #"[1]"#] {
                let answer = try await server.post("/v1/erasures", bad)
                #expect(answer.status == 400 && answer.json["code"] == "invalid-input", "\(bad): \(answer.body)")
            }

            // Every surface: nothing of Ada's values.
            let head = try await server.store.headPosition()
            var surfaces = [
                "/v1/streams/user-ada", "/v1/streams/ticket-t1", "/v1/log?after=0&limit=100", "/v1/entities/user/ada", "/v1/entities/user",
                "/v1/entities/ticket/t1", "/v1/entities/user/ada/history", "/v1/entities/user/ada/diff?from=0&to=0", "/v1/entities/user/ada/blame",
                "/v1/entities/user/ada?version=0", "/v1/changes?from=0&to=\(head)", "/v1/entities/user?asOf=2",
            ]
            for position in 1...head { surfaces += ["/v1/events/\(position)/effects", "/v1/entities/user/ada?asOf=\(position)", "/v1/entities/ticket/t1?asOf=\(position)"] }
            for path in surfaces {
                let answer = try await server.get(path)
                #expect(!answer.body.contains(marker), "\(path) shows the erased values: \(answer.body)")
            }
            let query = try await server.post("/v1/query", #"{"query":{"items":[]},"after":0,"limit":100}"#)
            #expect(query.status == 200 && !query.body.contains(marker))
            let feed = try await readEventStream(server, "/v1/subscribe?after=0") { events in events.filter { $0.id != nil }.count >= Int(head) }
            #expect(!feed.compactMap(\.data).joined().contains(marker))

            // The export (sealed), the hash chain, a rebuild.
            guard let store = server.store as? any ProjectionStore & LogArchive else { Issue.record("no archive"); return }
            var exported = ""
            var after: Int64 = 0
            while true {
                let page = try await store.exportLog(after: after, limit: 100)
                guard let last = page.last else { break }
                exported += page.map(\.jsonText).joined(separator: "\n")
                after = last.position
            }
            #expect(!exported.contains(marker) && exported.contains("$sealed"))
            #expect(try await store.verify().isIntact)
            let before = try await server.get("/v1/entities/user?includeDeleted=true").body
            #expect(try await server.request(.POST, "/v1/projections/entities/rebuild").status == 200)
            #expect(try await server.get("/v1/entities/user?includeDeleted=true").body == before)

            // The storage itself.
            switch backend {
            case .sqlite:
                let files = try FileManager.default.subpathsOfDirectory(atPath: server.directory)
                #expect(files.contains("chronicle.sqlite"))
                for file in files {
                    guard let data = FileManager.default.contents(atPath: server.directory + "/" + file) else { continue }
                    #expect(data.range(of: Data(marker.utf8)) == nil, "\(file) holds the erased values")
                }
            case .postgres:
                let dump = try await pgDump(schema: server.postgresSchema ?? "")
                #expect(dump.contains("subject_keys"), "the dump is of the store's schema")
                #expect(!dump.contains(marker), "pg_dump of the schema holds the erased values")
            }
        }
    }

    @Test("a hard delete leaves nothing of the purged events in any file of the data directory (SQLite)")
    func hardDeleteLeavesNoRemnant() async throws {
        try await withServer { server in
            let marker = "h\(UUID().uuidString.prefix(12).lowercased())"
            for index in 0..<20 {
                #expect(try await server.post("/v1/streams/misc-1", #"{"type":"Noted","data":{"text":"\#(marker) \#(index)"}}"#).status == 201)
                #expect(try await server.post("/v1/streams/misc-2", #"{"type":"Noted","data":{"text":"kept \#(index)"}}"#).status == 201)
            }
            let deleted = try await server.request(.DELETE, "/v1/streams/misc-1?mode=hard")
            #expect(deleted.status == 200, "\(deleted.body)")
            let files = try FileManager.default.subpathsOfDirectory(atPath: server.directory)
            var scanned = 0
            for file in files {
                guard let data = FileManager.default.contents(atPath: server.directory + "/" + file) else { continue }
                scanned += data.count
                #expect(data.range(of: Data(marker.utf8)) == nil, "\(file) holds a purged event")
            }
            #expect(scanned > 0)
            #expect(try await server.get("/v1/streams/misc-2").body.contains("kept 19"), "the other stream is intact")
        }
    }

    @Test("the schema's bad input: a number in a personal field or a subject path that names nothing is a 422 naming it; nothing is stored")
    func badInput() async throws {
        let projection = DeclarativeProjection(schema: try EntitySchema(yaml: Self.section.schema))
        try await withServer(projection: projection) { server in
            let number = try await server.post("/v1/events/UserRegistered", #"{"id":"x","email":5}"#)
            #expect(number.status == 422 && number.json["code"] == "invalid-payload" && number.json["pointer"] == "/email", "\(number.body)")
            let noSubject = try await server.post("/v1/events/TicketOpened", #"{"id":"t9","body":"hi"}"#)
            #expect(noSubject.status == 422 && noSubject.json["code"] == "invalid-payload" && noSubject.json["path"] == "$.data.userId", "\(noSubject.body)")
            #expect(noSubject.body.contains("resolves to nothing"))
            let forged = try await server.post("/v1/streams/user-x", #"{"type":"UserRegistered","data":{"email":{"$sealed":"x"}}}"#)
            #expect(forged.status == 400 && forged.body.contains("$sealed"), "\(forged.body)")
            #expect(try await server.store.headPosition() == 0)
        }
    }

    /// `pg_dump` of one schema of the test server, as text. The child's exit is polled, so no
    /// thread of the test process blocks on it (other tests share the cooperative pool).
    func pgDump(schema: String) async throws -> String {
        guard let configuration = TestPostgres.configuration else { throw ChronicleError(.invalidInput, "no PostgreSQL server") }
        let candidates = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql"))?.sorted().reversed().map { "/usr/lib/postgresql/\($0)/bin/pg_dump" } ?? []
        guard let tool = (candidates + ["/usr/bin/pg_dump"]).first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw ChronicleError(.invalidInput, "pg_dump is not installed")
        }
        var environment = ProcessInfo.processInfo.environment
        if let password = configuration.password { environment["PGPASSWORD"] = password }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("chronicle-pgdump-\(UUID().uuidString).sql")
        defer { try? FileManager.default.removeItem(at: file) }
        _ = FileManager.default.createFile(atPath: file.path, contents: nil)
        let arguments = ["-h", configuration.host, "-p", String(configuration.port), "-U", configuration.username, "-d", configuration.database ?? configuration.username, "-n", schema]
        let process = try ChildProcess(executable: URL(fileURLWithPath: tool), arguments: arguments, environment: environment, stdin: .nullDevice, stdout: try FileHandle(forWritingTo: file), stderr: .nullDevice)
        try await withDeadline(seconds: 240, "pg_dump to finish") {
            while process.isRunning { try await Task.sleep(for: .milliseconds(20)) }
        }
        #expect(process.terminationStatus == 0, "pg_dump failed")
        return try String(contentsOf: file, encoding: .utf8)
    }
}
