import ChronicleCore
import Foundation
import Hummingbird

extension ChronicleServer {
    /// `POST /v1/erasures` (forget a subject: its key is destroyed, a receipt appended, the
    /// read models rewritten without its fields) and `GET /v1/erasures/{id}` (a receipt). Both
    /// need the admin role. The rewrite shows in `/v1/projections` as a rebuild.
    func registerErasureRoutes(on router: Router<ChronicleRequestContext>) {
        let store = store, projections = projections, configuration = configuration

        @Sendable func personal() throws -> any PersonalDataStore {
            guard let store = store as? any PersonalDataStore else {
                throw Problem(.notImplemented, code: "not-implemented", title: "Not implemented", detail: "This store keeps no personal-data keys, so it cannot erase a subject.")
            }
            return store
        }

        router.post("/v1/erasures") { request, context in
            try context.require(.admin)
            let body = try await request.jsonBody(limit: configuration.maximumRequestBytes)
            guard case .string(let subject)? = body["subject"] else {
                throw Problem.invalid("Send {\"subject\": \"<id>\"}: the id of the person whose personal fields to forget (an entity id, or what the schema's subject: names); optionally \"actor\", who asks.")
            }
            var actor: String?
            switch body["actor"] {
            case nil, .null?: actor = nil
            case .string(let name)?: actor = name
            case let other?: throw Problem.invalid("actor is a JSON \(other.kindName); send who asks as a string, such as \"dpo@example.com\".")
            }
            let erasure = try await personal().eraseSubject(subject, actor: actor ?? "admin") { registration in
                guard let reads = projections.first(where: { $0.name == registration.name }) else { return }
                let runs = reads.runs
                _ = try await runs.rebuildWhenFree { try await reads.documents.rebuildDocuments { runs.progress($0, $1) } }
            }
            let location = "/v1/erasures/\(erasure.receipt.id.uuidString.lowercased())"
            return try Response.json(erasure.replayed ? .ok : .created, erasure, headers: [.location: location])
        }

        router.get("/v1/erasures/{id}") { _, context in
            try context.require(.admin)
            let text = try context.parameters.decoded("id")
            guard let id = UUID(uuidString: text) else {
                throw Problem.invalid("\(text.debugDescription) is not an erasure id; POST /v1/erasures answers with the receipt's id (a UUID).")
            }
            return try Response.json(.ok, try await personal().erasureReceipt(id: id))
        }
    }
}
