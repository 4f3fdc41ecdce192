import Foundation
import Synchronization

/// A child process started with `posix_spawn`, for the tests that run the `chronicle` binary.
///
/// Foundation's `Process.run()` on Linux looks for the highest open descriptor by copying
/// each `/proc/self/fd` entry's whole 256-byte `d_name` out of `readdir`'s buffer; when an
/// entry sits at the end of a mapped page the copy reads past it and the test process dies
/// with SIGSEGV in `memmove` (seen in full runs, where tests hold thousands of sockets). This
/// type has the child close every descriptor above stderr itself (`addclosefrom_np`).
public final class ChildProcess: Sendable {
    /// How the child ended.
    public enum Termination: Sendable, Equatable {
        case exit(Int32)
        case signal(Int32)
    }

    public let processIdentifier: Int32
    private let ended = Mutex<Termination?>(nil)

    /// Starts `executable` with `arguments` and `environment`, its standard streams on the
    /// given handles, in `directory` if given.
    ///
    /// - Throws: ``SpawnError`` with the `errno` of a failed spawn.
    public init(
        executable: URL, arguments: [String], environment: [String: String],
        stdin: FileHandle, stdout: FileHandle, stderr: FileHandle, directory: URL? = nil
    ) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, stdin.fileDescriptor, 0)
        posix_spawn_file_actions_adddup2(&actions, stdout.fileDescriptor, 1)
        posix_spawn_file_actions_adddup2(&actions, stderr.fileDescriptor, 2)
        // Nothing else is inherited: a socket of the test process held open by a child would
        // keep a connection the test closes (a cut proxy) alive.
        Self.addCloseFrom(&actions, 3)
        // posix_spawn_file_actions_addchdir_np is not exported to Swift here: GNU env changes
        // the directory, then executes the program in place.
        let program = directory == nil ? executable.path : "/usr/bin/env"
        let programArguments = directory.map { ["-C", $0.path, executable.path] } ?? []
        let argv = ([program] + programArguments + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, program, &actions, nil, argv, envp)
        guard result == 0 else { throw SpawnError(path: executable.path, code: result) }
        processIdentifier = pid
    }

    /// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34+; not exported to Swift, so
    /// looked up by name): the child closes every descriptor from `lowest` up.
    private static let closeFrom: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32)? = {
        guard let symbol = dlsym(dlopen(nil, RTLD_LAZY), "posix_spawn_file_actions_addclosefrom_np") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self)
    }()

    private static func addCloseFrom(_ actions: inout posix_spawn_file_actions_t, _ lowest: Int32) {
        if let closeFrom, closeFrom(&actions, lowest) == 0 { return }
        // Older glibc: close what is open now (an entry's name read in place, never copied
        // past its end); closing one that was closed meanwhile is not an error for spawn.
        guard let directory = opendir("/proc/self/fd") else { return }
        defer { closedir(directory) }
        while let entry = readdir(directory) {
            let name = (UnsafeRawPointer(entry) + MemoryLayout<dirent>.offset(of: \dirent.d_name)!).assumingMemoryBound(to: CChar.self)
            let fd = Int32(String(cString: name))
            if let fd, fd >= lowest { posix_spawn_file_actions_addclose(&actions, fd) }
        }
    }

    /// Whether the child is still running (reaps it once it has ended).
    public var isRunning: Bool {
        ended.withLock { Self.reap(processIdentifier, &$0) }
    }

    /// Reaps the child if it has ended; whether it still runs. Until it is reaped its pid is
    /// its own (a zombie keeps it), so a signal sent while this says it runs reaches it.
    private static func reap(_ pid: pid_t, _ ended: inout Termination?) -> Bool {
        if ended != nil { return false }
        var status: Int32 = 0
        let reaped = waitpid(pid, &status, WNOHANG)
        guard reaped == pid else { return reaped == 0 }
        let signal = status & 0x7f
        ended = signal == 0 ? .exit((status >> 8) & 0xff) : .signal(signal)
        return false
    }

    /// How it ended; `nil` while it runs.
    public var termination: Termination? {
        _ = isRunning
        return ended.withLock { $0 }
    }

    /// The exit code, or the signal that ended it (as `Process.terminationStatus` reports).
    public var terminationStatus: Int32 {
        switch termination {
        case .exit(let code)?: code
        case .signal(let signal)?: signal
        case nil: -1
        }
    }

    /// Sends SIGTERM.
    public func terminate() { send(SIGTERM) }

    /// Sends SIGINT.
    public func interrupt() { send(SIGINT) }

    /// Sends `signal`, unless the child has ended and been reaped: its pid may belong to
    /// another process by then (a test run starts thousands, and pids wrap at 32768 here), so
    /// a late `terminate()` could kill another test's child. Checked and sent under the lock
    /// that reaping takes.
    public func send(_ signal: Int32) {
        ended.withLock { ended in
            if Self.reap(processIdentifier, &ended) { kill(processIdentifier, signal) }
        }
    }
}

/// A `posix_spawn` that failed.
public struct SpawnError: Error, CustomStringConvertible {
    public var path: String
    public var code: Int32
    public var description: String { "cannot start \(path): \(String(cString: strerror(code)))" }
}
