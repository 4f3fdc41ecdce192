import ChronicleCore
import Foundation
import Testing

@Suite("chronicle append --tag and chronicle query")
struct QueryCLITests {
    @Test("tags from the CLI; a query by types and tags on a data directory and on a server; bad queries are one line and exit 64")
    func query() async throws {
        try await withCLI { cli in
            #expect(try await cli.run("append", "user-ada", "UserRegistered", "{}", "--tag", "user:ada", "--tag", "username:ada").status == 0)
            #expect(try await cli.run("append", "user-ada", "UserEmailVerified", "{}", "--tag", "user:ada").status == 0)
            #expect(try await cli.run("append", "user-bob", "UserEmailVerified", "{}", "--tag", "user:bob").status == 0)
            let local = try await cli.run("query", "--type", "UserEmailVerified", "--tag", "user:ada")
            #expect(local.status == 0, "\(local.stderr)")
            #expect(local.lines.count == 2 && local.lines[0].hasPrefix("2\t") && local.lines[0].hasSuffix("\tuser:ada"), "\(local.stdout)")
            #expect(local.lines.last == "head 3", "\(local.stdout)")
            let json = try await cli.run("query", "--query", #"{"items":[{"tags":["username:ada"]},{"tags":["user:bob"]}]}"#, "--json")
            let answer = try jsonObject(json.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
            guard case .array(let events)? = answer["events"] else { Issue.record("\(json.stdout)"); return }
            #expect(events.map { $0["position"] } == [1, 3] && answer["head"] == 3)
            #expect(events.first?["tags"] == ["user:ada", "username:ada"])

            let badTag = try await cli.run("append", "user-x", "UserRegistered", "{}", "--tag", "has space")
            #expect(badTag.status != 0 && badTag.stderr.contains("UserRegistered"), "\(badTag.stderr)")
            let badQuery = try await cli.run("query", "--query", #"{"items":[{"kinds":[]}]}"#)
            #expect(badQuery.status == 64 && badQuery.stderr.contains("kinds"), "\(badQuery.stderr)")

            let (url, server, _) = try await ServeCLITests().startServer(cli, [])
            defer { if server.isRunning { server.terminate() } }
            let remote = CLI(data: cli.data + "-unused")
            #expect(try await remote.run(arguments: ["append", "user-ada", "UserEmailUnverified", "{}", "--tag", "user:ada", "--server", url]).status == 0)
            let remoteQuery = try await remote.run(arguments: ["query", "--type", "UserEmailVerified", "--type", "UserEmailUnverified", "--tag", "user:ada", "--server", url])
            #expect(remoteQuery.lines.count == 3 && remoteQuery.lines[1].contains("UserEmailUnverified") && remoteQuery.lines.last == "head 4", "\(remoteQuery.stdout) \(remoteQuery.stderr)")
            server.terminate()
            try await waitForExit(server, seconds: 60)
        }
    }
}
