import Logging
import Synchronization

/// Keeps every log record, for tests that check what an operator would read.
public final class CapturedLog: Sendable {
    public struct Record: Sendable {
        public var level: Logger.Level
        public var message: String
        public var metadata: [String: String]
    }

    private let storage = Mutex<[Record]>([])

    /// An empty log.
    public init() {}
    public var records: [Record] { storage.withLock { $0 } }

    public var logger: Logger {
        var logger = Logger(label: "chronicle.tests") { _ in Handler(log: self) }
        logger.logLevel = .trace
        return logger
    }

    fileprivate func append(_ record: Record) { storage.withLock { $0.append(record) } }

    struct Handler: LogHandler {
        let log: CapturedLog
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            let all = metadata.merging(event.metadata ?? [:]) { $1 }
            log.append(Record(level: event.level, message: event.message.description, metadata: all.mapValues { "\($0)" }))
        }
    }
}
