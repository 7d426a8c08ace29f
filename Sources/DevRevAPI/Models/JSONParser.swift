/// A strict RFC 8259 parser from bytes to `JSONValue`, in one pass.
///
/// - Integers (no fraction, no exponent) that fit an Int64 stay integers; every other number is a
///   Double. A number too large for a Double is refused.
/// - Strings must be UTF-8; `\u` escapes must pair their surrogates; raw control characters are
///   refused. A trailing comma, a duplicate key in one object, text after the value and nesting
///   deeper than `maximumDepth` are refused.
/// - `byteBudget` bounds the memory the result may take: every value counts `nodeCost` bytes and
///   every string and key its length. Passing it stops the parse with `JSONParseError.overBudget`.
/// Errors carry the line, column and byte offset where the text stopped being valid.
public struct JSONParser {
    /// What one value is counted as against the budget, besides its string's bytes.
    public static let nodeCost = 48
    public static let defaultMaximumDepth = 64

    public let maximumDepth: Int
    public let byteBudget: Int

    public init(maximumDepth: Int = JSONParser.defaultMaximumDepth, byteBudget: Int = .max) {
        self.maximumDepth = maximumDepth
        self.byteBudget = byteBudget
    }

    public func parse(_ bytes: [UInt8]) throws(JSONParseError) -> JSONValue {
        try bytes.withUnsafeBufferPointer { (buffer) throws(JSONParseError) -> JSONValue in
            var cursor = Cursor(bytes: buffer, maximumDepth: maximumDepth, budget: byteBudget)
            cursor.skipWhitespace()
            let value = try cursor.value(depth: 0)
            cursor.skipWhitespace()
            guard cursor.offset == buffer.count else { throw cursor.failure("unexpected text after the JSON value") }
            return value
        }
    }
}

/// Why a text is not the JSON `JSONParser` accepts.
public struct JSONParseError: Error, Sendable, Hashable, CustomStringConvertible {
    public var problem: String
    /// 0-based byte offset of the first byte that made the text invalid.
    public var offset: Int
    /// 1-based line and column (columns count bytes) of that byte.
    public var line: Int
    public var column: Int
    /// The result would have taken more memory than the parser's budget.
    public var overBudget: Bool

    public var description: String {
        overBudget ? problem : "\(problem) at line \(line), column \(column) (byte \(offset + 1))"
    }
}

private struct Cursor {
    let bytes: UnsafeBufferPointer<UInt8>
    let maximumDepth: Int
    var budget: Int
    var offset = 0
    /// The fields of the objects being parsed, one list per depth, kept between objects so that
    /// each object's dictionary is made once at its final size.
    var pendingFields: [[(key: String, value: JSONValue, offset: Int)]] = []

    init(bytes: UnsafeBufferPointer<UInt8>, maximumDepth: Int, budget: Int) {
        self.bytes = bytes
        self.maximumDepth = maximumDepth
        self.budget = budget
    }

    func failure(_ problem: String, at position: Int? = nil) -> JSONParseError {
        let position = min(position ?? offset, bytes.count)
        var line = 1
        var lineStart = 0
        for index in 0..<position where bytes[index] == UInt8(ascii: "\n") {
            line += 1
            lineStart = index + 1
        }
        return JSONParseError(problem: problem, offset: position, line: line, column: position - lineStart + 1, overBudget: false)
    }

    mutating func charge(_ cost: Int) throws(JSONParseError) {
        budget -= cost
        if budget < 0 {
            throw JSONParseError(problem: "the decoded value would take more memory than is left under the memory limit",
                                 offset: offset, line: 0, column: 0, overBudget: true)
        }
    }

    var current: UInt8? { offset < bytes.count ? bytes[offset] : nil }

    mutating func skipWhitespace() {
        while offset < bytes.count {
            switch bytes[offset] {
            case 0x20, 0x09, 0x0A, 0x0D: offset += 1
            default: return
            }
        }
    }

    func describeCurrent() -> String {
        guard let byte = current else { return "the end of the text" }
        if byte >= 0x21 && byte < 0x7F { return "'\(Character(Unicode.Scalar(byte)))'" }
        return "byte 0x\(String(byte, radix: 16, uppercase: true))"
    }

    mutating func value(depth: Int) throws(JSONParseError) -> JSONValue {
        try charge(JSONParser.nodeCost)
        guard let byte = current else { throw failure("expected a value, found the end of the text") }
        switch byte {
        case UInt8(ascii: "{"): return try object(depth: depth + 1)
        case UInt8(ascii: "["): return try array(depth: depth + 1)
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
        default: throw failure("expected a value, found \(describeCurrent())")
        }
    }

    mutating func literal(_ word: StaticString) throws(JSONParseError) {
        let start = offset
        let length = word.utf8CodeUnitCount
        guard offset + length <= bytes.count,
              UnsafeBufferPointer(start: word.utf8Start, count: length).elementsEqual(bytes[offset..<offset + length])
        else { throw failure("expected a value, found \(describeCurrent())", at: start) }
        offset += length
    }

    mutating func enter(_ depth: Int) throws(JSONParseError) {
        guard depth <= maximumDepth else {
            throw failure("nested deeper than \(maximumDepth) levels")
        }
    }

