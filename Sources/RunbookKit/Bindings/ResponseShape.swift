import DevRevAPI

/// What a typed binding checks of DevRev's answer before a script sees it, beyond the schema
/// check every answer of an incidents operation passes (`ResponseSchema`, in `JournaledExchange`):
/// the container it reads is there, and each incident has the ids scripts rely on (the schema
/// leaves them optional). A response that breaks these is a `malformed_response` error naming the
/// field, instead of a `json.null` where the script expects a table.
enum ResponseShape {
    /// The incident under `key` (`incident`) of an answer.
    static func incident(in response: JSONValue, key: String = "incident", operation: String) throws(ScriptFailure) -> [String: JSONValue] {
        guard case .object(let fields) = response, let value = fields[key] else {
            throw malformed(operation, "the response has no \(key)")
        }
        return try incident(value, path: { key }, operation: operation)
    }

    /// The items of a list answer (`incidents`, `timeline_entries`), each an object; an absent list is empty.
    static func items(in page: [String: JSONValue], key: String, operation: String) throws(ScriptFailure) -> [JSONValue] {
        guard let value = page[key] else { return [] }
        guard case .array(let items) = value else { throw malformed(operation, "\(key) is \(name(of: value)), not an array") }
        for (index, item) in items.enumerated() {
            if key == "incidents" {
                _ = try incident(item, path: { "\(key)[\(index + 1)]" }, operation: operation)
            } else if case .object = item {
                continue
            } else {
                throw malformed(operation, "\(key)[\(index + 1)] is \(name(of: item)), not an object")
            }
        }
        if let cursor = page["next_cursor"], cursor != .null, name(of: cursor) != "string" {
            throw malformed(operation, "next_cursor is \(name(of: cursor)), not a string")
        }
        return items
    }

    /// `path` is made only for a message.
    private static func incident(_ value: JSONValue, path: () -> String, operation: String) throws(ScriptFailure) -> [String: JSONValue] {
        guard case .object(let fields) = value else { throw malformed(operation, "\(path()) is \(name(of: value)), not an object") }
        for required in ["id", "display_id"] where fields[required] == nil {
            throw malformed(operation, "\(path()) has no \(required)")
        }
        for required in ["id", "display_id"] {
            guard case .string = fields[required] else {
                throw malformed(operation, "\(path()).\(required) is \(name(of: fields[required] ?? .null)), not a string")
            }
        }
        return fields
    }

    private static func name(of value: JSONValue) -> String {
        switch value {
        case .null: "null"
        case .bool: "boolean"
        case .integer, .number: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }

    private static func malformed(_ operation: String, _ problem: String) -> ScriptFailure {
        ScriptFailure(type: "malformed_response", message: "\(operation): \(problem)")
    }
}
