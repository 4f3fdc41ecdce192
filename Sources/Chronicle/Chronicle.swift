// `import Chronicle`: the event store, its SQLite and PostgreSQL backends, projections and
// reactors, in one import, for programs that use Chronicle as a library.
//
// ```swift
// import Chronicle
//
// let store = try SQLiteEventStore(directory: "./app-data", logger: Logger(label: "app"))
// try await store.append(to: StreamName("user-1"), [EventData(type: "UserCreated", data: ["email": "ada@example.com"])])
// ```
//
// `Logging` comes along because every store and service takes a `Logger` (libraries never
// make one). The HTTP server is not included: import `ChronicleServer` to embed it, so that
// a program that only stores events does not link Hummingbird.

@_exported import ChronicleCore
@_exported import ChroniclePostgres
@_exported import ChronicleProjections
@_exported import ChronicleReactors
@_exported import ChronicleSQLite
@_exported import Logging
