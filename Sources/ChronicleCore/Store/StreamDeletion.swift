/// Chronicle's `$streamDeleted` events, which record stream deletions in `$streams`: how
/// they are written and read, in one place for the writer, imports and projections.
public enum StreamDeletion {
    /// The event type.
    public static let eventType = "$streamDeleted"

    /// What one records.
    public struct Record: Sendable, Hashable {
        /// The deleted stream.
        public var stream: StreamName
        /// Soft or hard.
        public var mode: DeleteMode
        /// The stream's revision when it was deleted.
        public var revision: Int64

        /// The stream's state after the deletion.
        public var info: StreamInfo {
            StreamInfo(stream: stream, revision: revision, status: mode == .hard ? .tombstoned : .softDeleted)
        }
    }

    /// The data of the event recording a deletion.
    public static func data(stream: StreamName, mode: DeleteMode, revision: Int64) -> JSONValue {
        ["stream": .string(stream.rawValue), "mode": .string(mode.rawValue), "revision": .integer(revision)]
    }

    /// What `event` records, if it records a deletion.
    public static func record(of event: RecordedEvent) -> Record? {
        guard event.type == eventType, event.stream == .deletions else { return nil }
        let data = event.data
        guard case .string(let name)? = data["stream"], case .integer(let revision)? = data["revision"] else { return nil }
        return Record(stream: StreamName(stored: name), mode: data["mode"] == "hard" ? .hard : .soft, revision: revision)
    }

    /// The deleted stream, if `event` records a deletion.
    public static func stream(of event: RecordedEvent) -> StreamName? {
        guard event.type == eventType, event.stream == .deletions, case .string(let name)? = event.data["stream"] else { return nil }
        return StreamName(stored: name)
    }

    /// The usual effect on the entity's document: a soft delete marks it deleted, a hard
    /// delete removes it.
    public static func change(for event: RecordedEvent, document: Document?, entity: String, id: String) -> DocumentChange {
        if event.data["mode"] == "hard" { return .remove(entity: entity, id: id) }
        guard var document else { return .none }
        document.deleted = true
        document.position = event.position
        document.updatedAtMicroseconds = event.recordedAtMicroseconds
        return .save(document)
    }
}
