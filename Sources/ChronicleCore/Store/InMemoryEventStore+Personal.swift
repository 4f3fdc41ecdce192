import Foundation

extension InMemoryEventStore {
    /// Events as readers get them: sealed values opened with the key table, or erased.
    func revealed(_ events: [RecordedEvent]) throws -> [RecordedEvent] {
        let keys = storage.keys
        return try PersonalDataReader(masterKey: masterKey).reveal(events) { ids in keys.values.filter { ids.contains($0.id) } }
    }

    func revealed(_ event: RecordedEvent, keys: [String: StoredSubjectKey]? = nil) throws -> RecordedEvent {
        let keys = keys ?? storage.keys
        return try PersonalDataReader(masterKey: masterKey).reveal(event) { ids in keys.values.filter { ids.contains($0.id) } }
    }

    /// Destroys a subject's key and appends the receipt; see ``PersonalDataStore/commitErasure(of:actor:)``.
    public func commitErasure(of subject: String, actor: String?) throws -> SubjectErasure {
        let projections = projections
        return try write { writer, transaction in
            try writer.eraseSubject(subject, actor: actor, in: &transaction, now: Timestamp.now(), projections: projections)
        }
    }

    /// Nothing outlives a removal in memory.
    public func scrubRemnants() {}

    /// The key table; see ``PersonalDataStore/subjectKeyRows()``.
    public func subjectKeyRows() -> [StoredSubjectKey] {
        storage.keys.values.sorted { $0.subject < $1.subject }
    }

    /// Stores key rows before an import; see ``PersonalDataStore/importSubjectKeys(_:)``.
    public func importSubjectKeys(_ rows: [StoredSubjectKey]) throws {
        guard storage.keys.isEmpty else {
            throw ChronicleError(.invalidInput, "The store has personal-data keys already; import keys into a new store.")
        }
        for row in rows { storage.keys[row.subject] = row }
    }
}
