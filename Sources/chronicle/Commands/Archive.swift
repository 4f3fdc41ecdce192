import ArgumentParser
import ChronicleCore
import ChronicleSQLite
import Foundation

struct Export: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write the whole log as NDJSON: a complete backup (read models are rebuilt from it).",
        discussion: "One event per line (with position, id, revision, time and hash); hard-deleted events appear as {\"purged\": position, \"hash\": …} so the chain still verifies. Progress goes to stderr."
    )

    @Option(help: ArgumentHelp("Write to this file instead of stdout.", valueName: "file"))
    var output: String?

    @OptionGroup var options: StoreOptions

    func run() async throws {
        let store = try options.openStore()
        let total = try await store.headPosition()
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
            let page = try await store.exportLog(after: after, limit: 5000)
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
        if output != nil { try handle.close() }
        progress.finish("exported \(written) entries (head position \(total))")
    }
}

struct Import: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Load an NDJSON export into an empty data directory, verifying the hash chain.",
        discussion: "All or nothing: a line that does not parse, an entry out of order, or a broken chain stores nothing. Documents of a schema are rebuilt when the server next opens the store with it."
    )

    @Argument(help: "The export file, or - for stdin.")
    var file: String

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
        var entries: [LogEntry] = []
        let reading = ProgressBar(label: "read", total: text.utf8.count)
        var offset = 0
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            offset += line.utf8.count + 1
            if line.isEmpty { continue }
            do {
                entries.append(try LogEntry(line: String(line)))
            } catch let error as ChronicleError {
                throw CommandFailure(message: "\(file), line \(number + 1): \(error.message) Nothing was imported.")
            }
            if number % 10_000 == 0 { reading.update(offset) }
        }
        reading.finish("read \(entries.count) entries")
        let store = try options.openStore()
        let importing = ProgressBar(label: "import", total: entries.count)
        try await store.importLog(entries) { done in importing.update(done) }
        let report = try await store.verify()
        importing.finish("imported \(entries.count) entries into \(options.dataDirectory); hash chain intact: \(report.verifiedEvents) events, \(report.purgedEvents) purged")
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
