import ChronicleCore
import Testing

/// Everything a backend offers the engine, as the conformance matrix uses it.
public typealias ConformanceStore = any ProjectionStore & DocumentStore & AsyncProjectionStore & LogArchive & ReactorStore & LeaseStore & PersonalDataStore

/// A backend under test: it makes fresh, empty stores, and removes them after.
///
/// ```swift
/// @Test(arguments: ConformanceMatrix.entries)
/// func conformance(_ entry: ConformanceEntry) async throws {
///     try await entry.run(on: MyBackend())
/// }
/// ```
public protocol ConformanceBackend: Sendable {
    /// Runs `body` with a fresh, empty store that keeps `projections` (the first is the
    /// primary one).
    func withStore(projections: [ProjectionRegistration], _ body: (ConformanceStore) async throws -> Void) async throws
}

extension ConformanceBackend {
    /// Runs `body` with a fresh, empty store that holds `projection` (none when `nil`) in
    /// `lifecycle`.
    public func withStore(projection: (any Projection)?, lifecycle: ProjectionLifecycle, _ body: (ConformanceStore) async throws -> Void) async throws {
        try await withStore(projections: ProjectionRegistration.list(primary: projection, lifecycle: lifecycle), body)
    }
}

/// One check of the matrix, run on any backend.
public struct ConformanceEntry: Sendable, CustomTestStringConvertible {
    /// The suite it comes from (`event store`, `inline documents`…).
    public let suite: String
    /// What the check is about.
    public let name: String
    private let body: @Sendable (any ConformanceBackend) async throws -> Void

    init(_ suite: String, _ name: String, _ body: @escaping @Sendable (any ConformanceBackend) async throws -> Void) {
        self.suite = suite
        self.name = name
        self.body = body
    }

    /// Runs the check on fresh stores of `backend`.
    public func run(on backend: any ConformanceBackend) async throws {
        try await body(backend)
    }

    /// `suite: name`, as shown in test output.
    public var testDescription: String { "\(suite): \(name)" }
}

