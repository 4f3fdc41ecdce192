import ArgumentParser
import ChronicleCore
import ChronicleServer

struct Read: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Read the events of a stream.",
        discussion: "Prints one event per line: position, stream@revision, time, type, data."
    )

    @Argument(help: "The stream, such as user-1234.")
    var stream: String

    @Option(help: "The revision to start from (inclusive). Default: the start, or the end with --backwards.")
    var from: Int64?

    @Flag(help: "Read from the newest event to the oldest.")
    var backwards = false

    @Option(help: "The most events to print.")
    var limit: Int = 1000

    @OptionGroup var options: DataOptions

    func validate() throws {
        if limit < 0 { throw ValidationError("--limit must be 0 or more.") }
        if let from, from < 0 { throw ValidationError("--from must be a revision, 0 or more.") }
    }

    func run() async throws {
        let stream = try parseStream(stream)
        let start: ReadStart = from.map { .revision($0) } ?? .start
        let direction: ReadDirection = backwards ? .backwards : .forwards
        let events = try await options.withStore { try await $0.read(stream, from: start, direction: direction, limit: limit) }
        printEvents(events, json: options.json)
    }
}

struct Log: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Read the global log, in position order.",
        discussion: "Filter with --type and --category (each may be repeated). Page with --after: the last line of a page tells where the next starts."
    )

    @Option(help: "Start after this position.")
    var after: Int64 = 0

    @Option(help: "The most events to print.")
    var limit: Int = 1000

    @Option(help: "Only events of this type (repeatable).")
    var type: [String] = []

    @Option(help: "Only events of streams in this category (repeatable), such as user.")
    var category: [String] = []

    @OptionGroup var options: DataOptions

    func validate() throws {
        if limit < 0 { throw ValidationError("--limit must be 0 or more.") }
        if after < 0 { throw ValidationError("--after must be a position, 0 or more.") }
    }

    func run() async throws {
        let filter = LogFilter(types: Set(type), categories: Set(category))
        let page = try await options.withStore { try await $0.readLog(after: after, limit: limit, filter: filter) }
        printEvents(page.events, json: options.json)
        if !options.json && page.events.count == limit {
            Output.progress("more: chronicle log --after \(page.scannedThrough)")
        }
    }
}

struct Tail: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Follow the global log: print events as they are appended, until interrupted.",
        discussion: "Starts at the end of the log; --after 0 replays everything first."
    )

    @Option(help: "Start after this position. Default: the current end of the log.")
    var after: Int64?

    @Option(help: "Only events of this type (repeatable).")
    var type: [String] = []

    @Option(help: "Only events of streams in this category (repeatable).")
    var category: [String] = []

    @OptionGroup var options: DataOptions

    func run() async throws {
        let json = options.json
        if !json {
            Output.progress("following the log after position \(after.map(String.init) ?? "end"); press Ctrl-C to stop")
        }
        try await options.withStore { store in
            try await store.follow(after: after, filter: LogFilter(types: Set(type), categories: Set(category))) { event in
                Output.line(json ? event.jsonText : humanLine(event))
            }
        }
    }
}

struct Verify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Recompute the hash chain over the whole log; exits 1 if anything was changed."
    )

    @OptionGroup var options: StoreOptions

    func run() async throws {
        let report = try await options.withStore { try await $0.verify() }
        if options.json {
            let broken = report.firstBrokenPosition.map(String.init) ?? "null"
            let problem = report.problem.map(\.jsonQuoted) ?? "null"
            Output.line("{\"intact\":\(report.isIntact),\"verifiedEvents\":\(report.verifiedEvents),\"purgedEvents\":\(report.purgedEvents),\"headPosition\":\(report.headPosition),\"firstBrokenPosition\":\(broken),\"problem\":\(problem)}")
        } else if report.isIntact {
            Output.line("intact: \(report.verifiedEvents) events verified, \(report.purgedEvents) purged events carried over, head at position \(report.headPosition)")
        }
        if !report.isIntact {
            throw CommandFailure(message: "the hash chain breaks at position \(report.firstBrokenPosition ?? 0): \(report.problem ?? "unknown problem")")
        }
    }
}

struct Query: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Read the events matching a DCB query: by type and tags, across streams.",
        discussion: "Example: chronicle query --type UserEmailVerified --type UserEmailUnverified --tag user:ada. The types are alternatives, the tags all required; --query '{\"items\":[…]}' gives several items. The last line tells the head to use as a conditional append's after."
    )

    @Option(help: "Events of this type (repeatable: any of them).")
    var type: [String] = []

    @Option(help: "Events carrying this tag (repeatable: all of them).")
    var tag: [String] = []

    @Option(help: "A whole query as JSON: {\"items\":[{\"types\":[…],\"tags\":[…]}]}, instead of --type and --tag.")
    var query: String?

    @Option(help: "Start after this position.")
    var after: Int64 = 0

    @Option(help: "The most events to print (1 to 1000).")
    var limit: Int = 100

    @OptionGroup var options: DataOptions

    func validate() throws {
        if !(1...1000).contains(limit) { throw ValidationError("--limit must be from 1 to 1000.") }
        if after < 0 { throw ValidationError("--after must be a position, 0 or more.") }
        if query != nil && !(type.isEmpty && tag.isEmpty) { throw ValidationError("give --query, or --type and --tag, not both.") }
    }

    func run() async throws {
        var dcb = DCBQuery(type.isEmpty && tag.isEmpty ? [] : [.init(types: Set(type), tags: Set(tag))])
        if let query {
            guard let value = try? JSONValue(parsing: query) else {
                throw CommandFailure(message: "--query is not JSON; give {\"items\":[{\"types\":[…],\"tags\":[…]}]}.", exitCode: 64)
            }
            do {
                dcb = try EventRequests.query(value, at: "--query")
            } catch let problem as Problem {
                throw CommandFailure(message: problem.detail, exitCode: 64)
            }
        }
        do {
            try dcb.validate(what: "The query")
        } catch let error as ChronicleError {
            throw CommandFailure(message: error.message, exitCode: 64)
        }
        let page = try await options.withStore { [dcb] in try await $0.query(dcb, after: after, limit: limit) }
        if options.json {
            return try Output.json(QueryResponse(page))
        }
        printEvents(page.events, json: false)
        Output.line("head \(page.head)")
    }
}
