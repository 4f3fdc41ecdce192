// The process that ProjectionCrashTests kills: it opens a store whose `TallyProjection` is
// asynchronous and runs a `ProjectionRunner` (pages of 50 events) until the projection has
// caught up with the log, then stops gracefully and prints `caught up at N`.
//
//     ProjectionCrashChild (--sqlite DIRECTORY | --postgres URL) [--crash-at POSITION]
//
// With `--crash-at`, the projection kills the process (SIGKILL) when the runner applies the
// event at POSITION, after printing `crashing at position POSITION`.
import ChronicleCore
import ChroniclePostgres
import ChronicleProjections
import ChronicleSQLite
import ChronicleTestSupport
import Foundation
import Logging
import ServiceLifecycle

let arguments = Array(CommandLine.arguments.dropFirst())
guard arguments.count == 2 || (arguments.count == 4 && arguments[2] == "--crash-at" && Int64(arguments[3]) != nil),
      ["--sqlite", "--postgres"].contains(arguments[0]) else {
    FileHandle.standardError.write(Data("usage: ProjectionCrashChild (--sqlite DIRECTORY | --postgres URL) [--crash-at POSITION]\n".utf8))
    exit(64)
}
let projection = TallyProjection(crashAt: arguments.count == 4 ? Int64(arguments[3]) : nil)
let logger: Logger = {
    var logger = Logger(label: "chronicle.crash-child")
    logger.logLevel = .error
    return logger
}()

/// Runs the projection on `store` until it has caught up with the head; returns the head.
func catchUp(_ store: some AsyncProjectionStore, logger: Logger) async throws -> Int64 {
    let group = ServiceGroup(configuration: .init(services: [ProjectionRunner(store: store, logger: logger, pageSize: 50)], gracefulShutdownSignals: [], logger: logger))
    let head = try await store.headPosition()
    try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask { try await group.run() }
        while try await store.projectionCheckpoint() < head {
            try await Task.sleep(for: .milliseconds(5))
        }
        await group.triggerGracefulShutdown()
        try await tasks.waitForAll()
    }
    return head
}

let head: Int64
if arguments[0] == "--sqlite" {
    head = try await catchUp(SQLiteEventStore(directory: arguments[1], configuration: .init(projection: projection, lifecycle: .async), logger: logger), logger: logger)
} else {
    var configuration = try PostgresEventStore.Configuration(url: arguments[1])
    configuration.projection = projection
    configuration.lifecycle = .async
    head = try await PostgresEventStore.withStore(configuration: configuration, logger: logger) { try await catchUp($0, logger: logger) }
}
print("caught up at \(head)")
