import DevRevAPI
import LuaRuntime

/// Reads a page of `incidents.list` from its bytes straight onto the Lua stack, in one pass: the
/// items as `LuaJSON.push` pushes them after `JSONParser`, the response schema check
/// (`ResponseSchema`) and the binding's own checks (`ResponseShape.items`), without the
/// `JSONValue` tree in between.
///
/// It decodes only what it is sure of. Whatever the slow way would refuse (text that is not
/// strict JSON, a field of the wrong type, an incident without its ids), and a rare thing it
/// would accept (a key with an escape in it, or a byte past ASCII), make it give up (nil):
/// the caller discards what was pushed and decodes the page the slow way, which says what is
/// wrong, in the same words.
struct PageDecoder {
    /// What the run needs of a page besides its items.
    struct Decoded {
        /// `next_cursor`, when it is a string.
        var nextCursor: String?
        /// Each incident's place in the page's bytes, with its ids: what the run remembers of it.
        var incidents: [IncidentMemory.Located] = []
    }

    private struct GiveUp: Error {}
    private typealias Shape = DevRevAPI.ResponseShape

    /// What `JSONParser` refuses past (`LuaJSON.maximumDepth`).
    private static let maximumDepth = LuaJSON.maximumDepth
    /// Keys of one object that the schema does not name, past which the parser reads the page.
    private static let maximumUnknownKeys = 64

    private let bytes: UnsafeRawBufferPointer
    private var offset = 0
    private var decoded = Decoded()
    /// Unescaped string bytes, reused.
    private var unescaped: [UInt8] = []
    /// Per object depth, kept between objects: which known fields were seen, and where the
    /// unknown keys lie, to refuse a key that appears twice as `JSONParser` does.
    private var seenFields = DepthBuffers<UInt64>()
    private var unknownKeys = DepthBuffers<Range<Int>>()

