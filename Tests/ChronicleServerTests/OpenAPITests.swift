import ChronicleCore
import ChronicleServer
import Foundation
import Testing

/// The OpenAPI document is the resource file `Sources/ChronicleServer/Resources/openapi.json`;
/// these tests hold it to the server: the same operations as the router, and limits as strict.
@Suite("OpenAPI: the resource file is served, matches the router, and is as strict as the server")
struct OpenAPITests {
    static let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Sources/ChronicleServer/Resources/openapi.json")
    static let methods: Set<String> = ["get", "put", "post", "delete", "options", "head", "patch", "trace"]

    static func document() throws -> JSONValue {
        try JSONValue(parsing: Data(contentsOf: file))
    }

    /// The value at a path of object keys.
    static func at(_ value: JSONValue?, _ keys: String...) -> JSONValue? {
        keys.reduce(value) { $0?[$1] }
    }

    /// A schema's `pattern`, as a regular expression over Unicode scalars (JSON Schema patterns
    /// are ECMA-262 with Unicode semantics).
    static func pattern(_ schema: JSONValue?) throws -> Regex<AnyRegexOutput> {
        guard case .string(let text)? = schema?["pattern"] else { throw ChronicleError(.invalidInput, "no pattern in \(String(describing: schema))") }
        return try Regex(text).matchingSemantics(.unicodeScalar)
    }

    @Test("GET /openapi.json serves the resource file byte for byte, as application/json")
    func servesTheFile() async throws {
        let file = try String(contentsOf: Self.file, encoding: .utf8)
        try await withServer { server in
            let response = try await server.get("/openapi.json")
            #expect(response.status == 200)
            #expect(response.header("Content-Type") == "application/json")
            #expect(response.body == file)
            #expect(response.json["openapi"] == "3.1.0")
        }
    }

