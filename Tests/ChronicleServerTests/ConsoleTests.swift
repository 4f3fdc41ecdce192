import ChronicleCore
import ChronicleProjections
import ChronicleReactors
import ChronicleServer
import ChronicleTestSupport
import Foundation
import Synchronization
import Testing

/// The web console at `/` and `/client.js` (issues 14 and 17): what the server serves, and
/// the pages themselves in headless Chromium against a real server on loopback.
@Suite("Console: the web console and /client.js")
struct ConsoleTests {
    static let adminKey = "console-admin-key-0123456789"
    static let readKey = "console-read-key-0123456789"
    static let writeKey = "console-write-key-0123456789"

    static func keys() throws -> APIKeys {
        try APIKeys([(adminKey, .admin), (readKey, .read), (writeKey, .write)])
    }

    @Test("/ is the console for a browser (Accept: text/html) and the JSON index for an API client; its files and /client.js are served with a same-origin policy")
    func servesTheFiles() async throws {
        try await withServer(.init(port: 0, apiKeys: try Self.keys())) { server in
            let page = try await server.get("/", headers: [("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")])
            #expect(page.status == 200)
            #expect(page.header("Content-Type") == "text/html; charset=utf-8")
            #expect(page.body.contains("<script type=\"module\" src=\"/console/app.js\"></script>"))
            #expect(page.header("Content-Security-Policy")?.contains("default-src 'self'") == true)
            #expect(page.header("Vary") == "Accept")
            for accept in [nil, "application/json", "*/*", "text/html;q=0"] as [String?] {
                let index = try await server.get("/", headers: accept.map { [("Accept", $0)] } ?? [])
                #expect(index.status == 200 && index.header("Content-Type") == "application/json", "Accept \(accept ?? "none")")
                #expect(index.json["openapi"] == "/openapi.json")
            }
            let client = try await server.get("/client.js")
            #expect(client.status == 200 && client.header("Content-Type") == "text/javascript; charset=utf-8")
            #expect(client.body.contains("export class Chronicle") && client.body.contains("export class ChronicleError"))
            for file in ["app.js", "console.css", "ui.js", "overview.js", "log.js", "entities.js", "timeline.js", "moment.js", "blame.js", "changes.js", "patch.js", "reactors.js"] {
                let asset = try await server.get("/console/\(file)")
                #expect(asset.status == 200, "\(file): \(asset.status)")
                #expect(asset.header("Content-Type")?.hasPrefix(file.hasSuffix(".css") ? "text/css" : "text/javascript") == true, "\(file)")
            }
            let missing = try await server.get("/console/nothing.js")
            #expect(missing.status == 404 && missing.header("Content-Type") == "application/problem+json")
        }
    }

    @Test("/v1/whoami tells the console whether it needs a key and what the key may do")
    func whoami() async throws {
        try await withServer(.init(port: 0, apiKeys: try Self.keys())) { server in
            let none = try await server.get("/v1/whoami")
            #expect(none.status == 200 && none.json == ["keys": true, "role": .null], "\(none.body)")
            for (key, role) in [(Self.readKey, "read"), (Self.writeKey, "write"), (Self.adminKey, "admin")] {
                let answer = try await server.get("/v1/whoami", key: key)
                #expect(answer.json == ["keys": true, "role": .string(role)], "\(answer.body)")
            }
            let wrong = try await server.get("/v1/whoami", key: "not-a-key-of-this-server")
            #expect(wrong.status == 401 && wrong.json["code"] == "unauthorized")
        }
        try await withServer { server in
            let open = try await server.get("/v1/whoami")
            #expect(open.json == ["keys": false, "role": "admin"], "\(open.body)")
        }
    }

    static let schema = """
        entities:
          user:
            events:
              UserCreated: create
              UserUpdatedEmailAddress: merge
              UserEmailVerified: { set: { emailVerified: true } }
              UserDeleted: delete
          invoice:
            events:
              InvoiceIssued: create
              InvoiceSent: { set: { sent: true } }
        """

    struct Down: Error, CustomStringConvertible {
        var service: String
        var description: String { "\(service) answered 503" }
    }

    /// A flag the test flips while a reactor reads it.
    final class Switch: Sendable {
        private let state: Mutex<Bool>
        init(_ on: Bool) { state = Mutex(on) }
        var isOn: Bool {
            get { state.withLock { $0 } }
            set { state.withLock { $0 = newValue } }
        }
    }

    static let browserScript = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Browser/console_test.py")

