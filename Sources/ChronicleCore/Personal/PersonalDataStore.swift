import Foundation
import Logging

/// A store that keeps personal fields sealed with per-subject keys and can forget a subject
/// by destroying its key (see ``PersonalData``). Every backend is one.
///
/// For backend authors: a driver holds the key table and its SQL; ``LogWriter`` seals and
/// erases, ``PersonalDataReader`` opens what readers get, and
/// ``eraseSubject(_:actor:progress:)`` puts an erasure together.
public protocol PersonalDataStore: ProjectionStore {
    /// Destroys the subject's key and appends the receipt, in one write transaction
    /// (``LogWriter/eraseSubject(_:actor:in:now:projections:)``).
    func commitErasure(of subject: String, actor: String?) async throws -> SubjectErasure
    /// Removes what the storage may still hold of erased or purged data outside the live
    /// rows: SQLite checkpoints and truncates its write-ahead log; PostgreSQL vacuums the
    /// tables that held it.
    func scrubRemnants() async throws
    /// Every subject's key row, for an export with keys.
    func subjectKeyRows() async throws -> [StoredSubjectKey]
    /// The store's master key, if it was opened with one.
    var masterKey: MasterKey? { get }
    /// Stores key rows (from ``SubjectKeyArchive/rows(wrappingWith:)``) into a store that has
    /// no keys yet: before ``LogArchive/importLog(_:reactors:progress:)`` (whose rebuild then
    /// reads the personal fields), or after it followed by a rebuild.
    func importSubjectKeys(_ rows: [StoredSubjectKey]) async throws
}

extension PersonalDataStore {
    /// Forgets a subject: destroys its key and appends a `$subjectErased` receipt (one
    /// transaction), then rewrites every projection's documents without the subject's fields
    /// (`rebuild`, by default a rebuild of each, which also rewrites their past versions and
    /// snapshots) and scrubs the storage (``scrubRemnants()``). Erasing a subject again, with
    /// no new data since, returns the first receipt and appends nothing; it rewrites and
    /// scrubs again, so an erasure cut short (the process died after the key went) is
    /// finished by repeating it.
    public func eraseSubject(_ subject: String, actor: String?, rebuild: ((ProjectionRegistration) async throws -> Void)? = nil) async throws -> SubjectErasure {
        let erasure = try await commitErasure(of: subject, actor: actor)
        if erasure.receipt.events > 0 {
            for registration in projections where registration.lifecycle != .live {
                if let rebuild {
                    try await rebuild(registration)
                } else {
                    _ = try await rebuildDocuments(projection: registration.name) { _, _ in }
                }
            }
        }
        try await scrubRemnants()
        return erasure
    }

    /// Scrubs after a purge (a hard delete, a schema's `erase`): the purge is committed, so a
    /// scrub that fails is logged, not thrown.
    public func scrubAfterPurge(logger: Logger) async {
        do {
            try await scrubRemnants()
        } catch {
            logger.warning("Could not scrub the storage after a purge; the next erasure or hard delete scrubs again", metadata: ["chronicle.error": "\(error)"])
        }
    }

    /// The receipt with this id.
    ///
    /// - Throws: ``ChronicleError/Code/erasureNotFound`` when there is none.
    public func erasureReceipt(id: UUID) async throws -> ErasureReceipt {
        for receipt in try await erasureReceipts() where receipt.id == id { return receipt }
        throw ChronicleError(.erasureNotFound, "There is no erasure receipt with id \(id.uuidString.lowercased()); POST /v1/erasures answers with the id of each receipt.")
    }

    /// Every erasure receipt, oldest first.
    public func erasureReceipts() async throws -> [ErasureReceipt] {
        guard try await info(SubjectErasure.stream) != nil else { return [] }
        return try await read(SubjectErasure.stream).map(ErasureReceipt.init(event:))
    }

    /// The keys export (see ``SubjectKeyArchive``): every live key unwrapped, and the erased
    /// subjects with their receipts.
    public func exportSubjectKeys() async throws -> SubjectKeyArchive {
        let rows = try await subjectKeyRows()
        let reader = PersonalDataReader(masterKey: masterKey)
        let keys = try reader.unwrap(rows)
        var archive = SubjectKeyArchive()
        for row in rows.sorted(by: { $0.subject < $1.subject }) {
            if let key = keys[row.id] {
                archive.keys.append(.init(subject: row.subject, id: row.id, key: Data(key.bytes)))
            } else {
                archive.erased.append(.init(subject: row.subject, receipt: row.receipt))
            }
        }
        return archive
    }
}
