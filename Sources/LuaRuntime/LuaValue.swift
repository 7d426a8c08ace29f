/// A Lua value on the Swift side of the bridge.
///
/// Tables become `.array` (keys exactly 1...n), `.object` (string keys only) or `.emptyTable`
/// (no keys: the reader of the value decides whether that is an empty array or an empty object).
/// `json.null` is `.null`; an empty table marked with `json.array()` is `.array([])`.
public enum LuaValue: Sendable, Hashable {
    case `nil`
    case boolean(Bool)
    case integer(Int64)
    case number(Double)
    case string(LuaString)
    case array([LuaValue])
    case object([String: LuaValue])
    case emptyTable
    case null

    /// The Lua type name of this value, as `type()` would say it (`json.null` is "null").
    public var typeName: String {
        switch self {
        case .nil: "nil"
        case .boolean: "boolean"
        case .integer, .number: "number"
        case .string: "string"
        case .array, .object, .emptyTable: "table"
        case .null: "null"
        }
    }

    /// The value as an integer: integers, and floats with an integral value in Int64's range.
    public var integerValue: Int64? {
        switch self {
        case .integer(let value): value
        case .number(let value):
            if value.rounded(.towardZero) == value, value >= -9.223372036854775808e18, value < 9.223372036854775808e18 {
                Int64(value)
            } else {
                nil
            }
        default: nil
        }
    }

    /// The text of a string value that is valid UTF-8.
    public var stringValue: String? {
        if case .string(let string) = self { string.text } else { nil }
    }
}

extension LuaValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByFloatLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    public init(stringLiteral value: String) { self = .string(LuaString(value)) }
    public init(integerLiteral value: Int64) { self = .integer(value) }
    public init(booleanLiteral value: Bool) { self = .boolean(value) }
    public init(floatLiteral value: Double) { self = .number(value) }
    public init(arrayLiteral elements: LuaValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, LuaValue)...) {
        self = elements.isEmpty ? .emptyTable : .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
}

/// A Lua string: bytes, read by length. It may hold NUL bytes and need not be UTF-8.
public struct LuaString: Sendable, Hashable, CustomStringConvertible, ExpressibleByStringLiteral {
    public var bytes: [UInt8]

    public init(stringLiteral value: String) { self.init(value) }

    public init(bytes: [UInt8]) { self.bytes = bytes }
    public init(_ text: String) { self.bytes = Array(text.utf8) }

    /// The string as text, or nil when it is not valid UTF-8.
    public var text: String? {
        // ASCII (most strings a script sends) is valid UTF-8 as it is: skip the general validator.
        if bytes.allSatisfy({ $0 < 0x80 }) { return String(decoding: bytes, as: UTF8.self) }
        return String(validating: bytes, as: UTF8.self)
    }

    /// The text, with invalid UTF-8 replaced by U+FFFD; for messages only.
    public var description: String { String(decoding: bytes, as: UTF8.self) }
}
