import ChronicleCore
import Foundation

extension ChronicleClient {
    private struct ErasureRequest: Encodable, Sendable {
        var subject: String
        var actor: String?
    }

    /// Forgets a subject (`POST /v1/erasures`, admin role): their key is destroyed, so their
    /// personal fields read as `{"$erased": true}` everywhere. Safe to repeat: a subject
    /// already erased answers with its first receipt (``SubjectErasure/replayed``).
    public func eraseSubject(_ subject: String, actor: String? = nil) async throws -> SubjectErasure {
        try await post("/v1/erasures", body: ErasureRequest(subject: subject, actor: actor), as: SubjectErasure.self)
    }

    /// An erasure's receipt (`GET /v1/erasures/{id}`, admin role).
    public func erasureReceipt(id: UUID) async throws -> ErasureReceipt {
        try await get("/v1/erasures/\(id.uuidString.lowercased())", as: ErasureReceipt.self)
    }
}
