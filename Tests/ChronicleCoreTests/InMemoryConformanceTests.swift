import ChronicleCore
import ChronicleTesting
import Testing

@Suite("In-memory store: the conformance matrix")
struct InMemoryConformanceTests {
    @Test(arguments: ConformanceMatrix.entries)
    func conformance(_ entry: ConformanceEntry) async throws {
        try await entry.run(on: InMemoryBackend())
    }
}
