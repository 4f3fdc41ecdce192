import Chronicle

let store = try SQLiteEventStore(directory: "./app-data", logger: Logger(label: "app"))
let user = try StreamName("user-1")

// Append, expecting the stream to be new
try await store.append(to: user, [EventData(type: "UserCreated", data: ["email": "ada@example.com"])], expected: .noStream)

// Atomic append to several streams, each with its own expectation
try await store.append(AppendRequest([
    .init(stream: try StreamName("account-1"), expected: .noStream, events: [EventData(type: "Debited", data: ["amount": 10])]),
    .init(stream: try StreamName("account-2"), expected: .any, events: [EventData(type: "Credited", data: ["amount": 10])]),
]))

// Read a stream; follow the log: catch-up, then live, until you leave the loop (or cancel the task)
let events = try await store.read(user)
for try await event in store.subscribe(after: 0, filter: LogFilter(categories: ["user"])) {
    print(event.position, event.type, event.dataJSON)
    if event.id == events.last?.id { break }
}
