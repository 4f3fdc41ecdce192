import ArgumentParser
import ChronicleCore
import Foundation

struct Export: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write the whole log as NDJSON: a complete backup (read models are rebuilt from it).",
        discussion: """
            One event per line (with position, id, revision, time and hash); hard-deleted events appear as {"purged": position, "hash": …} so the chain still verifies. \
            Then each reactor's checkpoint ({"reactorCheckpoint": …}) and parked event ({"parkedEvent": …}), so a restored store does not deliver again what was delivered, \
            and a last line {"exportEnd": …} with the counts, so a file cut short is refused. Progress goes to stderr.
            """
    )

    @Option(help: ArgumentHelp("Write to this file instead of stdout.", valueName: "file"))
    var output: String?

    @Option(help: ArgumentHelp("Write the log only up to this position or RFC 3339 instant: import it elsewhere to fork the store there (\"what if\").", valueName: "moment"))
    var until: String?

    @Option(help: ArgumentHelp("Also write the personal-data keys (each subject's key in the clear, and the subjects erased so far) to this separate file; keep it as safe as the master key. Without it the export holds personal fields sealed, unreadable once restored.", valueName: "file"))
    var includeKeys: String?

    @OptionGroup var options: StoreOptions

    func run() async throws {
        let output = output
        var moment: LogMoment?
        if let until {
            guard let parsed = LogMoment(parsing: until) else {
                throw CommandFailure(message: "--until must be a log position (0 or more) or an RFC 3339 instant such as 2026-11-27T10:00:00Z; got \(until.debugDescription).")
            }
            moment = parsed
        }
        try await options.withStore { store in
            let head = try await store.headPosition()
            let total = try await moment?.position(in: store, name: "--until") ?? head
            let handle: FileHandle
            if let output {
                guard FileManager.default.createFile(atPath: output, contents: nil), let file = FileHandle(forWritingAtPath: output) else {
                    throw CommandFailure(message: "cannot write \(output); check the path and its permissions.")
                }
                handle = file
            } else {
                handle = FileHandle.standardOutput
            }
            let progress = ProgressBar(label: "export", total: Int(total))
            var after: Int64 = 0
            var written = 0
            while true {
                let page = try await store.exportLog(after: after, limit: 5000).filter { $0.position <= total }
                guard let last = page.last else { break }
                var chunk = ""
                for entry in page {
                    chunk += entry.jsonText
                    chunk += "\n"
                }
                handle.write(Data(chunk.utf8))
                written += page.count
                after = last.position
                progress.update(Int(after))
            }
            // Read after the log: reactors that moved on meanwhile are cut back to the exported
            // head (what they did after it concerns events this export lacks).
            let reactors = try await store.exportReactors().cut(at: after)
            let summary = ArchiveSummary(entries: written, headPosition: after, reactorCheckpoints: reactors.checkpoints.count, parkedEvents: reactors.parked.count)
            var chunk = ""
            for record in reactors.records + [.end(summary)] {
                chunk += record.jsonText
                chunk += "\n"
            }
            handle.write(Data(chunk.utf8))
            if output != nil { try handle.close() }
            if let includeKeys {
                let keys = try await store.exportSubjectKeys()
                guard FileManager.default.createFile(atPath: includeKeys, contents: Data(keys.text.utf8), attributes: [.posixPermissions: 0o600]) else {
                    throw CommandFailure(message: "cannot write \(includeKeys); check the path and its permissions.")
                }
                Output.progress("wrote \(keys.keys.count) subject keys and \(keys.erased.count) erased subjects to \(includeKeys)")
            }
            progress.finish("exported \(written) entries (head position \(after)), \(summary.reactorCheckpoints) reactor checkpoints, \(summary.parkedEvents) parked events")
        }
    }
}

