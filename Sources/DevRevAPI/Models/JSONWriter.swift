import Foundation

/// Writes a `JSONValue` as compact JSON bytes, keys sorted: what
/// `JSONEncoder` with `.sortedKeys` and `.withoutEscapingSlashes` writes for plain keys, several
/// times faster (no `Encodable` round trip). Strings are escaped as RFC 8259 requires (`"`, `\`,
/// and control characters; `\b \f \n \r \t` in their short forms), everything else as UTF-8.
public enum JSONWriter {
    /// The one JSON encoding of the project for `Encodable` types (requests, reports, plans, the
    /// sandbox's answers and storage): keys sorted, slashes unescaped, compact unless `pretty`.
    /// `JSONValue`s go through `bytes(_:)`, which writes the same text without the round trip.
    public static func encode<Value: Encodable>(_ value: Value, pretty: Bool = false) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.sortedKeys, .withoutEscapingSlashes, .prettyPrinted] : [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(value))
    }

    public struct NonFiniteNumber: Error, CustomStringConvertible {
        public let value: Double
        public var description: String { "\(value) is not a JSON number" }
    }

    public static func bytes(_ value: JSONValue) throws(NonFiniteNumber) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(256)
        try write(value, into: &output)
        return output
    }

    public static func write(_ value: JSONValue, into output: inout [UInt8]) throws(NonFiniteNumber) {
        switch value {
        case .null: output += [0x6E, 0x75, 0x6C, 0x6C]
        case .bool(let flag): output += flag ? [0x74, 0x72, 0x75, 0x65] : [0x66, 0x61, 0x6C, 0x73, 0x65]
        case .integer(let number): write(integer: number, into: &output)
        case .number(let number): try write(number: number, into: &output)
        case .string(let text): write(string: text, into: &output)
        case .array(let items):
            output.append(0x5B)
            for (index, item) in items.enumerated() {
                if index > 0 { output.append(0x2C) }
                try write(item, into: &output)
            }
            output.append(0x5D)
        case .object(let fields):
            output.append(0x7B)
            // String order: by Unicode scalars, as JSONEncoder sorts (byte order for ASCII keys).
            var first = true
            for (key, item) in fields.sorted(by: { $0.key < $1.key }) {
                if !first { output.append(0x2C) }
                first = false
                write(string: key, into: &output)
                output.append(0x3A)
                try write(item, into: &output)
            }
            output.append(0x7D)
        }
    }

    private static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    /// An integer in decimal, as `String(number)` writes it.
    public static func write(integer number: Int64, into output: inout [UInt8]) {
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)
        var magnitude = number.magnitude
        withUnsafeMutableBytes(of: &digits) { buffer in
            var position = buffer.count
            repeat {
                position -= 1
                buffer[position] = UInt8(truncatingIfNeeded: magnitude % 10) &+ 0x30
                magnitude /= 10
            } while magnitude > 0
            if number < 0 { output.append(0x2D) }
            output.append(contentsOf: buffer[position...])
        }
    }

    /// A double as `JSONEncoder` writes it: integral values below 1e15 without a fraction (2.0
    /// is `2`), others as `String(number)`.
    public static func write(number: Double, into output: inout [UInt8]) throws(NonFiniteNumber) {
        guard number.isFinite else { throw NonFiniteNumber(value: number) }
        if number == number.rounded(), abs(number) < 1e15 {
            write(integer: Int64(number), into: &output)
        } else {
            output += String(number).utf8
        }
    }

    /// A JSON string literal, escaped as above.
    public static func write(string text: String, into output: inout [UInt8]) {
        var text = text
        text.withUTF8 { write(utf8: UnsafeRawBufferPointer($0), into: &output) }
    }

    /// A JSON string literal of text already known to be valid UTF-8, escaped as above.
    public static func write(utf8 bytes: UnsafeRawBufferPointer, into output: inout [UInt8]) {
        output.append(0x22)
        // Most strings need no escaping: copy them in one go.
        if !ByteScan.needsJSONEscape(bytes) {
            output.append(contentsOf: bytes.assumingMemoryBound(to: UInt8.self))
            output.append(0x22)
            return
        }
        for byte in bytes {
            switch byte {
            case 0x22: output += [0x5C, 0x22]
            case 0x5C: output += [0x5C, 0x5C]
            case 0x08: output += [0x5C, 0x62]
            case 0x0C: output += [0x5C, 0x66]
            case 0x0A: output += [0x5C, 0x6E]
            case 0x0D: output += [0x5C, 0x72]
            case 0x09: output += [0x5C, 0x74]
            case 0x00..<0x20: output += [0x5C, 0x75, 0x30, 0x30, hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]]
            default: output.append(byte)
            }
        }
        output.append(0x22)
    }
}
