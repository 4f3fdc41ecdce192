import ChronicleCore
import ChronicleSQLite
import Foundation
import Logging
import Testing

@Suite("chronicle export and import")
struct ArchiveCLITests {
    @Test("export then import into a fresh directory gives the same log, with progress; bad files store nothing")
    func roundTrip() async throws {
        try await withCLI { cli in
            do {
                let store = try SQLiteEventStore(directory: cli.data, logger: Logger(label: "test"))
                for index in 0..<25 {
                    try await store.append(to: StreamName("item-\(index % 4)"), [EventData(type: "Added", data: ["n": .integer(Int64(index))])])
                }
                _ = try await store.delete(StreamName("item-2"), mode: .hard, expected: .any)
                _ = try await store.delete(StreamName("item-3"), mode: .soft, expected: .any)
            }
            let file = cli.data + "-export.ndjson"
            defer { try? FileManager.default.removeItem(atPath: file) }
            let export = try await cli.run("export", "--output", file)
            #expect(export.status == 0, "\(export.stderr)")
            #expect(export.stderr.contains("export: 100%") && export.stderr.contains("exported"), "progress on stderr: \(export.stderr)")
            let lines = try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n")
            #expect(lines.count == 28 && lines.filter { $0.contains("\"purged\"") }.count == 6, "27 entries and the closing line")
            #expect(lines.last == #"{"exportEnd":{"entries":27,"headPosition":27,"parkedEvents":0,"reactorCheckpoints":0}}"#, "\(lines.last ?? "")")

            let restored = CLI(data: cli.data + "-restored")
            defer { try? FileManager.default.removeItem(atPath: restored.data) }
            let imported = try await restored.run("import", file)
            #expect(imported.status == 0, "\(imported.stderr)")
            #expect(imported.stderr.contains("hash chain intact"))
            #expect(try await restored.run("log", "--json").stdout == (try await cli.run("log", "--json").stdout))
            #expect(try await restored.run("verify").status == 0)
            #expect(try await restored.run("read", "item-3").status == 1, "the soft delete came along")

            let again = try await restored.run("import", file)
            #expect(again.status == 1 && again.stderr.contains("not empty"), "\(again.stderr)")

            let tamperedFile = file + ".tampered"
            defer { try? FileManager.default.removeItem(atPath: tamperedFile) }
            try String(contentsOfFile: file, encoding: .utf8).replacingOccurrences(of: #"{"n":5}"#, with: #"{"n":500}"#).write(toFile: tamperedFile, atomically: true, encoding: .utf8)
            let damaged = CLI(data: cli.data + "-damaged")
            defer { try? FileManager.default.removeItem(atPath: damaged.data) }
            let refused = try await damaged.run("import", tamperedFile)
            #expect(refused.status == 1 && refused.stderr.contains("breaks the hash chain"), "\(refused.stderr)")
            #expect(try await damaged.run("log", "--json").stdout.isEmpty, "a refused import stores nothing")
            // A malformed line after good ones: refused, naming its line, and the good lines
            // before it are not stored either.
            var mixed = lines.prefix(3).map(String.init)
            mixed.append(#"{"not":"an event"}"#)
            mixed += lines.dropFirst(3).map(String.init)
            let garbage = try await damaged.run("import", "-", input: mixed.joined(separator: "\n") + "\n")
            #expect(garbage.status == 1 && garbage.stderr.contains("line 4"), "\(garbage.stderr)")
            #expect(try await damaged.run("log", "--json").stdout.isEmpty, "a refused import stores nothing, not even the lines before the bad one")
            let good = try await damaged.run("import", file)
            #expect(good.status == 0, "the directory is still empty, so the good file imports: \(good.stderr)")
        }
    }
}