/// The conformance matrix: every check every backend passes (backend × entry), so a check
/// added here runs on every backend, and no backend's list is kept by hand.
public enum ConformanceMatrix {
    /// Every check.
    public static let entries: [ConformanceEntry] = {
        var entries: [ConformanceEntry] = EventStoreConformance.cases.map { check in
            ConformanceEntry("event store", check.name) { backend in
                try await backend.withStore(projection: nil, lifecycle: .inline) { try await check.run($0) }
            }
        }
        entries += ProjectionConformance.cases.map { check in
            ConformanceEntry("inline documents", check.name) { backend in
                try await backend.withStore(projection: CounterProjection(), lifecycle: .inline) { try await check.run($0) }
            }
        }
        entries += ProjectionConformance.liveCases.map { check in
            ConformanceEntry("live projection", check.name) { backend in
                try await backend.withStore(projection: CounterProjection(), lifecycle: .live) { try await check.run($0) }
            }
        }
        entries.append(ConformanceEntry("live projection", "cannot be listed or rebuilt, and says why") { backend in
            try await backend.withStore(projection: CounterProjection(), lifecycle: .live) { store in
                func saysWhy(_ error: any Error, _ what: String) -> Bool {
                    guard let error = error as? ChronicleError, error.code == .invalidInput else { return false }
                    return error.message.contains("is live") && error.message.contains("keeps no documents")
                        && error.message.contains(what) && error.message.contains("inline or async")
                }
                await #expect { try await store.documents(DocumentQuery(entity: "counter")) } throws: { saysWhy($0, "cannot list documents") }
                await #expect { try await store.rebuildDocuments() } throws: { saysWhy($0, "cannot rebuild documents") }
            }
        })
        entries.append(ConformanceEntry("async projection", "pages apply once, with the checkpoint") { backend in
            try await backend.withStore(projection: CounterProjection(), lifecycle: .async) { try await AsyncProjectionConformance.run($0) }
        })
        entries.append(ConformanceEntry("read model across time", "as of every position, changes between positions, blame, after a rebuild and in a fork") { backend in
            try await backend.withStore(projection: ProfileProjection(), lifecycle: .inline) { store in
                try await TemporalConformance.run(store) { body in
                    try await backend.withStore(projection: ProfileProjection(), lifecycle: .inline) { try await body($0) }
                }
            }
        })
        entries.append(ConformanceEntry("read model across time", "a live projection folds as of a position, and lists nothing") { backend in
            try await backend.withStore(projection: ProfileProjection(), lifecycle: .live) { try await TemporalConformance.runLive($0) }
        })
        entries.append(ConformanceEntry("read model across time", "an asynchronous projection answers as of what it applied") { backend in
            try await backend.withStore(projection: ProfileProjection(), lifecycle: .async) { try await TemporalConformance.runAsync($0) }
        })
        entries.append(ConformanceEntry("one event, several entities", "every document an event names changes with it, in as-of reads, timelines and effects, and after a rebuild") { backend in
            try await backend.withStore(projection: DirectoryProjection(), lifecycle: .inline) { try await FanOutConformance.run($0) }
        })
        entries.append(ConformanceEntry("one event, several entities", "an asynchronous projection applies every document an event names at its position") { backend in
            try await backend.withStore(projection: DirectoryProjection(), lifecycle: .async) { try await FanOutConformance.runAsync($0) }
        })
        entries.append(ConformanceEntry("one event, several entities", "a live projection cannot follow them, and the store says why") { backend in
            await #expect {
                try await backend.withStore(projection: DirectoryProjection(), lifecycle: .live) { _ in }
            } throws: { error in
                guard let error = error as? ChronicleError, error.code == .invalidInput else { return false }
                return error.message.contains("live projection") && error.message.contains("inline or async")
            }
        })
        entries += DCBConformance.cases.map { check in
            ConformanceEntry("tags and conditions", check.name) { backend in
                try await backend.withStore(projections: []) { try await check.run($0) }
            }
        }
        entries += MultiProjectionConformance.cases.map { check in
            ConformanceEntry("several projections", check.name) { backend in
                try await backend.withStore(projections: MultiProjectionConformance.projections) { try await check.run($0) }
            }
        }
        entries.append(ConformanceEntry("backup and restore", "an export imported into a fresh store is the same store; a damaged one stores nothing") { backend in
            try await backend.withStore(projection: CounterProjection(), lifecycle: .inline) { source in
                try await backend.withStore(projection: CounterProjection(), lifecycle: .inline) { target in
                    try await backend.withStore(projection: CounterProjection(), lifecycle: .inline) { damaged in
                        try await ArchiveConformance.run(source: source, target: target, damaged: damaged)
                    }
                }
            }
        })
        entries.append(ConformanceEntry("backup and restore", "reactor checkpoints and parked events go out with the log and come back with it") { backend in
            try await backend.withStore(projection: nil, lifecycle: .inline) { source in
                try await backend.withStore(projection: nil, lifecycle: .inline) { target in
                    try await backend.withStore(projection: nil, lifecycle: .inline) { damaged in
                        try await ReactorArchiveConformance.run(source: source, target: target, damaged: damaged)
                    }
                }
            }
        })
        entries.append(ConformanceEntry("personal data", "sealed as stored, readable while the key exists, erased everywhere after an erasure, backups with and without keys") { backend in
            try await backend.withStore(projection: PersonalProjection(), lifecycle: .inline) { store in
                try await PersonalDataConformance.run(store) { body in
                    try await backend.withStore(projection: PersonalProjection(), lifecycle: .inline) { try await body($0) }
                }
            }
        })
        entries.append(ConformanceEntry("personal data", "an asynchronous projection is rewritten by an erasure too") { backend in
            try await backend.withStore(projection: PersonalProjection(), lifecycle: .async) { store in
                try await PersonalDataConformance.runAsync(store)
            }
        })
        entries.append(ConformanceEntry("personal data", "a key saved by an append that failed is never used") { backend in
            try await backend.withStore(projection: PersonalProjection(), lifecycle: .inline) { try await PersonalDataConformance.runRolledBackKey($0) }
        })
        entries.append(ConformanceEntry("personal data", "a reactor's outcome events are sealed like any append") { backend in
            try await backend.withStore(projection: PersonalProjection(), lifecycle: .inline) { try await PersonalDataConformance.runReactorOutcome($0) }
        })
        entries.append(ConformanceEntry("personal data", "fields that cannot be sealed, imitations and missing subjects are refused, nothing stored") { backend in
            try await backend.withStore(projection: PersonalProjection(), lifecycle: .inline) { try await PersonalDataConformance.runRefusals($0) }
        })
        entries.append(ConformanceEntry("leases", "one owner at a time, renewal, expiry and release") { backend in
            try await backend.withStore(projection: nil, lifecycle: .inline) { try await LeaseConformance.run($0) }
        })
        entries.append(ConformanceEntry("reactors", "checkpoints, outcomes with the checkpoint, parking and the parked list") { backend in
            try await backend.withStore(projection: nil, lifecycle: .inline) { try await ReactorStoreConformance.run($0) }
        })
        return entries
    }()
}

/// The in-memory store as a conformance backend.
public struct InMemoryBackend: ConformanceBackend {
    /// Creates the backend.
    public init() {}

    /// A new in-memory store.
    public func withStore(projections: [ProjectionRegistration], _ body: (ConformanceStore) async throws -> Void) async throws {
        try await body(InMemoryEventStore(projections: projections))
    }
}
