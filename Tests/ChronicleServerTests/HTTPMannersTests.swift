import ChronicleCore
import ChronicleServer
import Foundation
import Testing

/// What HTTP says a server does, and what clients and browsers rely on.
@Suite("HTTP: methods, HEAD, CORS, paging links, append answers")
struct HTTPMannersTests {
    @Test("a known path with a method it does not serve is a 405 with Allow; an unknown path stays a 404")
    func methodNotAllowed() async throws {
        try await withServer { server in
            let put = try await server.request(.PUT, "/v1/streams/user-1", body: "{}")
            #expect(put.status == 405)
            #expect(put.header("Allow") == "DELETE, GET, HEAD, POST", "\(put.headers)")
            #expect(put.json["code"] == "method-not-allowed")
            let trace = try await server.request(.TRACE, "/health/live")
            #expect(trace.status == 405 && trace.header("Allow") == "GET, HEAD")
            let root = try await server.request(.TRACE, "/")
            #expect(root.status == 405 && root.header("Allow") == "GET, HEAD", "the root path too")
            let entity = try await server.request(.PATCH, "/v1/entities/user/ada")
            #expect(entity.status == 405 && entity.header("Allow") == "GET, HEAD")
            let unknown = try await server.request(.PUT, "/v1/nothing-here")
            #expect(unknown.status == 404 && unknown.json["code"] == "route-not-found")
        }
    }

    @Test("HEAD answers where GET does, with the headers and no body")
    func head() async throws {
        try await withServer { server in
            #expect(try await server.post("/v1/streams/user-1", #"{"type":"UserCreated"}"#).status == 201)
            let head = try await server.request(.HEAD, "/v1/streams/user-1")
            #expect(head.status == 200)
            #expect(head.header("ETag") == "\"0\"")
            #expect(head.body.isEmpty)
            #expect(try await server.request(.HEAD, "/health/ready").status == 200)
            #expect(try await server.request(.HEAD, "/v1/streams/user-404").status == 404)
        }
    }

    @Test("CORS: the configured origins get a preflight answer and allow headers; others and a default server get none")
    func cors() async throws {
        let origin = "https://app.example.com"
        try await withServer(.init(port: 0, corsOrigins: [origin])) { server in
            let preflight = try await server.request(.OPTIONS, "/v1/streams/user-1", headers: [("Origin", origin), ("Access-Control-Request-Method", "POST"), ("Access-Control-Request-Headers", "content-type, if-match")])
            #expect(preflight.status == 204)
            #expect(preflight.header("Access-Control-Allow-Origin") == origin)
            #expect(preflight.header("Access-Control-Allow-Methods")?.contains("POST") == true)
            #expect(preflight.header("Access-Control-Allow-Headers")?.contains("If-Match") == true)
            let append = try await server.post("/v1/streams/user-1", #"{"type":"UserCreated"}"#, headers: [("Origin", origin)])
            #expect(append.status == 201 && append.header("Access-Control-Allow-Origin") == origin)
            #expect(append.header("Access-Control-Expose-Headers")?.contains("Location") == true)
            let problem = try await server.get("/v1/streams/user-404", headers: [("Origin", origin)])
            #expect(problem.status == 404 && problem.header("Access-Control-Allow-Origin") == origin, "errors carry CORS headers too")
            let other = try await server.get("/v1/streams/user-1", headers: [("Origin", "https://evil.example")])
            #expect(other.status == 200 && other.header("Access-Control-Allow-Origin") == nil)
            let otherPreflight = try await server.request(.OPTIONS, "/v1/streams/user-1", headers: [("Origin", "https://evil.example"), ("Access-Control-Request-Method", "POST")])
            #expect(otherPreflight.header("Access-Control-Allow-Origin") == nil)
        }
        try await withServer { server in
            let plain = try await server.get("/health/live", headers: [("Origin", origin)])
            #expect(plain.header("Access-Control-Allow-Origin") == nil, "no origins by default")
        }
    }

    @Test("JSON and problem bodies end with a newline")
    func trailingNewline() async throws {
        try await withServer { server in
            let json = try await server.get("/health/live").body
            let problem = try await server.get("/v1/streams/user-404").body
            #expect(json.hasSuffix("}\n") && problem.hasSuffix("}\n"))
        }
    }

    @Test("paged reads carry Link rel=next beside next, and following it reads the rest")
    func linkNext() async throws {
        try await withServer { server in
            let events = (0..<3).map { #"{"type":"E\#($0)"}"# }.joined(separator: ",")
            #expect(try await server.post("/v1/streams/user-1", "[\(events)]").status == 201)
            let first = try await server.get("/v1/streams/user-1?limit=2")
            #expect(first.header("Link") == #"</v1/streams/user-1?limit=2&from=2>; rel="next""#, "\(first.headers)")
            let link = try #require(first.header("Link"))
            let target = String(link.dropFirst().prefix { $0 != ">" })
            let second = try await server.get(target)
            guard case .array(let rest)? = second.json["events"] else { Issue.record("\(second.body)"); return }
            #expect(rest.count == 1 && second.header("Link") == nil, "the last page has no next link")
            let log = try await server.get("/v1/log?limit=1&type=E0")
            #expect(log.header("Link") == #"</v1/log?limit=1&type=E0&after=1>; rel="next""#, "\(log.headers)")
        }
    }

    @Test("append answers carry the event ids; a replayed append answers 200 with replayed, a new one 201")
    func appendAnswers() async throws {
        try await withServer { server in
            let id = UUID.timeOrdered().uuidString.lowercased()
            let body = #"{"type":"UserCreated","id":"\#(id)"}"#
            let first = try await server.post("/v1/streams/user-1", body)
            #expect(first.status == 201)
            #expect(first.json["eventIds"] == [.string(id)] && first.json["replayed"] == false, "\(first.body)")
            let again = try await server.post("/v1/streams/user-1", body)
            #expect(again.status == 200 && again.json["replayed"] == true, "\(again.body)")
            #expect(again.json["lastPosition"] == first.json["lastPosition"])
            let generated = try await server.post("/v1/streams/user-2", #"{"type":"UserCreated"}"#)
            guard case .array(let ids)? = generated.json["eventIds"], case .string(let given)? = ids.first else { Issue.record("\(generated.body)"); return }
            let read = try await server.get("/v1/streams/user-2")
            #expect(read.body.contains(given), "the id in the answer is the stored event's")
            let multi = #"{"streams":[{"stream":"order-1","events":[{"type":"OrderPlaced","id":"\#(UUID.timeOrdered().uuidString)"}]}]}"#
            let stored = try await server.post("/v1/append", multi)
            #expect(stored.status == 201)
            guard case .array(let parts)? = stored.json["streams"] else { Issue.record("\(stored.body)"); return }
            #expect(parts.allSatisfy { $0["replayed"] == false && $0["eventIds"] != nil }, "each stream's part says it, never null")
            let replayed = try await server.post("/v1/append", multi)
            #expect(replayed.status == 200 && replayed.json["replayed"] == true, "\(replayed.body)")
        }
    }
}
