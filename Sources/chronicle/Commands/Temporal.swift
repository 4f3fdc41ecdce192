import ArgumentParser
import ChronicleCore
import ChronicleServer

struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List an entity kind's documents: now, or as the read model was at a moment.",
        discussion: "Example: chronicle list user --schema schema.yaml --as-of 2026-11-01T00:00:00Z"
    )

    @Argument(help: "The entity kind, such as user.")
    var entity: String

    @Option(name: .customLong("as-of"), help: ArgumentHelp("A log position or an RFC 3339 instant: every document as it was right after it (one cut).", valueName: "moment"))
    var asOf: String?

    @Flag(help: "List soft-deleted entities too.")
    var includeDeleted = false

    @OptionGroup var page: PageOptions

    @OptionGroup var options: DataOptions

    func run() async throws {
        let paging = page
        let answer = try await options.withStore { try await $0.list(entity, asOf: asOf, limit: paging.limit, cursor: paging.cursor, includeDeleted: includeDeleted, projection: paging.projection) }
        if options.json { return try Output.json(answer) }
        for document in answer.documents {
            Output.line("\(document.id)\tv\(document.version)\t@\(document.position)\(document.deleted ? "\tdeleted" : "")\t\(document.state.text)")
        }
        if let next = answer.next { Output.line("next: --cursor \(next)") }
    }
}

struct Changes: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show every entity whose document changed between two moments, with the JSON Patch between its two states.",
        discussion: "Example: chronicle changes --schema schema.yaml --from 2026-11-01T00:00:00Z --to 2026-11-30T00:00:00Z"
    )

    @Option(help: ArgumentHelp("A log position or an RFC 3339 instant.", valueName: "moment"))
    var from: String

    @Option(help: ArgumentHelp("A log position or an RFC 3339 instant, not before --from.", valueName: "moment"))
    var to: String

    @Option(help: "Only this entity kind.")
    var entity: String?

    @OptionGroup var page: PageOptions

    @OptionGroup var options: DataOptions

    func run() async throws {
        let paging = page
        let answer = try await options.withStore { try await $0.changes(from: from, to: to, entity: entity, limit: paging.limit, cursor: paging.cursor, projection: paging.projection) }
        if options.json { return try Output.json(answer) }
        for change in answer.changes {
            Output.line("\(change.entity) \(change.id)\t\(change.kind)\t@\(change.position)\t\(change.patch.text)")
        }
        if let next = answer.next { Output.line("next: --cursor \(next)") }
    }
}

struct Blame: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show which event last set each field of an entity: now, or as of a moment."
    )

    @OptionGroup var target: EntityArguments

    @Option(name: .customLong("as-of"), help: ArgumentHelp("A log position or an RFC 3339 instant.", valueName: "moment"))
    var asOf: String?

    @OptionGroup var options: DataOptions

    func run() async throws {
        let blame = try await options.withStore { try await $0.blame(target.entity, target.id, asOf: asOf, projection: target.projection) }
        if options.json { return try Output.json(blame) }
        for field in blame.fields {
            Output.line("\(field.pointer)\t\(field.value.text)\tv\(field.revision)\t@\(field.position)\t\(field.recordedAt)\t\(field.type)\(field.actor.map { "\t\($0.text)" } ?? "")")
        }
    }
}

struct Effects: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show every document one event changed, and the JSON Patch it made to each."
    )

    @Argument(help: "The event's log position.")
    var position: Int64

    @Option(help: "The projection to read (see `projections list`); default: the primary one.")
    var projection: String?

    @OptionGroup var options: DataOptions

    func validate() throws {
        guard position >= 1 else { throw ValidationError("the position is a log position, 1 or more.") }
    }

    func run() async throws {
        let answer = try await options.withStore { try await $0.effects(position, projection: projection) }
        if options.json { return try Output.json(answer) }
        for effect in answer.effects {
            Output.line("\(effect.entity)/\(effect.id)\t\(effect.change)\tv\(effect.version)\t\(effect.patch.canonicalText)")
        }
    }
}

/// A page of a list or of changes, and the projection it reads.
struct PageOptions: ParsableArguments {
    @Option(help: "Items per page (1–1000).")
    var limit: Int = 100

    @Option(help: "The next page: the cursor a previous page printed.")
    var cursor: String?

    @Option(help: "The projection to read (see `projections list`); default: the primary one.")
    var projection: String?

    func validate() throws {
        guard (1...1000).contains(limit) else { throw ValidationError("--limit must be from 1 to 1000.") }
    }
}
