import ChronicleCore
import ChronicleSQLite
import Foundation
import GRDB
import GRDBSQLite

/// The raw baselines of `bench`, measured in the same run on the same disk without Chronicle,
/// so that each figure is a ratio: plain multi-row transactions (`baseline-batch`), a plain
/// primary-key range scan (`baseline-scan`), and what the events take on disk
/// (`bytes-per-event` against `payload-bytes-per-event`).
extension Bench {
    /// Rows per transaction of the batch baselines: as many as events per append of `append-batch`.
    static let baselineRowsPerTransaction = 100
    /// Rows per page of the scan baselines: as many as events per page of `scan-log`.
    static let baselineRowsPerPage = 1000

    /// The data of row `index` of a baseline: the same canonical JSON as event `index`'s.
    static func baselinePayload(_ index: Int) -> String {
        event(index).data.canonicalText
    }

    /// Plain SQLite at `path` with the given durability: `rows` rows (`baselinePayload`) in
    /// transactions of 100 from one writer; rows/s. Leaves the table `t` for ``sqliteScanBaseline(_:)``.
    static func sqliteBatchBaseline(_ path: String, durability: SQLiteEventStore.Configuration.Durability, rows: Int) throws -> Double {
        let pool = try DatabasePool(path: path)
        try pool.writeWithoutTransaction { db in
            try db.execute(sql: durability == .full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL")
            try db.execute(sql: "CREATE TABLE t (id INTEGER PRIMARY KEY, data TEXT NOT NULL)")
        }
        let payloads = (0..<rows).map(baselinePayload)
        let start = ContinuousClock.now
        for first in stride(from: 0, to: rows, by: baselineRowsPerTransaction) {
            try pool.write { db in
                let insert = try db.cachedStatement(sql: "INSERT INTO t (id, data) VALUES (?, ?)")
                for index in first..<min(rows, first + baselineRowsPerTransaction) {
                    try insert.execute(arguments: [index + 1, payloads[index]])
                }
            }
        }
        return Double(rows) / (ContinuousClock.now - start).seconds
    }

    /// Reads every row of ``sqliteBatchBaseline(_:durability:rows:)``'s table by primary-key
    /// range, in pages of 1,000, each page its own read as `scan-log`'s are, decoding the id
    /// and the text; rows/s.
    static func sqliteScanBaseline(_ path: String) throws -> Double {
        let pool = try DatabasePool(path: path)
        let expected = try pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM t") ?? 0 }
        let start = ContinuousClock.now
        var after: Int64 = 0, total = 0, bytes = 0
        while true {
            let page = try pool.read { db -> (last: Int64, count: Int, bytes: Int) in
                let statement = try db.cachedStatement(sql: "SELECT id, data FROM t WHERE id > ? ORDER BY id LIMIT \(baselineRowsPerPage)")
                let cursor = try Row.fetchCursor(statement, arguments: [after])
                var last = after, count = 0, bytes = 0
                while try cursor.next() != nil {
                    last = sqlite3_column_int64(statement.sqliteStatement, 0)
                    let text = sqlite3_column_text(statement.sqliteStatement, 1).map {
                        String(decoding: UnsafeBufferPointer(start: $0, count: Int(sqlite3_column_bytes(statement.sqliteStatement, 1))), as: UTF8.self)
                    } ?? ""
                    bytes += text.utf8.count
                    count += 1
                }
                return (last, count, bytes)
            }
            if page.count == 0 { break }
            after = page.last
            total += page.count
            bytes += page.bytes
        }
        guard total == expected, bytes > 0 else {
            throw CommandFailure(message: "bench: the baseline scan read \(total) rows, expected \(expected)")
        }
        return Double(total) / (ContinuousClock.now - start).seconds
    }

    /// What the events take on disk: the bytes of every table and index of the store over
    /// its events, against the bytes of their data.
    struct Storage {
        var bytesPerEvent: [Double] = []
        var payloadBytesPerEvent: [Double] = []

        mutating func record(storedBytes: Int64, events: Int, payloadBytes: Int) {
            guard events > 0 else { return }
            bytesPerEvent.append(Double(storedBytes) / Double(events))
            payloadBytesPerEvent.append(Double(payloadBytes) / Double(events))
        }

        private var stored: Figure { Figure(name: "bytes-per-event", description: "every table and index over the events stored", samples: bytesPerEvent) }
        private var payload: Figure { Figure(name: "payload-bytes-per-event", description: "the events' data, as stored", samples: payloadBytesPerEvent) }
        private var ratio: Double { payload.median > 0 ? stored.median / payload.median : 0 }

        /// The `storage` member of `--json`: `bytes-per-event` and `payload-bytes-per-event`
        /// (medians and samples), and their ratio.
        var json: String {
            func entry(_ figure: Figure) -> String {
                "{\"name\":\(figure.name.jsonQuoted),\"description\":\(figure.description.jsonQuoted),\"bytes\":\(Int(figure.median.rounded())),\"samples\":[\(figure.samples.map { String(Int($0.rounded())) }.joined(separator: ","))]}"
            }
            return ",\"storage\":{\"ratioToPayload\":\(String(format: "%.2f", ratio)),\"results\":[\(entry(stored)),\(entry(payload))]}"
        }

        var line: String {
            "  disk per event: \(Int(stored.median.rounded())) bytes for \(Int(payload.median.rounded())) bytes of data (\(String(format: "%.2f", ratio))x the payload; every table and index)"
        }
    }
}
