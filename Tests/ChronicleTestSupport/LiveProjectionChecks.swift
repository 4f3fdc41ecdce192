import ChronicleCore
import ChronicleTesting
import Testing

/// A live projection's refusal, with its reason (the matrix's "cannot be listed or rebuilt,
/// and says why" checks only that it is refused).
public func liveProjectionRefusesAndSaysWhy(_ backend: any ConformanceBackend) async throws {
    try await backend.withStore(projection: CounterProjection(), lifecycle: .live) { store in
        func saysWhy(_ error: any Error, _ what: String) -> Bool {
            guard let error = error as? ChronicleError, error.code == .invalidInput else { return false }
            return error.message.contains("is live") && error.message.contains("keeps no documents")
                && error.message.contains(what) && error.message.contains("inline or async")
        }
        await #expect { try await store.documents(DocumentQuery(entity: "counter")) } throws: { saysWhy($0, "cannot list documents") }
        await #expect { try await store.rebuildDocuments() } throws: { saysWhy($0, "cannot rebuild documents") }
    }
}
