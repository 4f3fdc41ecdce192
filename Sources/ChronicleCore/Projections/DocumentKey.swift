/// A document's key in a store: its projection, entity and id. What the drivers' write
/// transactions key the documents they read and wrote by.
package struct DocumentKey: Hashable, Sendable, Comparable {
    package var projection: String
    package var entity: String
    package var id: String

    package init(projection: String, entity: String, id: String) {
        self.projection = projection
        self.entity = entity
        self.id = id
    }

    package static func < (a: DocumentKey, b: DocumentKey) -> Bool { (a.projection, a.entity, a.id) < (b.projection, b.entity, b.id) }
}
