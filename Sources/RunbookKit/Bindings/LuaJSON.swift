import DevRevAPI
import Foundation
import LuaRuntime

/// Values between Lua and JSON: integers stay integers, `json.null` is null, an empty table is
/// `{}` unless marked with `json.array()`, strings must be UTF-8.
enum LuaJSON {
    struct Failure: Error, CustomStringConvertible {
        var path: String
        var problem: String
        var description: String { path.isEmpty ? problem : "\(path): \(problem)" }
    }

    static func json(from value: LuaValue, path: String = "") throws(Failure) -> JSONValue {
        switch value {
        case .nil, .null: return .null
        case .boolean(let flag): return .bool(flag)
        case .integer(let integer): return .integer(integer)
        case .number(let number): return .number(number)
        case .string(let string):
            guard let text = string.text else { throw Failure(path: path, problem: "the string is not valid UTF-8") }
            return .string(text)
        case .emptyTable: return .object([:])
        case .array(let items):
            var result: [JSONValue] = []
            result.reserveCapacity(items.count)
            for (index, item) in items.enumerated() {
                result.append(try json(from: item, path: "\(path)[\(index + 1)]"))
            }
            return .array(result)
        case .object(let fields):
            var result: [String: JSONValue] = [:]
            for (key, item) in fields {
                result[key] = try json(from: item, path: path.isEmpty ? key : "\(path).\(key)")
            }
            return .object(result)
        }
    }

    static func lua(from value: JSONValue) -> LuaValue {
        switch value {
        case .null: .null
        case .bool(let flag): .boolean(flag)
        case .integer(let integer): .integer(integer)
        case .number(let number): .number(number)
        case .string(let text): .string(LuaString(text))
        case .array(let items): .array(items.map(lua(from:)))
        case .object(let fields): fields.isEmpty ? .emptyTable : .object(fields.mapValues(lua(from:)))
        }
    }

    /// Pushes `value` onto the Lua stack as `lua(from:)` converts it, without the `LuaValue` in between.
    static func push(_ value: JSONValue, to results: inout LuaResults) throws(LuaResultError) {
        switch value {
        case .null: try results.pushNull()
        case .bool(let flag): try results.pushBoolean(flag)
        case .integer(let integer): try results.pushInteger(integer)
        case .number(let number): try results.pushNumber(number)
        case .string(let text): try results.pushString(text)
        case .array(let items):
            try results.beginTable(items: items.count, emptyArray: items.isEmpty)
            for (offset, item) in items.enumerated() {
                try push(item, to: &results)
                results.setItem(offset + 1)
            }
            results.endTable()
        case .object(let fields):
            try results.beginTable(fields: fields.count)
            for (key, item) in fields {
                try results.pushString(key)
                try push(item, to: &results)
                results.setField()
            }
            results.endTable()
        }
    }

    /// Compact JSON, keys sorted (see `JSONWriter`).
    static func encode(_ value: JSONValue) throws -> [UInt8] {
        try JSONWriter.bytes(value)
    }

    /// Tables nested deeper than this are refused, in both directions.
    static let maximumDepth = 64

    /// Strict JSON (see `JSONParser`): a response DevRev sent, or a text a script decodes.
    static func decode(_ bytes: [UInt8]) throws(JSONParseError) -> JSONValue {
        try JSONParser(maximumDepth: maximumDepth).parse(bytes)
    }
}