    private init(bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    /// Pushes the items under `incidents` of the page `body` (an empty array when there are none)
    /// onto `results`; nil, with nothing pushed, when the slow way must decode it.
    static func pushIncidents(of body: [UInt8], into results: inout LuaResults) -> Decoded? {
        guard let root = ResponseShapes.roots[DevRevOperation.listIncidents.name] else { return nil }
        let mark = results.mark
        var pushing: LuaResults? = results
        let decoded = body.withUnsafeBytes { (raw) -> Decoded? in
            var decoder = PageDecoder(bytes: raw)
            do throws(GiveUp) {
                try decoder.page(root: root, into: &pushing)
                return decoder.decoded
            } catch {
                return nil
            }
        }
        if decoded == nil {
            results.discard(since: mark)
        } else if let pushing {
            results = pushing
        }
        return decoded
    }

    // MARK: The page

    private mutating func page(root: Int, into results: inout LuaResults?) throws(GiveUp) {
        let object = ResponseShapes.objects[root]
        guard let itemsField = Self.index("incidents", in: object), case .array(.object(let incident)) = object.shapes[itemsField],
              let cursorField = Self.index("next_cursor", in: object)
        else { throw GiveUp() }
        skipWhitespace()
        guard current == UInt8(ascii: "{") else { throw GiveUp() }
        var pushedItems = false
        try members(of: object, depth: 1) { (decoder, field, _) throws(GiveUp) -> Bool in
            if field == itemsField {
                guard decoder.current == UInt8(ascii: "[") else { throw GiveUp() }
                try decoder.incidents(shape: incident, depth: 2, into: &results)
                pushedItems = true
                return true
            }
            if field == cursorField, decoder.current == UInt8(ascii: "\"") {
                let cursor = try decoder.string()
                decoder.decoded.nextCursor = decoder.withBytes(of: cursor) { String(decoding: $0, as: UTF8.self) }
                return true
            }
            return false
        }
        skipWhitespace()
        guard offset == bytes.count else { throw GiveUp() }
        if !pushedItems {
            try pushing { () throws(LuaResultError) in
                try results?.beginTable(items: 0, emptyArray: true)
                results?.endTable()
            }
        }
    }

    /// The incidents array, each item an incident with string ids, pushed.
    private mutating func incidents(shape: Int, depth: Int, into results: inout LuaResults?) throws(GiveUp) {
        let object = ResponseShapes.objects[shape]
        guard let idField = Self.index("id", in: object), let displayField = Self.index("display_id", in: object) else { throw GiveUp() }
        try array(depth: depth, push: &results) { (decoder, results) throws(GiveUp) in
            guard decoder.current == UInt8(ascii: "{") else { throw GiveUp() }
            let start = decoder.offset
            var id: String?
            var displayID: String?
            try decoder.object(shape: Optional(object), depth: depth + 1, push: &results) { (field, text) in
                if field == idField { id = text() }
                if field == displayField { displayID = text() }
            }
            guard let id, let displayID else { throw GiveUp() }
            decoder.decoded.incidents.append(.init(id: id, displayID: displayID, range: start..<decoder.offset))
        }
    }

    private static func index(_ name: StaticString, in object: ResponseObject) -> Int? {
        name.withUTF8Buffer { object.names.index(of: UnsafeRawBufferPointer($0)) }
    }

    // MARK: Values

    /// A value checked against `shape` (nil: anything goes), pushed when `results` is given.
    /// `inArray`: an item of a checked array, which may not be null.
    private mutating func value(_ shape: Shape?, depth: Int, inArray: Bool = false, push results: inout LuaResults?) throws(GiveUp) {
        guard let byte = current else { throw GiveUp() }
        switch byte {
        case UInt8(ascii: "{"):
            if let shape {
                switch shape {
                case .object(let index):
                    let object = ResponseShapes.objects[index]
                    // A model without fields takes anything (the schema check does not look inside).
                    try self.object(shape: object.fields.isEmpty ? nil : object, depth: depth + 1, push: &results, found: { _, _ in })
                    return
                case .freeform, .any:
                    break
                default:
                    throw GiveUp()
                }
            }
            try self.object(shape: nil, depth: depth + 1, push: &results, found: { _, _ in })
        case UInt8(ascii: "["):
            var item: Shape?
            if let shape {
                switch shape {
                case .array(let itemShape): item = itemShape
                case .any: item = nil
                case .object(let index) where ResponseShapes.objects[index].fields.isEmpty: item = nil
                default: throw GiveUp()
                }
            }
            let checked = item != nil
            try array(depth: depth + 1, push: &results) { (decoder, results) throws(GiveUp) in
                try decoder.value(item, depth: depth + 1, inArray: checked, push: &results)
            }
        case UInt8(ascii: "\""):
            try accept(shape, .string)
            let text = try string()
            if results != nil {
                let pushed = withBytes(of: text) { (try? results?.pushString(bytes: $0)) != nil }
                guard pushed else { throw GiveUp() }
            }
        case UInt8(ascii: "t"), UInt8(ascii: "f"):
            try accept(shape, .boolean)
            let flag = byte == UInt8(ascii: "t")
            try literal(flag ? "true" : "false")
            try pushing { () throws(LuaResultError) in try results?.pushBoolean(flag) }
        case UInt8(ascii: "n"):
            // A null field passes the schema check; a null item of a checked array does not.
            if inArray { throw GiveUp() }
            try literal("null")
            try pushing { () throws(LuaResultError) in try results?.pushNull() }
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            try number(shape, push: &results)
        default:
            throw GiveUp()
        }
    }

    /// Whether a string or a boolean may stand where `shape` is.
    private func accept(_ shape: Shape?, _ kind: Shape) throws(GiveUp) {
        guard let shape else { return }
        switch (shape, kind) {
        case (.any, _), (.string, .string), (.boolean, .boolean): return
        case (.object(let index), _) where ResponseShapes.objects[index].fields.isEmpty: return
        default: throw GiveUp()
        }
    }

    /// Runs `push`; a push that fails (the Lua stack cannot grow) is a reason to give up.
    private func pushing(_ push: () throws(LuaResultError) -> Void) throws(GiveUp) {
        do {
            try push()
        } catch {
            throw GiveUp()
        }
    }

    /// An object's members, checked against `shape` (nil: unchecked), pushed as a table when
    /// `results` is given. `found` is told of each field of the shape whose value is a string,
    /// with a way to have it as text.
    private mutating func object(
        shape: ResponseObject?, depth: Int, push results: inout LuaResults?, found: (Int, () -> String) -> Void
    ) throws(GiveUp) {
        try pushing { () throws(LuaResultError) in try results?.beginTable(fields: shape.map { min($0.shapes.count, 64) } ?? 4) }
        try members(of: shape, depth: depth) { (decoder, field, keyBytes) throws(GiveUp) -> Bool in
            try decoder.pushing { () throws(LuaResultError) in try results?.pushString(bytes: keyBytes) }
            let fieldShape = field.map { shape?.shapes[$0] } ?? nil
            let start = decoder.offset
            try decoder.value(fieldShape, depth: depth, push: &results)
            results?.setField()
            if let field, decoder.bytes[start] == UInt8(ascii: "\"") {
                found(field) { decoder.text(at: start) }
            }
            return true
        }
        results?.endTable()
    }

    /// The members of the object at the cursor (`{` ... `}`), depth `depth`. For each, with the
    /// cursor at its value: `member(decoder, field, key)`, where `field` is the key's position in
    /// `shape` (nil for a key it does not name), which reads the value and returns true, or
    /// returns false to have it read (and checked against the shape) without pushing it.
    private mutating func members(
        of shape: ResponseObject?, depth: Int,
        _ member: (inout PageDecoder, Int?, UnsafeRawBufferPointer) throws(GiveUp) -> Bool
    ) throws(GiveUp) {
        guard depth <= Self.maximumDepth else { throw GiveUp() }
        offset += 1
        skipWhitespace()
        if current == UInt8(ascii: "}") {
            offset += 1
            return
        }
        var seen = seenFields.take(depth)
        var unknown = unknownKeys.take(depth)
        defer {
            seenFields.giveBack(&seen, depth)
            unknownKeys.giveBack(&unknown, depth)
        }
        if let shape { seen.append(contentsOf: repeatElement(0, count: (shape.shapes.count + 63) / 64)) }
        while true {
            skipWhitespace()
            guard current == UInt8(ascii: "\"") else { throw GiveUp() }
            let key = try plainKey()
            let field = shape?.names.index(of: key)
            if let field {
                let bit: UInt64 = 1 << UInt64(field % 64)
                guard seen[field / 64] & bit == 0 else { throw GiveUp() }
                seen[field / 64] |= bit
            } else {
                // Each unknown key is compared with those before it: past a few dozen (a hostile
                // or unusual object), the parser's dictionary does it in linear time instead.
                guard unknown.count < Self.maximumUnknownKeys else { throw GiveUp() }
                let range = (key.baseAddress! - bytes.baseAddress!)..<(key.baseAddress! - bytes.baseAddress! + key.count)
                for earlier in unknown where earlier.count == range.count && bytes[earlier].elementsEqual(key) { throw GiveUp() }
                unknown.append(range)
            }
            skipWhitespace()
            guard current == UInt8(ascii: ":") else { throw GiveUp() }
            offset += 1
            skipWhitespace()
            if try !member(&self, field, key) {
                var none: LuaResults?
                try value(field.map { shape?.shapes[$0] } ?? nil, depth: depth, push: &none)
            }
            skipWhitespace()
            switch current {
            case UInt8(ascii: ","): offset += 1
            case UInt8(ascii: "}"):
                offset += 1
                return
            default: throw GiveUp()
            }
        }
    }

    /// The items of the array at the cursor, each read by `item`, pushed as a table when
    /// `results` is given (an empty one marked as an array).
    private mutating func array(depth: Int, push results: inout LuaResults?,
                                _ item: (inout PageDecoder, inout LuaResults?) throws(GiveUp) -> Void) throws(GiveUp) {
        guard depth <= Self.maximumDepth else { throw GiveUp() }
        offset += 1
        skipWhitespace()
        if current == UInt8(ascii: "]") {
            offset += 1
            try pushing { () throws(LuaResultError) in
                try results?.beginTable(items: 0, emptyArray: true)
                results?.endTable()
            }
            return
        }
        try pushing { () throws(LuaResultError) in try results?.beginTable(items: 8) }
        var count = 0
        while true {
            skipWhitespace()
            try item(&self, &results)
            count += 1
            results?.setItem(count)
            skipWhitespace()
            switch current {
            case UInt8(ascii: ","): offset += 1
            case UInt8(ascii: "]"):
                offset += 1
                results?.endTable()
                return
            default: throw GiveUp()
            }
        }
    }

    // MARK: Scalars

    private var current: UInt8? { offset < bytes.count ? bytes[offset] : nil }

    private mutating func skipWhitespace() {
        while offset < bytes.count {
            switch bytes[offset] {
            case 0x20, 0x09, 0x0A, 0x0D: offset += 1
            default: return
            }
        }
    }

    private mutating func literal(_ word: StaticString) throws(GiveUp) {
        let length = word.utf8CodeUnitCount
        guard offset + length <= bytes.count,
              UnsafeBufferPointer(start: word.utf8Start, count: length).elementsEqual(bytes[offset..<offset + length])
        else { throw GiveUp() }
        offset += length
    }

    /// A number as `JSONParser` reads it: an integer when it has neither fraction nor exponent and
    /// fits an Int64, else a finite Double.
    private mutating func number(_ shape: Shape?, push results: inout LuaResults?) throws(GiveUp) {
        let start = offset
        var integral = true
        if current == UInt8(ascii: "-") { offset += 1 }
        guard let first = current, first >= UInt8(ascii: "0"), first <= UInt8(ascii: "9") else { throw GiveUp() }
        if first == UInt8(ascii: "0") {
            offset += 1
            if let next = current, next >= UInt8(ascii: "0"), next <= UInt8(ascii: "9") { throw GiveUp() }
        } else {
            skipDigits()
        }
        if current == UInt8(ascii: ".") {
            integral = false
            offset += 1
            guard skipDigits() > 0 else { throw GiveUp() }
        }
        if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
            integral = false
            offset += 1
            if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { offset += 1 }
            guard skipDigits() > 0 else { throw GiveUp() }
        }
        let text = UnsafeRawBufferPointer(rebasing: bytes[start..<offset])
        if integral, let integer = Self.integer(text) {
            switch shape {
            case nil, .any?, .int64?, .number?: break
            case .int32?: guard Int32(exactly: integer) != nil else { throw GiveUp() }
            case .object(let index)? where ResponseShapes.objects[index].fields.isEmpty: break
            default: throw GiveUp()
            }
            try pushing { () throws(LuaResultError) in try results?.pushInteger(integer) }
            return
        }
        switch shape {
        case nil, .any?, .number?: break
        case .object(let index)? where ResponseShapes.objects[index].fields.isEmpty: break
        default: throw GiveUp()
        }
        guard let number = Double(String(decoding: text, as: UTF8.self)), number.isFinite else { throw GiveUp() }
        try pushing { () throws(LuaResultError) in try results?.pushNumber(number) }
    }

