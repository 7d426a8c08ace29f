import DevRevAPI

/// What a typed binding checks of DevRev's answer before a script sees it: the container the
/// schema names, and in each incident the fields a script relies on, with their JSON types. A
/// response that breaks these is a `malformed_response` error naming the field, instead of a
/// `json.null` or a number where the script expects a table.
enum ResponseShape {
    /// Incident fields and the JSON type each must have when present; `id` and `display_id` must be.
    private static let incidentFields: [String: String] = [
        "id": "string", "display_id": "string", "title": "string", "body": "string", "severity": "object", "stage": "object",
        "owned_by": "array", "tags": "array", "applies_to_parts": "array", "custom_fields": "object",
        "created_date": "string", "modified_date": "string", "acknowledged_date": "string", "identified_date": "string",
        "mitigated_date": "string", "target_close_date": "string", "actual_close_date": "string",
    ]

    /// The incident under `key` (`incident`) of an answer.
    static func incident(in response: JSONValue, key: String = "incident", operation: String) throws(ScriptFailure) -> [String: JSONValue] {
        guard case .object(let fields) = response, let value = fields[key] else {
            throw malformed(operation, "the response has no \(key)")
        }
        return try incident(value, path: key, operation: operation)
    }

    /// The items of a list answer (`incidents`, `timeline_entries`), each an object; an absent list is empty.
    static func items(in page: [String: JSONValue], key: String, operation: String) throws(ScriptFailure) -> [JSONValue] {
        guard let value = page[key] else { return [] }
        guard case .array(let items) = value else { throw malformed(operation, "\(key) is \(name(of: value)), not an array") }
        for (index, item) in items.enumerated() {
            if key == "incidents" {
                _ = try incident(item, path: "\(key)[\(index + 1)]", operation: operation)
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

    private static func incident(_ value: JSONValue, path: String, operation: String) throws(ScriptFailure) -> [String: JSONValue] {
        guard case .object(let fields) = value else { throw malformed(operation, "\(path) is \(name(of: value)), not an object") }
        for required in ["id", "display_id"] where fields[required] == nil {
            throw malformed(operation, "\(path) has no \(required)")
        }
        for (field, expected) in incidentFields {
            guard let present = fields[field], present != .null else { continue }
            guard name(of: present) == expected else {
                throw malformed(operation, "\(path).\(field) is \(name(of: present)), not \(expected == "string" ? "a" : "an") \(expected)")
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
