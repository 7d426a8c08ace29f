import DevRevAPI
import Foundation
import LuaRuntime

/// Converts a script's table into a request body that matches the schema, field by field, with
/// the conveniences of docs/lua-api.md and errors that name the full path.
///
/// - a plain array where the API wants `{set = [...]}`;
/// - a string where it wants `{stage = "..."}`;
/// - an integer (Unix seconds) or an RFC 3339 string for any date-time;
/// - a date filter without `type`: `range` when it has `after` or `before`, `preset` when it has
///   `preset_type`;
/// - integral floats where integers are expected; int64 and int32 ranges checked.
struct RequestConverter {
    /// e.g. "incident.update", for messages.
    let function: String

    func convert(_ value: LuaValue, shape: ObjectShape) throws(ScriptFailure) -> JSONValue {
        try object(value, shape: shape, path: "")
    }

    /// A field's value, converted as it is inside a request (its path is not named in errors).
    func convert(_ value: LuaValue, shape: RequestShape) throws(ScriptFailure) -> JSONValue {
        try convert(value, shape: shape, path: "")
    }

    private func fail(_ path: String, _ problem: String) -> ScriptFailure {
        ScriptFailure.validation(function, field: path.isEmpty ? nil : path, problem)
    }

    private func join(_ path: String, _ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    private func describe(_ value: LuaValue) -> String {
        switch value {
        case .integer, .number: "number"
        case .array, .object, .emptyTable: "table"
        case .null: "json.null"
        default: value.typeName
        }
    }

    private func object(_ value: LuaValue, shape: ObjectShape, path: String) throws(ScriptFailure) -> JSONValue {
        let fields: [String: LuaValue]
        switch value {
        case .object(let given): fields = given
        case .emptyTable: fields = [:]
        case .array:
            throw fail(path, "expected a table with named fields, got an array")
        default:
            throw fail(path, "expected a table, got \(describe(value))")
        }
        var result = [String: JSONValue](minimumCapacity: fields.count + 1)
        func field(_ key: String, _ item: LuaValue) throws(ScriptFailure) {
            guard let fieldShape = shape.fields[key] else {
                var message = "unknown field '\(key)' in \(function)"
                if !path.isEmpty { message += " (in \(path))" }
                message += didYouMean(key, among: Array(shape.fields.keys))
                throw ScriptFailure(type: "validation", message: message, field: join(path, key))
            }
            result[key] = try convert(item, shape: fieldShape, path: join(path, key))
        }
        do {
            // In table order, which is cheap; on a failure, again in key order, so that of
            // several mistakes the one reported is always the same.
            for (key, item) in fields { try field(key, item) }
        } catch {
            for key in fields.keys.sorted() { try field(key, fields[key] ?? .nil) }
            throw error
        }
        if shape.name == "date-filter", result["type"] == nil {
            if result["preset_type"] != nil || result["days"] != nil {
                result["type"] = .string("preset")
            } else {
                result["type"] = .string("range")
            }
        }
        for required in shape.requiredInOrder where result[required] == nil {
            throw fail(join(path, required), "missing (required)")
        }
        return .object(result)
    }

    private func convert(_ value: LuaValue, shape: RequestShape, path: String) throws(ScriptFailure) -> JSONValue {
        if case .null = value { throw fail(path, "json.null is not accepted here; leave the field out") }
        switch shape {
        case .string:
            return .string(try text(value, path: path))
        case .dateTime:
            return .string(try dateTime(value, path: path))
        case .int64:
            return .integer(try integer(value, path: path, range: Int64.min...Int64.max, name: "int64"))
        case .int32:
            return .integer(try integer(value, path: path, range: Int64(Int32.min)...Int64(Int32.max), name: "int32"))
        case .number:
            switch value {
            case .integer(let integer): return .integer(integer)
            case .number(let number): return .number(number)
            default: throw fail(path, "expected number, got \(describe(value))")
            }
        case .boolean:
            guard case .boolean(let flag) = value else { throw fail(path, "expected boolean, got \(describe(value))") }
            return .bool(flag)
        case .enumeration(let allowed):
            let given = try text(value, path: path)
            guard allowed.contains(given) else {
                throw fail(path, "'\(given)' is not one of \(allowed.map { "'\($0)'" }.joined(separator: ", "))")
            }
            return .string(given)
        case .array(let item):
            let items: [LuaValue]
            switch value {
            case .array(let given): items = given
            case .emptyTable: items = []
            case .object: throw fail(path, "expected an array (a table with keys 1..n), got a table with named fields")
            default: throw fail(path, "expected an array, got \(describe(value))")
            }
            var result: [JSONValue] = []
            for (index, element) in items.enumerated() {
                result.append(try convert(element, shape: item, path: "\(path)[\(index + 1)]"))
            }
            return .array(result)
        case .object(let objectShape):
            if objectShape.isSetWrapper {
                switch value {
                case .array, .emptyTable:
                    // A plain array where the API wants {set = [...]}; {} empties the list.
                    guard let setShape = objectShape.fields["set"] else { break }
                    return .object(["set": try convert(value, shape: setShape, path: "\(path).set")])
                default: break
                }
            }
            if case .string = value, objectShape.fields["stage"] != nil, objectShape.fields.count <= 2 {
                // A string where the API wants {stage = "..."}.
                return .object(["stage": .string(try text(value, path: path))])
            }
            return try object(value, shape: objectShape, path: path)
        case .freeform:
            guard case .object = value else {
                if case .emptyTable = value { return .object([:]) }
                throw fail(path, "expected a table with named fields, got \(describe(value))")
            }
            return try any(value, path: path)
        case .any:
            return try any(value, path: path)
        }
    }

    private func any(_ value: LuaValue, path: String) throws(ScriptFailure) -> JSONValue {
        do {
            return try LuaJSON.json(from: value, path: path)
        } catch {
            throw fail(error.path, error.problem)
        }
    }

    private func text(_ value: LuaValue, path: String) throws(ScriptFailure) -> String {
        guard case .string(let string) = value else { throw fail(path, "expected string, got \(describe(value))") }
        guard let text = string.text else { throw fail(path, "the string is not valid UTF-8") }
        return text
    }

    private func integer(_ value: LuaValue, path: String, range: ClosedRange<Int64>, name: String) throws(ScriptFailure) -> Int64 {
        switch value {
        case .integer, .number:
            guard let integer = value.integerValue else {
                if case .number(let number) = value, number.rounded(.towardZero) == number {
                    throw fail(path, "\(number) is out of the \(name) range")
                }
                throw fail(path, "expected an integer, got \(value)")
            }
            guard range.contains(integer) else { throw fail(path, "\(integer) is out of the \(name) range") }
            return integer
        default:
            throw fail(path, "expected integer, got \(describe(value))")
        }
    }

    /// Why `seconds` is no date DevRev takes (nil when it is one), with a hint for milliseconds,
    /// the usual mistake (`os.time() * 1000` from another system).
    static func unixSecondsProblem(_ seconds: Int64) -> String? {
        guard !RFC3339.unixSecondsRange.contains(seconds) else { return nil }
        var problem = "\(seconds) is outside the years 0001 to 9999"
        if RFC3339.unixSecondsRange.contains(seconds / 1000) { problem += "; it looks like milliseconds: divide by 1000" }
        return problem
    }

    private func dateTime(_ value: LuaValue, path: String) throws(ScriptFailure) -> String {
        switch value {
        case .integer, .number:
            guard let seconds = value.integerValue else { throw fail(path, "expected whole Unix seconds, got \(value)") }
            if let problem = Self.unixSecondsProblem(seconds) { throw fail(path, problem) }
            return RFC3339.format(unixSeconds: seconds)
        case .string:
            let given = try text(value, path: path)
            guard let normalized = RFC3339.normalize(given) else {
                throw fail(path, "'\(given)' is not an RFC 3339 date-time (e.g. 2026-11-26T12:00:00Z) or Unix seconds")
            }
            return normalized
        default:
            throw fail(path, "expected a date-time (Unix seconds or an RFC 3339 string), got \(describe(value))")
        }
    }
}
