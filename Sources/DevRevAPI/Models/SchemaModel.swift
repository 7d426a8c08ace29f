/// A model generated from a schema of `spec/incidents-openapi.yaml`.
public protocol SchemaModel: Codable, Sendable {
    associatedtype CodingKeys: CodingKey & CaseIterable
    /// The schema's name in `components.schemas`.
    static var schemaName: String { get }
}

extension SchemaModel {
    /// The JSON field names this model reads and writes.
    public static var schemaFields: [String] {
        CodingKeys.allCases.map(\.stringValue).filter { !$0.isEmpty }
    }
}