    /// The integer an integral number's text is, if it fits an Int64.
    private static func integer(_ text: UnsafeRawBufferPointer) -> Int64? {
        let negative = text.first == UInt8(ascii: "-")
        let digits = negative ? UnsafeRawBufferPointer(rebasing: text.dropFirst()) : text
        guard digits.count <= 18 else { return Int64(String(decoding: text, as: UTF8.self)) }
        var value: Int64 = 0
        for digit in digits { value = value * 10 + Int64(digit &- 0x30) }
        return negative ? -value : value
    }

    @discardableResult
    private mutating func skipDigits() -> Int {
        let start = offset
        while let byte = current, byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") { offset += 1 }
        return offset - start
    }

    /// A key of ASCII without escapes, as its bytes in the page. Any other is left to the slow
    /// way: `JSONParser` compares keys as Swift strings, which two spellings of one accented
    /// letter are equal as, so only for ASCII is a duplicate the same bytes.
    private mutating func plainKey() throws(GiveUp) -> UnsafeRawBufferPointer {
        offset += 1
        let start = offset
        while let byte = current, byte != UInt8(ascii: "\""), byte != UInt8(ascii: "\\"), byte >= 0x20, byte < 0x80 { offset += 1 }
        guard current == UInt8(ascii: "\"") else { throw GiveUp() }
        let key = UnsafeRawBufferPointer(rebasing: bytes[start..<offset])
        offset += 1
        return key
    }

