import DevRevAPI
import LuaRuntime

/// Writes a script's table, where it lies on the Lua stack, as the JSON bytes of a request body in
/// one pass: the bytes `RequestConverter` then `JSONWriter` make of it (the same conveniences, the
/// same checks, keys sorted), without the `LuaValue` and `JSONValue` trees in between.
///
/// It writes only what it is sure of. Whatever the converter would refuse makes it give up (nil),
/// and the caller converts the table the slow way, which says what is wrong: so a script sees the
/// same error, naming the same field, whichever way its table went. Free-form fields
/// (`custom_fields`) are read as `LuaValue`s and converted as the converter does.
///
/// It counts what it reads against the memory limit as `LuaCall.value(at:)` does (every value,
/// every string's and key's bytes): a table that reading would take past the limit is left to the
/// slow way, which trips the limit.
struct RequestWriter {
    private struct GiveUp: Error {}

    /// One field of an object being written: its position in the shape's `orderedFields`, and
    /// where its value's bytes lie in that depth's fragments.
    fileprivate struct Entry {
        var field: Int
        var start: Int
        var end: Int
    }

    /// Tables deeper than this are left to the converter (whose reader refuses them at 64).
    private static let maximumDepth = LuaStackValue.maximumDepth - 4
    private static let idName: StaticString = "id"

    /// Per table depth: the values of an object's fields in table order, and where each lies, so
    /// that they can be written out in key order. Kept from one request to the next by whoever
    /// writes many (a binding), so that writing one allocates little more than its bytes.
    final class Scratch {
        fileprivate var fragments = DepthBuffers<UInt8>()
        fileprivate var entries = DepthBuffers<Entry>()

        init() {}
    }

    private let converter: RequestConverter
    private var budget: Int?
    private let scratch: Scratch
    /// The scratch's buffers while a request is written (held here, not in the class, so that
    /// using them costs no exclusivity checks).
    private var fragments = DepthBuffers<UInt8>()
    private var entries = DepthBuffers<Entry>()
    private var rootFields: [String] = []
    private var rootID: String?

    /// `budget`: what the VM has left under its memory limit (nil: no limit).
    init(function: String, budget: Int?, scratch: Scratch = Scratch()) {
        converter = RequestConverter(function: function)
        self.budget = budget
        self.scratch = scratch
    }

    /// What is left of the budget after the requests written so far (nil: no limit).
    var remainingBudget: Int? { budget }

    /// `table` written as a request of `shape`; nil when the converter must say what is wrong.
    mutating func write(_ table: LuaStackValue, shape: ObjectShape) -> EncodedRequest? {
        rootFields = []
        rootID = nil
        swap(&fragments, &scratch.fragments)
        swap(&entries, &scratch.entries)
        defer {
            swap(&fragments, &scratch.fragments)
            swap(&entries, &scratch.entries)
        }
        var output: [UInt8] = []
        output.reserveCapacity(256)
        do throws(GiveUp) {
            try charge(LuaStackValue.conversionCost)
            try object(table, shape: shape, depth: 0, into: &output)
        } catch {
            return nil
        }
        return EncodedRequest(written: output, fields: rootFields, id: rootID)
    }

    private mutating func charge(_ bytes: Int) throws(GiveUp) {
        guard let left = budget else { return }
        guard left >= bytes else { throw GiveUp() }
        budget = left - bytes
    }

    /// Text the converter accepts: a string (its bytes, `string`) of valid UTF-8.
    private func text(_ string: UnsafeRawBufferPointer?) throws(GiveUp) -> UnsafeRawBufferPointer {
        guard let string else { throw GiveUp() }
        if !ByteScan.isASCII(string), String(validating: string, as: UTF8.self) == nil { throw GiveUp() }
        return string
    }

