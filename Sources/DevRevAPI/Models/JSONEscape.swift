/// The escapes of a JSON string (RFC 8259): one decoder for every reader of JSON text in the
/// project (`JSONParser`, and RunbookKit's page decoder), so that they take and refuse the same.
public enum JSONEscape {
    /// Why an escape is not one JSON allows, and the offset `JSONParser` reports it at.
    public struct Problem: Error {
        public let message: String
        public let offset: Int
    }

    /// Decodes the escape whose backslash is just before `offset` in `bytes` (so `offset` is at
    /// the letter after it), appending its UTF-8 bytes to `output` and moving `offset` past it.
    /// `\u` escapes must pair their surrogates.
    public static func decode(_ bytes: UnsafeRawBufferPointer, at offset: inout Int, into output: inout [UInt8]) throws(Problem) {
        guard offset < bytes.count else { throw Problem(message: "the string ends inside an escape", offset: offset) }
        let byte = bytes[offset]
        offset += 1
        switch byte {
        case UInt8(ascii: "\""): output.append(0x22)
        case UInt8(ascii: "\\"): output.append(0x5C)
        case UInt8(ascii: "/"): output.append(0x2F)
        case UInt8(ascii: "b"): output.append(0x08)
        case UInt8(ascii: "f"): output.append(0x0C)
        case UInt8(ascii: "n"): output.append(0x0A)
        case UInt8(ascii: "r"): output.append(0x0D)
        case UInt8(ascii: "t"): output.append(0x09)
        case UInt8(ascii: "u"):
            let escapeStart = offset - 2
            var scalar = try hexQuad(bytes, at: &offset)
            if (0xD800...0xDBFF).contains(scalar) {
                let unpaired = Problem(message: "a \\u escape of a high surrogate is not followed by its low surrogate", offset: escapeStart)
                guard offset + 1 < bytes.count, bytes[offset] == UInt8(ascii: "\\"), bytes[offset + 1] == UInt8(ascii: "u") else { throw unpaired }
                offset += 2
                let low = try hexQuad(bytes, at: &offset)
                guard (0xDC00...0xDFFF).contains(low) else { throw unpaired }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            } else if (0xDC00...0xDFFF).contains(scalar) {
                throw Problem(message: "a \\u escape of a lone low surrogate", offset: escapeStart)
            }
            guard let unicode = Unicode.Scalar(scalar), let encoded = UTF8.encode(unicode) else {
                throw Problem(message: "an invalid \\u escape", offset: escapeStart)
            }
            output.append(contentsOf: encoded)
        default:
            throw Problem(message: "an invalid escape '\\\(Character(Unicode.Scalar(byte)))'", offset: offset - 2)
        }
    }

    private static func hexQuad(_ bytes: UnsafeRawBufferPointer, at offset: inout Int) throws(Problem) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard offset < bytes.count else { throw Problem(message: "a \\u escape needs four hex digits", offset: offset) }
            let byte = bytes[offset]
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
            default: throw Problem(message: "a \\u escape needs four hex digits", offset: offset)
            }
            value = value << 4 | digit
            offset += 1
        }
        return value
    }
}
