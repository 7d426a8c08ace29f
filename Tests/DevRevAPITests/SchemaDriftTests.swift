import DevRevAPI
import Foundation
import Testing
import Yams

/// Holds the generated models to spec/incidents-openapi.yaml and spec/timeline-entries-openapi.yaml:
/// a model must have exactly the fields its schema lists. When this fails after a schema update,
/// run scripts/generate-models.
@Suite("Schema drift")
struct SchemaDriftTests {
    static let specDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("spec")

    let schemas: [String: [String: Any]]

    init() throws {
        var schemas: [String: [String: Any]] = [:]
        for file in ["timeline-entries-openapi.yaml", "incidents-openapi.yaml"] {
            let text = try String(contentsOf: Self.specDirectory.appendingPathComponent(file), encoding: .utf8)
            let document = try #require(try Yams.load(yaml: text) as? [String: Any])
            let components = try #require(document["components"] as? [String: Any])
            schemas.merge(try #require(components["schemas"] as? [String: [String: Any]])) { _, incidents in incidents }
        }
        self.schemas = schemas
    }

    private func referenced(_ value: Any) -> [String: Any]? {
        guard let object = value as? [String: Any] else { return nil }
        if let ref = object["$ref"] as? String, let name = ref.split(separator: "/").last {
            return schemas[String(name)]
        }
        return object
    }

    /// The properties of an object, allOf or discriminated oneOf schema (union of branches).
    private func properties(of schema: [String: Any]) -> Set<String> {
        var names = Set((schema["properties"] as? [String: Any])?.keys.map { $0 } ?? [])
        for key in ["allOf", "oneOf"] {
            for part in schema[key] as? [Any] ?? [] {
                if let target = referenced(part) { names.formUnion(properties(of: target)) }
            }
        }
        return names
    }

    private func check(_ models: [any SchemaModel.Type]) {
        for model in models {
            guard let schema = schemas[model.schemaName] else {
                Issue.record("\(model) names schema \(model.schemaName), which the spec does not have")
                continue
            }
            let expected = properties(of: schema)
            let actual = Set(model.schemaFields)
            let missing = expected.subtracting(actual).sorted()
            let extra = actual.subtracting(expected).sorted()
            #expect(missing.isEmpty, "\(model) lacks fields of \(model.schemaName): \(missing)")
            #expect(extra.isEmpty, "\(model) has fields \(model.schemaName) does not: \(extra)")
        }
    }

    @Test func requestModelsHaveExactlyTheSchemasFields() {
        check(GeneratedModels.requestModels)
    }

    @Test func responseModelsHaveExactlyTheSchemasFields() {
        check(GeneratedModels.responseModels)
    }

    @Test func requestShapesHaveExactlyTheSchemasFieldsAndRequiredFields() throws {
        #expect(RequestShapes.all.count == GeneratedModels.requestModels.count)
        for shape in RequestShapes.all {
            let schema = try #require(schemas[shape.name], "no schema \(shape.name)")
            #expect(Set(shape.fields.keys) == properties(of: schema), "\(shape.name)")
            let required = Set(schema["required"] as? [String] ?? [])
            #expect(required.isSubset(of: shape.required), "\(shape.name) required \(required)")
        }
    }

    @Test func everyRequestSchemaOfTheOperationsHasAModel() {
        let roots = [
            "incidents-create-request", "incidents-delete-request", "incidents-get-request",
            "incidents-group-request", "incidents-list-request", "incidents-update-request",
            "timeline-entries-create-request", "timeline-entries-delete-request", "timeline-entries-get-request",
            "timeline-entries-list-request",
        ]
        var reachable = Set<String>()
        var stack = roots
        while let name = stack.popLast() {
            guard reachable.insert(name).inserted, let schema = schemas[name] else { continue }
            stack.append(contentsOf: references(in: schema))
        }
        let objectSchemas = reachable.filter { name in
            guard let schema = schemas[name] else { return false }
            return schema["properties"] != nil || schema["allOf"] != nil || schema["oneOf"] != nil
        }
        let modelled = Set(GeneratedModels.requestModels.map { $0.schemaName })
        #expect(objectSchemas.subtracting(modelled).isEmpty, "no model for \(objectSchemas.subtracting(modelled).sorted())")
        #expect(modelled.contains("incidents-update-request"))
        #expect(modelled.contains("timeline-entries-create-request-timeline-comment"))
    }

    private func references(in value: Any) -> [String] {
        if let object = value as? [String: Any] {
            return object.flatMap { key, item -> [String] in
                if key == "$ref", let ref = item as? String { return [String(ref.split(separator: "/").last ?? "")] }
                return references(in: item)
            }
        }
        if let list = value as? [Any] { return list.flatMap(references(in:)) }
        return []
    }
}