    /// A field's value, `depth` tables deep.
    private mutating func value(_ value: LuaStackValue, shape: RequestShape, depth: Int, into output: inout [UInt8]) throws(GiveUp) {
        let kind = value.kind
        switch kind {
        case .null, .other, .none, .nil: throw GiveUp()
        case .number where !value.number.isFinite: throw GiveUp()
        default: break
        }
        switch shape {
        case .freeform, .any:
            // Read and converted as the converter does; the reader counts what it reads.
            try converted(value, shape: shape, depth: depth, into: &output)
            return
        default:
            break
        }
        try charge(LuaStackValue.conversionCost)
        let string = kind == .string ? value.bytes : nil
        if let string { try charge(string.count) }
        switch shape {
        case .string:
            JSONWriter.write(utf8: try text(string), into: &output)
        case .dateTime:
            try dateTime(value, kind: kind, string: string, into: &output)
        case .int64:
            JSONWriter.write(integer: try integer(value, kind: kind, range: Int64.min...Int64.max), into: &output)
        case .int32:
            JSONWriter.write(integer: try integer(value, kind: kind, range: Int64(Int32.min)...Int64(Int32.max)), into: &output)
        case .number:
            switch kind {
            case .integer: JSONWriter.write(integer: value.integer, into: &output)
            case .number:
                do throws(JSONWriter.NonFiniteNumber) {
                    try JSONWriter.write(number: value.number, into: &output)
                } catch {
                    throw GiveUp()
                }
            default: throw GiveUp()
            }
        case .boolean:
            guard kind == .boolean else { throw GiveUp() }
            output.append(contentsOf: value.boolean ? "true".utf8 : "false".utf8)
        case .enumeration(let allowed):
            let given = try text(string)
            guard allowed.contains(where: { $0.utf8.elementsEqual(given) }) else { throw GiveUp() }
            JSONWriter.write(utf8: given, into: &output)
        case .array(let item):
            try array(value, item: item, depth: depth, into: &output)
        case .object(let objectShape):
            if objectShape.isSetWrapper, kind == .table, value.length > 0 || value.isEmptyTable {
                // A plain array where the API wants {set = [...]}; {} empties the list.
                guard case .array(let item)? = objectShape.fields["set"] else { throw GiveUp() }
                output.append(contentsOf: #"{"set":"#.utf8)
                try array(value, item: item, depth: depth, into: &output)
                output.append(0x7D)
            } else if kind == .string, objectShape.fields["stage"] != nil, objectShape.fields.count <= 2 {
                // A string where the API wants {stage = "..."}.
                output.append(contentsOf: #"{"stage":"#.utf8)
                JSONWriter.write(utf8: try text(string), into: &output)
                output.append(0x7D)
            } else {
                try object(value, shape: objectShape, depth: depth, into: &output)
            }
        case .freeform, .any:
            break
        }
    }

    /// What the converter makes of a value it reads as a `LuaValue` first.
    private mutating func converted(_ value: LuaStackValue, shape: RequestShape, depth: Int, into output: inout [UInt8]) throws(GiveUp) {
        do {
            let read = try value.read(root: "", depth: depth, budget: &budget)
            try JSONWriter.write(try converter.convert(read, shape: shape), into: &output)
        } catch {
            throw GiveUp()
        }
    }

    private func integer(_ value: LuaStackValue, kind: LuaStackValue.Kind, range: ClosedRange<Int64>) throws(GiveUp) -> Int64 {
        let integer: Int64?
        switch kind {
        case .integer: integer = value.integer
        case .number: integer = LuaValue.number(value.number).integerValue
        default: integer = nil
        }
        guard let integer, range.contains(integer) else { throw GiveUp() }
        return integer
    }

    private func dateTime(_ value: LuaStackValue, kind: LuaStackValue.Kind, string: UnsafeRawBufferPointer?, into output: inout [UInt8]) throws(GiveUp) {
        switch kind {
        case .integer, .number:
            let seconds = try integer(value, kind: kind, range: Int64.min...Int64.max)
            guard RequestConverter.unixSecondsProblem(seconds) == nil else { throw GiveUp() }
            // A date-time's text needs no escaping.
            output.append(0x22)
            RFC3339.write(unixSeconds: seconds, into: &output)
            output.append(0x22)
        case .string:
            let given = try text(string)
            output.append(0x22)
            guard RFC3339.writeNormalized(utf8: given, into: &output) else { throw GiveUp() }
            output.append(0x22)
        default:
            throw GiveUp()
        }
    }

    /// A table with exactly the keys 1...#t (or none), item by item.
    private mutating func array(_ table: LuaStackValue, item: RequestShape, depth: Int, into output: inout [UInt8]) throws(GiveUp) {
        guard table.kind == .table, depth < Self.maximumDepth else { throw GiveUp() }
        let length = table.length
        var keys = 0
        guard try table.forEachEntry({ (key, _) throws(GiveUp) in
            keys += 1
            guard keys <= length, key.kind == .integer else { throw GiveUp() }
        }), keys == length else { throw GiveUp() }
        output.append(0x5B)
        for position in stride(from: 1, through: length, by: 1) {
            if position > 1 { output.append(0x2C) }
            let read: Bool? = try table.withItem(position) { (element) throws(GiveUp) -> Bool in
                guard element.kind != .nil else { throw GiveUp() }
                try value(element, shape: item, depth: depth + 1, into: &output)
                return true
            }
            guard read != nil else { throw GiveUp() }
        }
        output.append(0x5D)
    }

    /// A table with named fields only, each one of the shape's, written in key order.
    private mutating func object(_ table: LuaStackValue, shape: ObjectShape, depth: Int, into output: inout [UInt8]) throws(GiveUp) {
        guard table.kind == .table, table.length == 0, depth < Self.maximumDepth else { throw GiveUp() }
        var written = fragments.take(depth)
        var found = entries.take(depth)
        defer {
            fragments.giveBack(&written, depth)
            entries.giveBack(&found, depth)
        }
        let fields = shape.orderedFields
        // The request's `id`, which the run needs as text.
        let idField = depth == 0 ? Self.idName.withUTF8Buffer { shape.fieldIndex(utf8: UnsafeRawBufferPointer($0)) } : nil
        guard try table.forEachEntry({ (key, item) throws(GiveUp) in
            guard let name = key.bytes else { throw GiveUp() }
            try charge(name.count)
            guard let field = shape.fieldIndex(utf8: name) else { throw GiveUp() }
            if field == idField, case .string = fields[field].shape, let id = item.bytes {
                rootID = String(decoding: id, as: UTF8.self)
            }
            let start = written.count
            try value(item, shape: fields[field].shape, depth: depth + 1, into: &written)
            found.append(Entry(field: field, start: start, end: written.count))
        }) else { throw GiveUp() }
        // An empty table marked with json.array() is an array to the converter, not an object.
        if found.isEmpty, table.isMarkedArray { throw GiveUp() }
        if shape === RequestShapes.dateFilter { defaultDateFilterType(shape, found: &found, written: &written) }
        for required in shape.requiredFields where !found.contains(where: { $0.field == required }) {
            throw GiveUp()
        }
        // Key order; a handful of fields, so insertion sort.
        if found.count > 1 {
            for index in 1..<found.count {
                let entry = found[index]
                var position = index
                while position > 0, found[position - 1].field > entry.field {
                    found[position] = found[position - 1]
                    position -= 1
                }
                found[position] = entry
            }
        }
        output.append(0x7B)
        for (index, entry) in found.enumerated() {
            if index > 0 { output.append(0x2C) }
            output += fields[entry.field].jsonKey
            output += written[entry.start..<entry.end]
        }
        output.append(0x7D)
        if depth == 0 { rootFields = found.map { fields[$0.field].name } }
    }

    /// A date filter without `type`: `preset` when it has `preset_type` or `days`, else `range`.
    private func defaultDateFilterType(_ shape: ObjectShape, found: inout [Entry], written: inout [UInt8]) {
        let names = found.map { shape.orderedFields[$0.field].name }
        guard !names.contains("type"), let type = shape.orderedFields.firstIndex(where: { $0.name == "type" }) else { return }
        let start = written.count
        JSONWriter.write(string: names.contains("preset_type") || names.contains("days") ? "preset" : "range", into: &written)
        found.append(Entry(field: type, start: start, end: written.count))
    }
}
