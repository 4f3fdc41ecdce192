import Foundation

/// What a process holds in memory, from the lines of `/proc/PID/status` (Linux): the server
/// reports its own on `/metrics`, and `chronicle bench --memory` and the tests read a child
/// server's.
public struct ProcessMemory: Sendable, Hashable {
    /// The resident set (`VmRSS`).
    public var residentBytes: Int64 = 0
    /// The peak resident set since the process started (`VmHWM`).
    public var peakResidentBytes: Int64 = 0
    /// Of the resident set, what is not file pages (`RssAnon`).
    public var anonymousBytes: Int64 = 0

    /// Reads it for the process `processIdentifier` (this one by default); `nil` where there is
    /// no `/proc` to read it from, or the process is gone.
    public static func read(processIdentifier: Int32? = nil) -> ProcessMemory? {
        let path = "/proc/\(processIdentifier.map(String.init) ?? "self")/status"
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        return ProcessMemory(status: text)
    }

    /// A reading of these sizes.
    public init(residentBytes: Int64 = 0, peakResidentBytes: Int64 = 0, anonymousBytes: Int64 = 0) {
        self.residentBytes = residentBytes
        self.peakResidentBytes = peakResidentBytes
        self.anonymousBytes = anonymousBytes
    }

    /// Parses the text of a `status` file; lines it does not know are skipped.
    public init(status text: String) {
        for line in text.split(separator: "\n") {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.count == 3, fields[2] == "kB", let kilobytes = Int64(fields[1]) else { continue }
            switch fields[0] {
            case "VmRSS:": residentBytes = kilobytes * 1024
            case "VmHWM:": peakResidentBytes = kilobytes * 1024
            case "RssAnon:": anonymousBytes = kilobytes * 1024
            default: break
            }
        }
    }
}