    mutating func array(depth: Int) throws(JSONParseError) -> JSONValue {
        try enter(depth)
        offset += 1
        var items: [JSONValue] = []
        skipWhitespace()
        if current == UInt8(ascii: "]") {
            offset += 1
            return .array(items)
        }
        while true {
            skipWhitespace()
            if current == UInt8(ascii: "]") { throw failure("a trailing comma before ']'") }
            items.append(try value(depth: depth))
            skipWhitespace()
            switch current {
            case UInt8(ascii: ","): offset += 1
            case UInt8(ascii: "]"): offset += 1; return .array(items)
            default: throw failure("expected ',' or ']' in an array, found \(describeCurrent())")
            }
        }
    }

    mutating func object(depth: Int) throws(JSONParseError) -> JSONValue {
        try enter(depth)
        offset += 1
        skipWhitespace()
        if current == UInt8(ascii: "}") {
            offset += 1
            return .object([:])
        }
        while pendingFields.count <= depth { pendingFields.append([]) }
        var pending: [(key: String, value: JSONValue, offset: Int)] = []
        swap(&pending, &pendingFields[depth])
        defer {
            pending.removeAll(keepingCapacity: true)
            swap(&pending, &pendingFields[depth])
        }
        while true {
            skipWhitespace()
            guard current == UInt8(ascii: "\"") else {
                if current == UInt8(ascii: "}") { throw failure("a trailing comma before '}'") }
                throw failure("expected a key (a string in double quotes), found \(describeCurrent())")
            }
            let keyStart = offset
            let key = try string()
            skipWhitespace()
            guard current == UInt8(ascii: ":") else { throw failure("expected ':' after the key, found \(describeCurrent())") }
            offset += 1
            skipWhitespace()
            pending.append((key, try value(depth: depth), keyStart))
            skipWhitespace()
            switch current {
            case UInt8(ascii: ","): offset += 1
            case UInt8(ascii: "}"):
                offset += 1
                var fields = [String: JSONValue](minimumCapacity: pending.count)
                for field in pending where fields.updateValue(field.value, forKey: field.key) != nil {
                    throw failure("the key \"\(field.key)\" appears twice in one object", at: field.offset)
                }
                return .object(fields)
            default: throw failure("expected ',' or '}' in an object, found \(describeCurrent())")
            }
        }
    }

    mutating func number() throws(JSONParseError) -> JSONValue {
        let start = offset
        var integral = true
        if current == UInt8(ascii: "-") { offset += 1 }
        guard let first = current, first >= UInt8(ascii: "0"), first <= UInt8(ascii: "9") else {
            throw failure("expected a digit after '-', found \(describeCurrent())")
        }
        if first == UInt8(ascii: "0") {
            offset += 1
            if let next = current, next >= UInt8(ascii: "0"), next <= UInt8(ascii: "9") {
                throw failure("a number cannot start with 0 followed by digits")
            }
        } else {
            skipDigits()
        }
        if current == UInt8(ascii: ".") {
            integral = false
            offset += 1
            guard skipDigits() > 0 else { throw failure("expected a digit after '.', found \(describeCurrent())") }
        }
        if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
            integral = false
            offset += 1
            if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { offset += 1 }
            guard skipDigits() > 0 else { throw failure("expected a digit in the exponent, found \(describeCurrent())") }
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<offset]), as: UTF8.self)
        if integral, let integer = Int64(text) { return .integer(integer) }
        guard let number = Double(text), number.isFinite else {
            throw failure("the number \(text) is too large", at: start)
        }
        return .number(number)
    }

    @discardableResult
    mutating func skipDigits() -> Int {
        let start = offset
        while let byte = current, byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") { offset += 1 }
        return offset - start
    }

    mutating func string() throws(JSONParseError) -> String {
        offset += 1
        let start = offset
        // The common case: no escapes; the bytes between the quotes are the string.
        while let byte = current, byte != UInt8(ascii: "\""), byte != UInt8(ascii: "\\"), byte >= 0x20 { offset += 1 }
        if current == UInt8(ascii: "\"") {
            let raw = UnsafeBufferPointer(rebasing: bytes[start..<offset])
            try charge(raw.count)
            offset += 1
            return try text(of: raw, at: start)
        }
        var unescaped = Array(bytes[start..<offset])
        while true {
            guard let byte = current else { throw failure("the string starting at byte \(start) is not closed", at: start - 1) }
            switch byte {
            case UInt8(ascii: "\""):
                offset += 1
                try charge(unescaped.count)
                return try unescaped.withUnsafeBufferPointer { (raw) throws(JSONParseError) -> String in try text(of: raw, at: start) }
            case UInt8(ascii: "\\"):
                offset += 1
                try escape(into: &unescaped)
            case ..<0x20:
                throw failure("a control character (byte 0x\(String(byte, radix: 16, uppercase: true))) must be escaped in a string")
            default:
                unescaped.append(byte)
                offset += 1
            }
        }
    }

    func text(of raw: UnsafeBufferPointer<UInt8>, at start: Int) throws(JSONParseError) -> String {
        if ByteScan.isASCII(UnsafeRawBufferPointer(raw)) { return String(decoding: raw, as: UTF8.self) }
        guard let text = String(validating: raw, as: UTF8.self) else {
            throw failure("the string is not valid UTF-8", at: start)
        }
        return text
    }

    mutating func escape(into output: inout [UInt8]) throws(JSONParseError) {
        do throws(JSONEscape.Problem) {
            try JSONEscape.decode(UnsafeRawBufferPointer(bytes), at: &offset, into: &output)
        } catch {
            throw failure(error.message, at: error.offset)
        }
    }
}
