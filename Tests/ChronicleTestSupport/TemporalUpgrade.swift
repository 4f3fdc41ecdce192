import ChronicleCore
import ChronicleTesting
import Testing

/// What a store upgraded from a version without temporal tables must do, on every backend:
/// the current read model is readable as of the head at the upgrade and after, earlier
/// moments are refused with where the recorded past starts, and a rebuild records it all.
public enum TemporalUpgrade {
    /// Appends the history the upgrade starts from; returns the head.
    public static func script(_ store: any EventStore) async throws -> Int64 {
        for (index, id) in ["a", "b", "a", "c", "a"].enumerated() {
            try await store.append(to: StreamName("counter-\(id)"), [EventData(type: "Incremented", data: ["by": .integer(Int64(index + 1))])])
        }
        _ = try await store.delete(StreamName("counter-c"), mode: .soft, expected: .any)
        return try await store.headPosition()
    }

    /// Checks the upgraded store, whose log `script` wrote up to `head`.
    public static func check(_ store: ConformanceStore, head: Int64) async throws {
        let current = try await store.documents(DocumentQuery(entity: "counter", includeDeleted: true))
        #expect(current.documents.count == 3)
        #expect(try await store.historyStart() == head)
        #expect(try await store.documents(DocumentQuery(entity: "counter", includeDeleted: true), asOf: head) == current, "the current versions are recorded from their positions")
        await #expect { try await LogMoment.position(head - 1).resolve(in: store, documents: store) } throws: { error in
            guard let error = error as? ChronicleError, error.code == .momentOutOfRange, error.status == 404 else { return false }
            return error.details["historyFrom"] == .integer(head) && error.message.contains("rebuild")
        }
        try await store.append(to: StreamName("counter-a"), [EventData(type: "Incremented", data: ["by": 10])])
        let after = try await store.headPosition()
        #expect(try await store.document(entity: "counter", id: "a", asOf: head)?.state == ["count": 9])
        #expect(try await store.document(entity: "counter", id: "a", asOf: after)?.state == ["count": 19])
        let changes = try await store.changes(from: head, to: after, entity: nil, after: nil, limit: 10)
        #expect(changes.changes.map(\.id) == ["a"] && changes.changes.first?.kind == .changed)

        try await store.rebuildDocuments()
        #expect(try await store.historyStart() == 0, "a rebuild records the whole past")
        #expect(try await store.document(entity: "counter", id: "a", asOf: 1)?.state == ["count": 1])
        #expect(try await store.document(entity: "counter", id: "c", asOf: 3) == nil)
        #expect(try await store.documents(DocumentQuery(entity: "counter", includeDeleted: true), asOf: head) == current)
    }
}
