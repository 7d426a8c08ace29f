import DevRevAPI
import Foundation

/// Strict request decoding with DevRev's error bodies: a body that is not JSON is a
/// `parse_error`, a missing required field `missing_required_field`, a value of the wrong JSON
/// type `unexpected_json_type`, and a field the schema does not have `invalid_field`, each with
/// the field's path (`tags.set[2].tag_id`).
enum RequestDecoder {
    static func decode<Request: Codable>(_ type: Request.Type, from body: [UInt8]) throws(SandboxFailure) -> Request {
        let data = Data(body.isEmpty ? Array("{}".utf8) : body)
        let original: JSONValue
        do {
            original = try JSONDecoder().decode(JSONValue.self, from: data)
        } catch {
            throw .parseError("the request body is not valid JSON")
        }
        guard case .object = original else { throw .parseError("the request body must be a JSON object") }
        if let path = firstNull(in: original, path: "") {
            throw .invalidField(field: path, message: "\(path): null is not a value; leave the field out instead")
        }
        let request: Request
        do {
            request = try JSONDecoder().decode(Request.self, from: data)
        } catch let error as DecodingError {
            throw failure(for: error, original: original)
        } catch {
            throw .badRequest("the request cannot be read: \(error)")
        }
        let understood: JSONValue
        do {
            understood = try JSONDecoder().decode(JSONValue.self, from: Data(JSONWriter.encode(request)))
        } catch {
            throw .internalError("cannot re-encode the request: \(error)")
        }
        if let path = firstUnknownField(original, understood: understood, path: "") {
            throw .invalidField(field: path, message: "unknown field '\(path)'")
        }
        return request
    }

    static func render(_ codingPath: [any CodingKey]) -> String {
        DecodingErrorText.path(codingPath)
    }

    private static func failure(for error: DecodingError, original: JSONValue) -> SandboxFailure {
        switch error {
        case .keyNotFound(let key, let context):
            return .missingRequiredField(field: render(context.codingPath + [key]))
        case .typeMismatch(let type, let context):
            let path = render(context.codingPath)
            return .unexpectedJSONType(field: path, expected: jsonTypeName(of: type), actual: jsonTypeName(of: value(at: context.codingPath, in: original)))
        case .valueNotFound(let type, let context):
            return .unexpectedJSONType(field: render(context.codingPath), expected: jsonTypeName(of: type), actual: "null")
        case .dataCorrupted(let context):
            let path = render(context.codingPath)
            return .badRequest("\(path.isEmpty ? "the body" : path): \(context.debugDescription)")
        @unknown default:
            return .badRequest("the request cannot be read")
        }
    }

    private static func jsonTypeName(of type: Any.Type) -> String {
        let name = String(describing: type)
        if type == String.self { return "string" }
        if type == Bool.self { return "bool" }
        if [Int64.self, Int32.self, Int.self, Double.self].contains(where: { $0 == type }) { return "number" }
        if name.hasPrefix("Array") || name.hasPrefix("[") && !name.contains(":") { return "array" }
        return "object"
    }

    private static func jsonTypeName(of value: JSONValue?) -> String {
        switch value {
        case .none, .null: "null"
        case .bool: "bool"
        case .integer, .number: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }

    private static func value(at path: [any CodingKey], in root: JSONValue) -> JSONValue? {
        var current: JSONValue? = root
        for key in path {
            switch current {
            case .object(let fields): current = fields[key.stringValue]
            case .array(let items):
                guard let index = key.intValue, items.indices.contains(index) else { return nil }
                current = items[index]
            default: return nil
            }
        }
        return current
    }

    private static func join(_ path: String, _ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    private static func firstNull(in value: JSONValue, path: String) -> String? {
        switch value {
        case .null: return path
        case .object(let fields):
            for key in fields.keys.sorted() {
                if let found = firstNull(in: fields[key] ?? .null, path: join(path, key)) { return found }
            }
        case .array(let items):
            for (index, item) in items.enumerated() {
                if let found = firstNull(in: item, path: "\(path)[\(index)]") { return found }
            }
        default: break
        }
        return nil
    }

    private static func firstUnknownField(_ original: JSONValue, understood: JSONValue?, path: String) -> String? {
        switch (original, understood) {
        case (.object(let fields), .object(let known)):
            for key in fields.keys.sorted() {
                guard let knownValue = known[key] else { return join(path, key) }
                if let found = firstUnknownField(fields[key] ?? .null, understood: knownValue, path: join(path, key)) { return found }
            }
        case (.object(let fields), _):
            return fields.keys.sorted().first.map { join(path, $0) }
        case (.array(let items), .array(let known)):
            for (index, item) in items.enumerated() where index < known.count {
                if let found = firstUnknownField(item, understood: known[index], path: "\(path)[\(index)]") { return found }
            }
        default: break
        }
        return nil
    }
}