    /// A route with its parameters' names left out: Hummingbird's router keeps one name per
    /// position of its tree (`/v1/events/{type}` and the effects of `/v1/events/{position}`
    /// share one), where the document names each operation's parameter for what it is.
    static func unnamed(_ route: String) -> String {
        route.replacing(/\{[^}]*\}/, with: "{}")
    }

    @Test("the router's routes are exactly the document's operations, both ways")
    func routesMatchTheDocument() throws {
        let server = ChronicleServer(store: InMemoryEventStore(), configuration: .init(), logger: serverTestLogger)
        let served = Set(server.routes.map { Self.unnamed($0.description) })
        #expect(served.count == server.routes.count, "the router lists a route twice")
        let paths = try #require(Self.at(try Self.document(), "paths")?.objectValue)
        let documented = Set(paths.flatMap { path, item in
            (item.objectValue ?? [:]).keys.filter(Self.methods.contains).map { Self.unnamed("\($0.uppercased()) \(path)") }
        })
        #expect(served.count > 20, "the route table looks empty: \(served.sorted())")
        for route in served.subtracting(documented).sorted() {
            Issue.record("\(route) is served but not in openapi.json")
        }
        for route in documented.subtracting(served).sorted() {
            Issue.record("\(route) is in openapi.json but the server does not serve it")
        }
    }

    @Test("every path parameter of a documented path is declared, and every declared one is in the path")
    func pathParametersAreDeclared() throws {
        let document = try Self.document()
        let parameters = Self.at(document, "components", "parameters")
        for (path, item) in try #require(Self.at(document, "paths")?.objectValue) {
            let inPath = Set(path.split(separator: "/").filter { $0.hasPrefix("{") }.map { String($0.dropFirst().dropLast()) })
            var list: [JSONValue] = []
            if case .array(let items)? = item["parameters"] { list = items }
            let declared = list.compactMap { parameter -> String? in
                var parameter = parameter
                if case .string(let reference)? = parameter["$ref"], let name = reference.split(separator: "/").last {
                    parameter = parameters?[String(name)] ?? .null
                }
                guard parameter["in"] == "path", case .string(let name)? = parameter["name"] else { return nil }
                return name
            }
            #expect(Set(declared) == inPath, "\(path) declares path parameters \(declared.sorted()), the path has \(inPath.sorted())")
        }
    }

    @Test("the stream-name schema accepts exactly the names the server accepts", arguments: [
        "user-1", "a", "-", "a$", "ü-ñ", "日本-1", "order-2024/07", String(repeating: "a", count: 200),
        "", "$streams", "user 1", "user\t1", "user\n1", "x\u{200B}y", "a\u{85}b", "a\u{A0}b", "a\u{7F}", "a\u{FEFF}", "a\u{2028}b",
        String(repeating: "a", count: 201),
        // Not assigned yet (plane 5), private use, astral format: accepted, whatever Unicode version.
        "a\u{50000}", "\u{F0000}-1", "a\u{E0001}",
        // Invisible format characters of the basic plane: refused.
        "a\u{600}b", "a\u{6DD}", "a\u{890}", "a\u{8E2}", "a\u{FFF9}", "a\u{AD}b", "a\u{2066}b",
        // Length in code points, as maxLength counts: 150 letters with a combining accent are 300.
        String(repeating: "e\u{301}", count: 100), String(repeating: "e\u{301}", count: 101),
    ])
    func streamNamePattern(_ name: String) throws {
        let schema = Self.at(try Self.document(), "components", "schemas", "StreamName")
        let length = name.unicodeScalars.count
        let documented = try length >= 1 && length <= 200 && Self.pattern(schema).wholeMatch(in: name) != nil
        #expect(schema?["minLength"] == 1 && schema?["maxLength"] == 200)
        #expect(documented == ((try? StreamName(name)) != nil), "openapi.json \(documented ? "accepts" : "refuses") \(name.debugDescription), the server does not")
    }

    @Test("tags, event types and the entity and id of entity paths use the stream names' characters; sort names letters, digits and _")
    func namePatternsAgree() throws {
        let document = try Self.document()
        guard case .string(let streamName)? = Self.at(document, "components", "schemas", "StreamName", "pattern"),
              let open = streamName.firstIndex(of: "["), let close = streamName.firstIndex(of: "]") else {
            Issue.record("StreamName has no pattern of the form ^[...][...]*$")
            return
        }
        let characters = streamName[streamName.index(after: open)..<close].replacingOccurrences(of: "$", with: "")
        let anyName = "^[\(characters)]+$"
        #expect(Self.at(document, "components", "schemas", "EventType", "pattern") == .string(streamName))
        #expect(Self.at(document, "components", "schemas", "Tag", "pattern") == .string(anyName))
        for path in ["/v1/entities/{entity}", "/v1/entities/{entity}/{id}", "/v1/entities/{entity}/{id}/history", "/v1/entities/{entity}/{id}/diff", "/v1/entities/{entity}/{id}/blame"] {
            guard case .array(let parameters)? = Self.at(document, "paths", path, "parameters") ?? Self.at(document, "paths", path, "get", "parameters") else {
                Issue.record("\(path) has no parameters")
                continue
            }
            for parameter in parameters where parameter["in"] == "path" {
                #expect(parameter["schema"]?["pattern"] == .string(anyName), "\(path) \(parameter["name"] ?? .null)")
            }
        }
        guard case .array(let listParameters)? = Self.at(document, "paths", "/v1/entities/{entity}", "get", "parameters") else {
            Issue.record("GET /v1/entities/{entity} has no parameters")
            return
        }
        let sort = try #require(listParameters.first { $0["name"] == "sort" })
        for (field, valid) in [("name", true), ("-created_at", true), ("", false), ("-", false), ("a.b", false), ("a b", false)] {
            #expect((try Self.pattern(sort["schema"]).wholeMatch(in: field) != nil) == valid, "sort=\(field)")
        }
    }

    @Test("the If-Match schema accepts exactly the stream ETags the server accepts", arguments: [
        "\"3\"", "\"0\"", "\"1234567\"", "*", "3", "W/\"3\"", "\"1\", \"2\"", "\"\"", "\"-1\"", "\"abc\"", "'3'",
    ])
    func ifMatchPattern(_ header: String) throws {
        let schema = Self.at(try Self.document(), "components", "parameters", "IfMatch", "schema")
        let documented = try Self.pattern(schema).wholeMatch(in: header) != nil
        #expect(documented == ((try? EventRequests.ifMatch(header)) != nil), "openapi.json \(documented ? "accepts" : "refuses") If-Match \(header), the server does not")
    }

    @Test("event arrays are non-empty and capped at the server's default events per request")
    func eventArrayLimits() throws {
        let document = try Self.document()
        let limit = Int64(ChronicleServer.Configuration().maximumEventsPerRequest)
        let streamBody = Self.at(document, "paths", "/v1/streams/{stream}", "post", "requestBody", "content", "application/json", "schema", "oneOf")
        guard case .array(let shapes)? = streamBody, shapes.count == 3 else {
            Issue.record("POST /v1/streams/{stream} takes an event, an array of events or {expectedRevision, events}")
            return
        }
        let appendPart = Self.at(document, "paths", "/v1/append", "post", "requestBody", "content", "application/json", "schema", "properties", "streams")
        #expect(appendPart?["minItems"] == 1)
        for array in [shapes[1], shapes[2]["properties"]?["events"], appendPart?["items"]?["properties"]?["events"]] {
            #expect(array?["minItems"] == 1)
            #expect(array?["maxItems"] == .integer(limit))
        }
    }

    @Test("the problem schema lists the write path's codes and rule-violated's members")
    func problemCodes() throws {
        let problem = Self.at(try Self.document(), "components", "schemas", "Problem")
        guard case .array(let codes)? = problem?["properties"]?["code"]?["enum"] else {
            Issue.record("the problem schema has no code enum")
            return
        }
        for code in ["entity-not-found", "undeclared-event-type", "invalid-payload", "rule-violated", "wrong-expected-revision"] {
            #expect(codes.contains(.string(code)), "\(code) is not a documented problem code")
        }
        for member in ["rule", "entity", "id"] {
            #expect(problem?["properties"]?[member]?["type"] == "string", "the problem schema has no \(member) member")
        }
    }
}
