import Foundation

extension LogWriter {
    /// The request with the personal fields the projections name sealed (see
    /// ``PersonalData``), and each sealed event's data as it was sent, by event id, for the
    /// rules and the inline projections (which see plaintext). A subject without a key gets
    /// one, saved in the transaction. Events a ``PersonalSealer`` sealed ahead keep that
    /// sealing when its keys hold (the stored ones, or fresh ones for subjects without);
    /// the others are sealed here, from their plaintext.
    func sealPersonalFields(of request: PreparedAppend, projections: [ProjectionRegistration], in transaction: inout some EventStoreTransaction) throws -> (PreparedAppend, [UUID: String]) {
        let declaring = projections.filter { $0.projection.declaresPersonalData }
        guard !declaring.isEmpty else { return (request, [:]) }
        var sealed = request
        sealed.sealed = [:]
        var plaintext: [UUID: String] = [:]
        var keys: [String: SubjectKey] = [:]
        for (partIndex, part) in request.streams.enumerated() {
            for (index, event) in part.events.enumerated() where declaring.contains(where: { $0.projection.declaresPersonalFields(type: event.type) }) {
                var event = event
                if let ahead = request.sealed[event.id] {
                    if try ahead.keys.allSatisfy({ try accept($0, known: &keys, in: &transaction) }) {
                        plaintext[event.id] = ahead.plaintext
                        continue
                    }
                    event.data = ahead.plaintext
                }
                let fields = try PersonalData.fields(of: event, in: part.stream, declaring: declaring)
                guard !fields.isEmpty else { continue }
                let sealedData = try PersonalData.seal(event.data, fields: fields, eventID: event.id, type: event.type) { subject in
                    if let key = keys[subject] { return key }
                    let key = try subjectKey(for: subject, in: &transaction)
                    keys[subject] = key
                    return key
                }
                guard let sealedData else { continue }
                plaintext[event.id] = event.data
                sealed.streams[partIndex].events[index].data = sealedData
            }
        }
        return (sealed, plaintext)
    }

    /// Whether a key a ``PersonalSealer`` sealed with may stand: it is the subject's stored
    /// key, or it is fresh and the subject has none (or was erased) — then it is saved. A key
    /// that is not fresh never replaces a missing or erased one (it may be an erased key).
    private func accept(_ used: PersonalSealer.UsedKey, known keys: inout [String: SubjectKey], in transaction: inout some EventStoreTransaction) throws -> Bool {
        if let key = keys[used.subject] { return key.id == used.key.id }
        let stored = try transaction.subjectKey(for: used.subject)
        if let stored, let wrapped = stored.wrapped {
            if stored.id == used.key.id {
                keys[used.subject] = used.key
                return true
            }
            guard let masterKey else { return false }
            let key = try masterKey.unwrap(wrapped, id: stored.id)
            keys[used.subject] = key
            sealer?.remember(used.subject, key)
            return false
        }
        guard let fresh = used.fresh, stored?.id != used.key.id else {
            sealer?.forget(used.subject)
            return false
        }
        try transaction.saveSubjectKey(StoredSubjectKey(subject: used.subject, id: used.key.id, wrapped: fresh, receipt: stored?.receipt))
        keys[used.subject] = used.key
        sealer?.remember(used.subject, used.key)
        return true
    }

    /// The subject's usable key, made (and saved in the transaction) if it has none or was
    /// erased.
    private func subjectKey(for subject: String, in transaction: inout some EventStoreTransaction) throws -> SubjectKey {
        guard let masterKey else {
            throw ChronicleError(.masterKeyMissing, "The schema declares personal fields, but the store was opened without a master key to seal them; give one (--master-key-file or CHRONICLE_MASTER_KEY).")
        }
        let stored = try transaction.subjectKey(for: subject)
        if let stored, let wrapped = stored.wrapped {
            let key = try masterKey.unwrap(wrapped, id: stored.id)
            sealer?.remember(subject, key)
            return key
        }
        let key = SubjectKey.random()
        try transaction.saveSubjectKey(StoredSubjectKey(subject: subject, id: key.id, wrapped: masterKey.wrap(key), receipt: stored?.receipt))
        sealer?.remember(subject, key)
        return key
    }

    /// Erases a subject: destroys its key and appends a `$subjectErased` receipt to
    /// `$erasures`, in the transaction. A subject already erased (with no key since) gets
    /// its last receipt back, with nothing written. The receipt counts the events sealed
    /// with the key and the documents those events changed in the store's projections; the
    /// caller rewrites those documents afterwards (``PersonalDataStore/eraseSubject(_:actor:progress:)``).
    public mutating func eraseSubject(_ subject: String, actor: String?, in transaction: inout some EventStoreTransaction, now: Int64, projections: [ProjectionRegistration]) throws -> SubjectErasure {
        try SubjectErasure.validate(subject: subject)
        let stored = try transaction.subjectKey(for: subject)
        if let stored, stored.isErased, let receipt = stored.receipt, let event = try transaction.event(id: receipt) {
            return SubjectErasure(receipt: try ErasureReceipt(event: event), replayed: true)
        }
        var events = 0
        var documents: Set<String> = []
        if let stored {
            for event in try transaction.events(sealedWith: stored.id) {
                events += 1
                for registration in projections where registration.lifecycle != .live {
                    for target in registration.projection.targets(of: event) {
                        documents.insert("\(registration.name)\u{0}\(target.entity)\u{0}\(target.id)")
                    }
                }
            }
        }
        var data: [String: JSONValue] = ["subject": .string(subject), "events": .integer(Int64(events)), "documents": .integer(Int64(documents.count))]
        if let actor { data["actor"] = .string(actor) }
        let receipt = try appendSystemEvent(SubjectErasure.eventType, to: SubjectErasure.stream, data: .object(data), in: &transaction, now: now)
        try transaction.saveSubjectKey(StoredSubjectKey(subject: subject, id: stored?.id ?? UUID(), wrapped: nil, receipt: receipt.id))
        sealer?.forget(subject)
        return SubjectErasure(receipt: try ErasureReceipt(event: receipt), replayed: false)
    }
}