struct Import: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Load an NDJSON export into an empty store, verifying the hash chain.",
        discussion: """
            All or nothing: a line that does not parse, an entry out of order, a broken chain or a count that does not match the last line stores nothing. \
            The reactors' checkpoints and parked events come back with the log. An export without them (written by an older chronicle, or cut short) is refused: \
            on it, a reactor with from: beginning would deliver every event again; --reactors-from-beginning imports it anyway. \
            Documents of a schema are rebuilt when the server next opens the store with it.
            """
    )

    @Argument(help: "The export file, or - for stdin.")
    var file: String

    @Flag(help: "Import without the reactors' state: reactors start as on a new store (a reactor with from: beginning delivers every event again). Needed for an export without reactor checkpoints; drops those of one that has them.")
    var reactorsFromBeginning = false

    @Option(help: ArgumentHelp("A keys file written by export --include-keys; repeat it to add the erasures of a newer keys file (an erasure in any file wins, so an old backup does not bring an erased person back). Without keys, personal fields are imported unreadable.", valueName: "file"))
    var keys: [String] = []

    @OptionGroup var options: StoreOptions

    func run() async throws {
        let data: Data
        if file == "-" {
            data = FileHandle.standardInput.readDataToEndOfFile()
        } else {
            guard let contents = FileManager.default.contents(atPath: file) else {
                throw CommandFailure(message: "cannot read \(file); check the path.")
            }
            data = contents
        }
        let text = String(decoding: data, as: UTF8.self)
        var reader = ArchiveContents.Reader()
        let reading = ProgressBar(label: "read", total: text.utf8.count)
        var offset = 0
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            offset += line.utf8.count + 1
            if line.isEmpty { continue }
            do {
                try reader.add(try ArchiveRecord(line: String(line)))
            } catch let error as ChronicleError {
                throw CommandFailure(message: "\(file), line \(number + 1): \(error.message) Nothing was imported.")
            }
            if number % 10_000 == 0 { reading.update(offset) }
        }
        let contents: ArchiveContents
        do {
            contents = try reader.finish()
        } catch let error as ChronicleError {
            throw CommandFailure(message: "\(file): \(error.message) Nothing was imported.")
        }
        let entries = contents.entries
        reading.finish("read \(entries.count) entries")
        let reactors: ReactorArchive
        if reactorsFromBeginning {
            reactors = ReactorArchive()
        } else if let archived = contents.reactors {
            reactors = archived
        } else {
            throw CommandFailure(message: "\(file) carries no reactor checkpoints (it was written by an older chronicle export, or is cut short): on the restored store a reactor with from: beginning would deliver every event again. Export again with this version, or add --reactors-from-beginning to import it anyway. Nothing was imported.")
        }
        var archive = SubjectKeyArchive()
        for keysFile in keys {
            guard let text = try? String(contentsOfFile: keysFile, encoding: .utf8) else {
                throw CommandFailure(message: "cannot read \(keysFile); check the path. Nothing was imported.")
            }
            do {
                archive.merge(try SubjectKeyArchive(text: text, file: keysFile))
            } catch let error as ChronicleError {
                throw CommandFailure(message: "\(error.message) Nothing was imported.")
            }
        }
        let location = options.location
        try await options.withStore(needsMasterKey: !keys.isEmpty) { store in
            let importing = ProgressBar(label: "import", total: entries.count)
            try await store.importLog(entries, reactors: reactors) { done in importing.update(done) }
            // After the log, so that a refused log leaves the store empty; the schema's
            // documents are built when a server opens the store, with the keys.
            if !keys.isEmpty {
                try await store.importSubjectKeys(try archive.rows(wrappingWith: store.masterKey))
            }
            let report = try await store.verify()
            let state = reactorsFromBeginning ? "reactors start afresh (--reactors-from-beginning)" : "\(reactors.checkpoints.count) reactor checkpoints and \(reactors.parked.count) parked events restored"
            importing.finish("imported \(entries.count) entries into \(location); hash chain intact: \(report.verifiedEvents) events, \(report.purgedEvents) purged; \(state)")
        }
    }
}

/// A progress bar on stderr: redrawn in place on a terminal, a line every 10% otherwise.
final class ProgressBar: @unchecked Sendable {
    private let label: String
    private let total: Int
    private let lock = NSLock()
    private var lastDraw = ContinuousClock.now - .seconds(1)
    private var lastDecile = -1
    private let started = ContinuousClock.now
    private let interactive = isatty(STDERR_FILENO) == 1

    init(label: String, total: Int) {
        self.label = label
        self.total = max(1, total)
    }

    func update(_ done: Int) {
        lock.lock()
        defer { lock.unlock() }
        let fraction = min(1, Double(done) / Double(total))
        if interactive {
            guard ContinuousClock.now - lastDraw > .milliseconds(100) else { return }
            lastDraw = .now
            let width = 30
            let filled = Int(fraction * Double(width))
            let elapsed = (ContinuousClock.now - started).seconds
            let rate = elapsed > 0 ? Double(done) / elapsed : 0
            let remaining = rate > 0 ? Double(total - done) / rate : 0
            let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
            FileHandle.standardError.write(Data("\r\(label) [\(bar)] \(Int(fraction * 100))% \(done)/\(total) \(Int(rate))/s ETA \(Int(remaining))s".utf8))
        } else {
            let decile = Int(fraction * 10)
            guard decile > lastDecile else { return }
            lastDecile = decile
            FileHandle.standardError.write(Data("\(label): \(decile * 10)% (\(done)/\(total))\n".utf8))
        }
    }

    func finish(_ message: String) {
        FileHandle.standardError.write(Data(((interactive ? "\r\u{1B}[K" : "") + message + "\n").utf8))
    }
}
