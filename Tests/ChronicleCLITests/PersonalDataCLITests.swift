import ChronicleCore
import Foundation
import Testing

@Suite("chronicle erase-subject, master keys, and backups with keys")
struct PersonalDataCLITests {
    let schema = """
        entities:
          user:
            personal: [email]
            events:
              UserRegistered: create
        """

    @Test("a generated master key with a warning; plaintext while the key exists; erase-subject needs --yes and the schema; an old backup with a newer keys file does not bring the person back; a wrong or malformed key is one line")
    func eraseAndRestore() async throws {
        try await withCLI { cli in
            let schemaFile = try cli.writeSchema(schema)
            let marker = "c\(UUID().uuidString.prefix(10).lowercased())"
            let appended = try await cli.run("append", "user-ada", "UserRegistered", #"{"email":"\#(marker)@example.com","age":3}"#, "--schema", schemaFile)
            #expect(appended.status == 0, "\(appended.stderr)")
            #expect(appended.stderr.contains("WARNING") && appended.stderr.contains("master.key"), "the generated key is announced: \(appended.stderr)")
            #expect(FileManager.default.fileExists(atPath: cli.data + "/master.key"))
            #expect(try await cli.run("append", "user-bob", "UserRegistered", #"{"email":"bob@example.com"}"#, "--schema", schemaFile).status == 0)
            let read = try await cli.run("read", "user-ada")
            #expect(read.status == 0 && read.stdout.contains("\(marker)@example.com"), "the key file in the data directory opens it: \(read.stderr)")

            let backup = cli.data + "-backup.ndjson", oldKeys = cli.data + "-keys-old.ndjson"
            let exported = try await cli.run("export", "--output", backup, "--include-keys", oldKeys)
            #expect(exported.status == 0, "\(exported.stderr)")
            #expect(!(try String(contentsOfFile: backup, encoding: .utf8)).contains(marker), "the export holds the sealed form")
            #expect((try String(contentsOfFile: oldKeys, encoding: .utf8)).contains("\"subject\":\"ada\""))

            let unconfirmed = try await cli.run("erase-subject", "ada")
            #expect(unconfirmed.status != 0 && unconfirmed.stderr.contains("--yes") && oneLine(unconfirmed.stderr), "\(unconfirmed.stderr)")
            let noSchema = try await cli.run("erase-subject", "ada", "--yes")
            #expect(noSchema.status != 0 && noSchema.stderr.contains("--schema") && oneLine(noSchema.stderr), "documents must be rewritten: \(noSchema.stderr)")
            let erased = try await cli.run("erase-subject", "ada", "--yes", "--schema", schemaFile, "--json")
            #expect(erased.status == 0, "\(erased.stderr)")
            let receipt = try jsonObject(erased.stdout)
            #expect(receipt["replayed"] == false && receipt["receipt"]?["events"] == 1 && receipt["receipt"]?["documents"] == 1, "\(erased.stdout)")
            let again = try await cli.run("erase-subject", "ada", "--yes", "--schema", schemaFile)
            #expect(again.status == 0 && again.stdout.hasPrefix("already erased ada"), "\(again.stdout)")
            let after = try await cli.run("read", "user-ada")
            #expect(after.status == 0 && !after.stdout.contains(marker) && after.stdout.contains(#""email":{"$erased":true}"#), "\(after.stdout)")
            #expect(after.stdout.contains(#""age":3"#))
            let verified = try await cli.run("verify")
            #expect(verified.status == 0, "the chain still verifies: \(verified.stderr)")

            let newKeys = cli.data + "-keys-new.ndjson"
            #expect(try await cli.run("export", "--output", cli.data + "-backup-new.ndjson", "--include-keys", newKeys).status == 0)
            // The old backup with its own keys brings ada back (it predates the erasure) …
            let oldRestore = CLI(data: cli.data + "-restore-old")
            let restoredOld = try await oldRestore.run("import", backup, "--keys", oldKeys)
            #expect(restoredOld.status == 0, "\(restoredOld.stderr)")
            #expect(try await oldRestore.run("read", "user-ada").stdout.contains(marker))
            // … but not with the newer keys file's erasures beside it.
            let restore = CLI(data: cli.data + "-restore")
            let restored = try await restore.run("import", backup, "--keys", oldKeys, "--keys", newKeys)
            #expect(restored.status == 0, "\(restored.stderr)")
            let restoredRead = try await restore.run("read", "user-ada")
            #expect(!restoredRead.stdout.contains(marker) && restoredRead.stdout.contains("$erased"), "\(restoredRead.stdout) \(restoredRead.stderr)")
            #expect(try await restore.run("read", "user-bob").stdout.contains("bob@example.com"))
            // Without keys, nothing personal is readable.
            let bare = CLI(data: cli.data + "-restore-bare")
            #expect(try await bare.run("import", backup).status == 0)
            #expect(!(try await bare.run("read", "user-bob").stdout.contains("bob@example.com")))

            // Master keys that do not fit.
            let other = cli.data + "-other.key"
            try MasterKey.random().write(to: other)
            let wrong = try await cli.run("read", "user-bob", "--master-key-file", other)
            #expect(wrong.status != 0 && wrong.stderr.contains("another master key") && oneLine(wrong.stderr), "\(wrong.stderr)")
            let malformed = try await cli.run(arguments: ["read", "user-bob"], environment: ["CHRONICLE_MASTER_KEY": "not base64!"])
            #expect(malformed.status != 0 && malformed.stderr.contains("CHRONICLE_MASTER_KEY") && oneLine(malformed.stderr), "\(malformed.stderr)")
            let missing = try await cli.run("read", "user-bob", "--master-key-file", cli.data + "-nope.key")
            #expect(missing.status != 0 && missing.stderr.contains("Cannot read the master key file") && oneLine(missing.stderr), "\(missing.stderr)")
        }
    }

    func oneLine(_ text: String) -> Bool {
        text.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "\n").count == 1
    }
}
