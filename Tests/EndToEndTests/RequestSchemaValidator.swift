import DevRevAPI
import Foundation
import Yams

/// Checks a request body against a schema of DevRev's OpenAPI description, independently of the
/// generated models: `$ref`, `allOf`, a discriminated `oneOf` (the branch the discriminator's
/// mapping names), types, enums, date-times, lengths, item counts, required and unknown fields.
struct RequestSchemaValidator {
    let schemas: [String: Any]

    init(specFile: String) throws {
        let url = RunbookBinary.repository.appendingPathComponent("spec").appendingPathComponent(specFile)
        let document = try Yams.load(yaml: try String(contentsOf: url, encoding: .utf8)) as? [String: Any]
        schemas = ((document?["components"] as? [String: Any])?["schemas"] as? [String: Any]) ?? [:]
    }

    /// The problems of `value` under schema `name`; empty when it is valid.
    func problems(_ value: JSONValue, schema name: String) -> [String] {
        guard let schema = schemas[name] as? [String: Any] else { return ["no schema \(name)"] }
        return check(value, schema, path: "")
    }

    private func resolve(_ schema: [String: Any]) -> [String: Any] {
        guard let ref = schema["$ref"] as? String, let name = ref.split(separator: "/").last else { return schema }
        return resolve(schemas[String(name)] as? [String: Any] ?? [:])
    }

    /// Properties and required names of an object schema, its allOf parts and the oneOf branch
    /// that `value`'s discriminator selects.
    private func objectParts(_ schema: [String: Any], value: [String: JSONValue]) -> (properties: [String: [String: Any]], required: Set<String>, unknownBranch: String?) {
        var properties = schema["properties"] as? [String: [String: Any]] ?? [:]
        var required = Set(schema["required"] as? [String] ?? [])
        var unknownBranch: String?
        for part in schema["allOf"] as? [[String: Any]] ?? [] {
            let sub = objectParts(resolve(part), value: value)
            properties.merge(sub.properties) { first, _ in first }
            required.formUnion(sub.required)
            unknownBranch = unknownBranch ?? sub.unknownBranch
        }
        if let discriminator = schema["discriminator"] as? [String: Any], let property = discriminator["propertyName"] as? String,
            let mapping = discriminator["mapping"] as? [String: String]
        {
            if case .string(let selector)? = value[property], let ref = mapping[selector] {
                let sub = objectParts(resolve(["$ref": ref]), value: value)
                properties.merge(sub.properties) { first, _ in first }
                required.formUnion(sub.required)
            } else {
                unknownBranch = "\(property) selects no branch of \(mapping.keys.sorted())"
            }
        }
        return (properties, required, unknownBranch)
    }

    private func check(_ value: JSONValue, _ raw: [String: Any], path: String) -> [String] {
        let schema = resolve(raw)
        let at = path.isEmpty ? "the body" : path
        var problems: [String] = []
        if let allowed = schema["enum"] as? [String] {
            guard case .string(let text) = value, allowed.contains(text) else { return ["\(at): not one of \(allowed)"] }
        }
        switch value {
        case .object(let fields):
            let parts = objectParts(schema, value: fields)
            if let unknown = parts.unknownBranch { problems.append("\(at): \(unknown)") }
            for name in parts.required.sorted() where fields[name] == nil { problems.append("\(at): missing required \(name)") }
            for (key, item) in fields.sorted(by: { $0.key < $1.key }) {
                let child = path.isEmpty ? key : "\(path).\(key)"
                guard let property = parts.properties[key] else {
                    if schema["properties"] != nil || schema["allOf"] != nil { problems.append("\(child): not a field of the schema") }
                    continue
                }
                problems += check(item, property, path: child)
            }
        case .array(let items):
            guard schema["type"] as? String == "array" else { return ["\(at): an array where the schema has \(schema["type"] ?? "?")"] }
            if let most = schema["maxItems"] as? Int, items.count > most { problems.append("\(at): more than \(most) items") }
            // DevRev puts string bounds of an array's items on the array itself.
            var itemSchema = schema["items"] as? [String: Any] ?? [:]
            for bound in ["minLength", "maxLength"] where schema[bound] != nil { itemSchema[bound] = schema[bound] }
            for (index, item) in items.enumerated() { problems += check(item, itemSchema, path: "\(path)[\(index)]") }
        case .string(let text):
            guard schema["type"] as? String == "string" else { return ["\(at): a string where the schema has \(schema["type"] ?? "?")"] }
            if let least = schema["minLength"] as? Int, text.count < least { problems.append("\(at): shorter than \(least)") }
            if let most = schema["maxLength"] as? Int, text.count > most { problems.append("\(at): longer than \(most)") }
            if schema["format"] as? String == "date-time", RFC3339.parse(text) == nil { problems.append("\(at): not a date-time") }
        case .integer:
            guard ["integer", "number"].contains(schema["type"] as? String ?? "") else { return ["\(at): a number where the schema has \(schema["type"] ?? "?")"] }
        case .number:
            guard schema["type"] as? String == "number" else { return ["\(at): a fraction where the schema has \(schema["type"] ?? "?")"] }
        case .bool:
            guard schema["type"] as? String == "boolean" else { return ["\(at): a boolean where the schema has \(schema["type"] ?? "?")"] }
        case .null:
            problems.append("\(at): null")
        }
        return problems
    }
}
