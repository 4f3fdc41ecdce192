import ArgumentParser
import ChronicleCore
import Foundation

/// Where the master key of personal data comes from: `--master-key-file`, else
/// `CHRONICLE_MASTER_KEY` (base64), else `master.key` in the data directory. A data
/// directory whose schema declares personal fields and that has none gets one generated
/// there, with a warning: whoever holds that file can read every personal field, and losing
/// it loses them all.
struct MasterKeyOption: ParsableArguments {
    @Option(help: ArgumentHelp("The master key of personal fields: a file with 32 random bytes as base64 (or set CHRONICLE_MASTER_KEY; default master.key in the data directory).", valueName: "file"))
    var masterKeyFile: String?

    /// The file name in the data directory.
    static let fileName = "master.key"

    /// The key for a data directory; generated into it when `needed` and there is none.
    func resolve(dataDirectory: String, needed: Bool) throws -> MasterKey? {
        if let key = try explicit() { return key }
        let file = URL(fileURLWithPath: dataDirectory).appendingPathComponent(Self.fileName).path
        if FileManager.default.fileExists(atPath: file) { return try load(file) }
        guard needed else { return nil }
        try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
        let key = MasterKey.random()
        try key.write(to: file)
        Output.progress("""
            WARNING: the schema declares personal fields and no master key was given, so one was generated in \(file). \
            Anyone with that file can read every personal field, and without it they are lost: move it somewhere safe and \
            pass it with --master-key-file or CHRONICLE_MASTER_KEY.
            """)
        return key
    }

    /// The key for a PostgreSQL database: given, or an error when `needed`.
    func resolve(postgres name: String, needed: Bool) throws -> MasterKey? {
        if let key = try explicit() { return key }
        guard needed else { return nil }
        throw CommandFailure(message: "the schema declares personal fields, which need a master key on PostgreSQL (\(name)): pass --master-key-file FILE or set CHRONICLE_MASTER_KEY (make one with `openssl rand -base64 32`).", exitCode: 64)
    }

    private func explicit() throws -> MasterKey? {
        if let masterKeyFile { return try load(masterKeyFile) }
        if let text = ProcessInfo.processInfo.environment["CHRONICLE_MASTER_KEY"], !text.isEmpty {
            do {
                return try MasterKey(base64: text)
            } catch let error as ChronicleError {
                throw CommandFailure(message: "CHRONICLE_MASTER_KEY: \(error.message)", exitCode: 64)
            }
        }
        return nil
    }

    private func load(_ file: String) throws -> MasterKey {
        do {
            return try MasterKey.load(file: file)
        } catch let error as ChronicleError {
            throw CommandFailure(message: error.message, exitCode: 64)
        }
    }
}
