import Foundation
import Synchronization

/// Seals an append's personal fields before it reaches the writer, so that the work of
/// sealing (and of making a new person's key) runs in the appending task, beside other
/// appends, not in the one writer every append waits for.
///
/// It seals with the keys it last saw for each subject (learned from the writer), or with a
/// fresh key for a subject it does not know. The writer then only checks, for each subject,
/// that the key is the stored one, or saves the fresh key when the subject has none (or was
/// erased); otherwise — another writer made a key first, the subject was erased since, the
/// key it knew was never committed — ``LogWriter`` seals again from the plaintext with the
/// stored key. So what is stored is exactly what sealing in the writer gives.
public final class PersonalSealer: Sendable {
    /// What the sealer did to one event: its data as sent, and the key used for each subject.
    struct Sealed: Sendable, Hashable {
        var plaintext: String
        var keys: [UsedKey]
    }

    /// A subject's key as the sealer used it.
    struct UsedKey: Sendable, Hashable {
        var subject: String
        var key: SubjectKey
        /// The key wrapped under the master key, when the sealer made it (never stored yet).
        var fresh: Data?
    }

    /// The most subjects whose keys are kept; past it the list starts again.
    static let capacity = 10_000

    /// The master key it wraps fresh keys with.
    public let masterKey: MasterKey?
    private let known = Mutex<[String: SubjectKey]>([:])

    /// A sealer for a store with this master key (`nil`: nothing is sealed ahead).
    public init(masterKey: MasterKey?) {
        self.masterKey = masterKey
    }

    /// The request with the personal fields the projections name sealed, each such event
    /// noted in ``PreparedAppend/sealed`` for the writer to check. Throws what sealing in the
    /// writer throws (a field that cannot be sealed, a subject that cannot be found).
    public func seal(_ request: PreparedAppend, projections: [ProjectionRegistration]) throws -> PreparedAppend {
        guard let masterKey else { return request }
        let declaring = projections.filter { $0.projection.declaresPersonalData }
        guard !declaring.isEmpty else { return request }
        var sealed = request
        var fresh: [String: UsedKey] = [:]
        for (partIndex, part) in request.streams.enumerated() {
            for (index, event) in part.events.enumerated() where declaring.contains(where: { $0.projection.declaresPersonalFields(type: event.type) }) {
                let fields = try PersonalData.fields(of: event, in: part.stream, declaring: declaring)
                guard !fields.isEmpty else { continue }
                var used: [UsedKey] = []
                let data = try PersonalData.seal(event.data, fields: fields, eventID: event.id, type: event.type) { subject in
                    let key = fresh[subject] ?? known.withLock { $0[subject] }.map { UsedKey(subject: subject, key: $0) } ?? {
                        let key = SubjectKey.random()
                        return UsedKey(subject: subject, key: key, fresh: masterKey.wrap(key))
                    }()
                    if key.fresh != nil { fresh[subject] = key }
                    used.append(key)
                    return key.key
                }
                guard let data else { continue }
                sealed.sealed[event.id] = Sealed(plaintext: event.data, keys: used)
                sealed.streams[partIndex].events[index].data = data
            }
        }
        return sealed
    }

    /// The writer saw (or saved) this key for the subject.
    func remember(_ subject: String, _ key: SubjectKey) {
        known.withLock { known in
            if known.count >= Self.capacity, known[subject] == nil { known.removeAll(keepingCapacity: true) }
            known[subject] = key
        }
    }

    /// The subject was erased: its key must never seal again.
    func forget(_ subject: String) {
        _ = known.withLock { $0.removeValue(forKey: subject) }
    }
}
