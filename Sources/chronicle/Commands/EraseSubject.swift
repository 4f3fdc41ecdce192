import ArgumentParser
import ChronicleCore
import Foundation

struct EraseSubject: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "erase-subject",
        abstract: "Forget a person: destroy their key, so their personal fields read as erased everywhere.",
        discussion: """
            Example: chronicle erase-subject ada --yes. The subject's key is destroyed and a $subjectErased receipt appended in one transaction; \
            the read models are rewritten without the fields and the storage is scrubbed (SQLite's write-ahead log, PostgreSQL's VACUUM). \
            The events stay and the hash chain still verifies. Erasing again returns the first receipt. It cannot be undone, so it asks for --yes. \
            On a data directory it needs the --schema its documents were built with; on a running server, the admin role.
            """
    )

    @Argument(help: "The subject: the id of the person (an entity id, or what the schema's subject: names).")
    var subject: String

    @Option(help: "Who asks, recorded in the receipt (default: the user running the command).")
    var actor: String?

    @Flag(help: "Confirm: the subject's personal fields become unreadable for ever.")
    var yes = false

    @OptionGroup var options: DataOptions

    func run() async throws {
        guard yes else {
            throw CommandFailure(message: "erasing \(subject.debugDescription) makes their personal fields unreadable for ever, in every copy of the log; add --yes to confirm.", exitCode: 64)
        }
        let actor = actor ?? ProcessInfo.processInfo.environment["USER"]
        let erasure = try await options.withStore { try await $0.eraseSubject(subject, actor: actor) }
        let receipt = erasure.receipt
        if options.json {
            try Output.json(erasure)
        } else {
            let what = erasure.replayed ? "already erased" : "erased"
            Output.line("\(what) \(receipt.subject) at position \(receipt.position) (receipt \(receipt.id.uuidString.lowercased())): \(receipt.events) events, \(receipt.documents) documents")
        }
    }
}