    /// The text of the string that starts at `start` (already read once, so valid).
    private func text(at start: Int) -> String {
        var copy = PageDecoder(bytes: bytes)
        copy.offset = start
        guard let string = try? copy.string() else { return "" }
        return copy.withBytes(of: string) { String(decoding: $0, as: UTF8.self) }
    }

    /// Where a string's bytes are: in the page (no escapes), or unescaped in `unescaped` (until
    /// the next string is read).
    private enum StringBytes {
        case page(Range<Int>)
        case unescaped
    }

    private func withBytes<Result>(of string: StringBytes, _ body: (UnsafeRawBufferPointer) -> Result) -> Result {
        switch string {
        case .page(let range): body(UnsafeRawBufferPointer(rebasing: bytes[range]))
        case .unescaped: unescaped.withUnsafeBytes(body)
        }
    }

    /// A string, unescaped and valid UTF-8, as `JSONParser` reads it.
    private mutating func string() throws(GiveUp) -> StringBytes {
        offset += 1
        let start = offset
        while let byte = current, byte != UInt8(ascii: "\""), byte != UInt8(ascii: "\\"), byte >= 0x20 { offset += 1 }
        if current == UInt8(ascii: "\"") {
            let raw = UnsafeRawBufferPointer(rebasing: bytes[start..<offset])
            offset += 1
            guard ByteScan.isASCII(raw) || String(validating: raw, as: UTF8.self) != nil else { throw GiveUp() }
            return .page(start..<offset - 1)
        }
        unescaped.removeAll(keepingCapacity: true)
        unescaped.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[start..<offset]))
        while true {
            guard let byte = current else { throw GiveUp() }
            switch byte {
            case UInt8(ascii: "\""):
                offset += 1
                let valid = unescaped.withUnsafeBytes { ByteScan.isASCII($0) || String(validating: $0, as: UTF8.self) != nil }
                guard valid else { throw GiveUp() }
                return .unescaped
            case UInt8(ascii: "\\"):
                offset += 1
                try escape()
            case ..<0x20:
                throw GiveUp()
            default:
                unescaped.append(byte)
                offset += 1
            }
        }
    }

    private mutating func escape() throws(GiveUp) {
        do throws(JSONEscape.Problem) {
            try JSONEscape.decode(bytes, at: &offset, into: &unescaped)
        } catch {
            throw GiveUp()
        }
    }
}