    @Test("in headless Chromium: every page loads without console errors or foreign requests, the live log shows an append within 2 s, the slider shows version 0 and the head, the as-of slider shows the lists as they were, the changes between two moments and the blame of each field, a parked event is retried, a read key sees no write buttons, and client.js makes every call", TestBrowser.enabled)
    func inTheBrowser() async throws {
        guard case .success(let tools) = await TestBrowser.find() else {
            throw TestBrowser.Unusable(description: "the browser tools went away")
        }
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("chronicle-console-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
        print("console browser test: screenshots and logs in \(output.path)")

        // billing fails until the test says otherwise (one attempt: its first event is parked);
        // audit always fails, so a parked event stays for the read key to look at.
        let billingDown = Switch(true)
        let billing = Reactor(name: "billing", filter: LogFilter(types: ["InvoiceIssued"]), startsAtBeginning: true, maximumAttempts: 1) { delivery in
            if billingDown.isOn { throw Down(service: "the billing service") }
            return [ReactorOutcome(stream: delivery.event.stream, events: [EventData(type: "InvoiceSent", data: ["via": "billing"])])]
        }
        let audit = Reactor(name: "audit", filter: LogFilter(types: ["UserDeleted"]), startsAtBeginning: true, maximumAttempts: 1) { _ in
            throw Down(service: "the audit service")
        }
        let projection = DeclarativeProjection(schema: try EntitySchema(yaml: Self.schema))
        try await withServer(.init(port: 0, apiKeys: try Self.keys()), projection: projection, reactors: [billing, audit]) { server in
            let key = Self.adminKey
            for (stream, body) in [
                ("user-ada", #"{"type":"UserCreated","data":{"name":"Ada","email":"ada@example.com"}}"#),
                ("user-ada", #"{"type":"UserUpdatedEmailAddress","data":{"email":"ada@lovelace.org"}}"#),
                ("user-ada", #"{"type":"UserEmailVerified"}"#),
                ("user-bob", #"{"type":"UserCreated","data":{"name":"Bob","email":"bob@example.com"}}"#),
                ("user-bob", #"{"type":"UserDeleted"}"#),
                ("invoice-7", #"{"type":"InvoiceIssued","data":{"amount":42}}"#),
            ] {
                let answer = try await server.post("/v1/streams/\(stream)", body, key: key)
                #expect(answer.status == 201, "\(stream): \(answer.body)")
            }
            try await poll("billing and audit to park their events") {
                let reactors = try await server.get("/v1/reactors", key: key).json["reactors"]
                guard case .array(let list)? = reactors else { return false }
                return list.allSatisfy { $0["parked"] == 1 }
            }
            billingDown.isOn = false

            var environment = ProcessInfo.processInfo.environment
            environment["CHRONICLE_URL"] = server.base
            environment["CHRONICLE_ADMIN_KEY"] = Self.adminKey
            environment["CHRONICLE_READ_KEY"] = Self.readKey
            environment["CHRONICLE_WRITE_KEY"] = Self.writeKey
            environment["CHRONICLE_OUTPUT"] = output.path
            environment["CHRONICLE_CHROMIUM"] = tools.chromium
            environment["CHRONICLE_CHROMEDRIVER"] = tools.chromedriver
            environment["PYTHONUNBUFFERED"] = "1"
            environment["PYTHONDONTWRITEBYTECODE"] = "1"
            let run = try await TestBrowser.run(tools.python, [Self.browserScript.path], environment: environment, seconds: 900)
            try? run.output.write(to: output.appendingPathComponent("console_test.log"), atomically: true, encoding: .utf8)
            print(run.output)
            #expect(run.status == 0, "the browser script failed (exit \(run.status)); its output:\n\(run.output)")

            // What the page did is in the store: the retried event was delivered (its outcome
            // is stored, nothing of billing's is parked), audit's event is still parked.
            let parked = try await server.get("/v1/reactors/billing/parked", key: key)
            #expect(parked.json["parked"] == [], "\(parked.body)")
            let sent = try await server.get("/v1/entities/invoice/7", key: key)
            #expect(sent.json["state"]?["sent"] == true, "\(sent.body)")
            // Bob's deletion, and the user client.js deleted to see a parked outcome.
            #expect(try await server.get("/v1/reactors/audit", key: key).json["parked"] == 2)
            for page in ["overview", "log", "entity", "asof", "blame", "changes", "reactors", "read-only-reactors"] {
                #expect(FileManager.default.fileExists(atPath: output.appendingPathComponent("\(page).png").path), "no screenshot of \(page)")
            }
        }
    }
}
