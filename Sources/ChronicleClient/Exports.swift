// `import ChronicleClient` is enough for an app: the value types (events, stream names,
// expectations, queries, JSON) and `Logger` come with it.
@_exported import ChronicleCore
@_exported import Logging
