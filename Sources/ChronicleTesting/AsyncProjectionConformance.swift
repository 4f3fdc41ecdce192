import ChronicleCore
import Foundation
import Testing

/// Checks the store side of asynchronous projections, on a fresh store whose projection is
/// ``CounterProjection`` with lifecycle `.async`.
public enum AsyncProjectionConformance {
    /// Runs the checks.
    public static func run(_ store: any AsyncProjectionStore) async throws {
        for index in 0..<30 {
            try await store.append(to: StreamName("counter-\(index % 3)"), [EventData(type: "Incremented", data: ["by": .integer(Int64(index))])])
        }
        #expect(try await store.document(entity: "counter", id: "0") == nil, "appends do not apply an asynchronous projection")
        #expect(try await store.projectionCheckpoint() == 0)
        #expect(try await store.documentsPosition() == 0)

        let first = try await store.readLog(after: 0, limit: 10, filter: LogFilter())
        #expect(try await store.applyProjection(first.events, after: 0, through: first.scannedThrough) == 10)
        #expect(try await store.applyProjection(first.events, after: 0, through: first.scannedThrough) == 10, "a stale checkpoint applies nothing twice")
        #expect(try await store.document(entity: "counter", id: "0")?.state == ["count": .integer(0 + 3 + 6 + 9)])
        let rest = try await store.readLog(after: 10, limit: 100, filter: LogFilter())
        #expect(try await store.applyProjection(rest.events, after: 10, through: rest.scannedThrough) == 30)
        #expect(try await store.documentsPosition() == 30)

        var reference = DocumentSet()
        for event in try await store.readLog(after: 0, limit: 100, filter: LogFilter()).events {
            try reference.apply(event, CounterProjection())
        }
        for id in ["0", "1", "2"] {
            #expect(try await store.document(entity: "counter", id: id) == reference.documents["counter"]?[id], "counter \(id)")
        }
        #expect(try await store.rebuildDocuments() == 30)
        #expect(try await store.projectionCheckpoint() == 30, "a rebuild leaves the checkpoint at the head")
    }
}
