#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The JSON shape a request field must have, from the schema.
public indirect enum RequestShape: Sendable {
    case string
    /// An RFC 3339 date-time string.
    case dateTime
    case int64
    case int32
    case number
    case boolean
    case enumeration([String])
    case array(RequestShape)
    case object(ObjectShape)
    /// A free-form object (`custom_fields`).
    case freeform
    /// Any JSON value.
    case any
}

/// An object of the schema: its fields and which are required.
public final class ObjectShape: Sendable {
    public let name: String
    public let fields: [String: RequestShape]
    public let required: Set<String>
    /// `required`, sorted: the order missing fields are reported in.
    public let requiredInOrder: [String]
    /// The fields in the order a request's keys are written (`JSONWriter`'s: by name), each with
    /// its name's UTF-8 bytes, so that a key read as bytes finds its field without a `String`.
    public let orderedFields: [Field]
    /// The positions in `orderedFields` of the required fields.
    public let requiredFields: [Int]
    private let slots: [Int32]

    public struct Field: Sendable {
        public let name: String
        public let utf8: [UInt8]
        public let shape: RequestShape
        /// The name as a JSON object's key, with its colon: `"name":`.
        public let jsonKey: [UInt8]

        init(name: String, shape: RequestShape) {
            self.name = name
            self.shape = shape
            utf8 = Array(name.utf8)
            var key: [UInt8] = []
            JSONWriter.write(string: name, into: &key)
            key.append(0x3A)
            jsonKey = key
        }
    }

    public init(name: String, fields: [String: RequestShape], required: Set<String>) {
        self.name = name
        self.fields = fields
        self.required = required
        requiredInOrder = required.sorted()
        let ordered = fields.sorted { $0.key < $1.key }.map { Field(name: $0.key, shape: $0.value) }
        orderedFields = ordered
        slots = Self.slots(for: ordered)
        requiredFields = ordered.indices.filter { required.contains(ordered[$0].name) }
    }

    /// The position in `orderedFields` of the field named by the UTF-8 bytes `key`.
    public func fieldIndex(utf8 key: UnsafeRawBufferPointer) -> Int? {
        let mask = slots.count - 1
        var slot = Self.hash(key) & mask
        while true {
            let index = Int(slots[slot])
            if index < 0 { return nil }
            let name = orderedFields[index].utf8
            if name.count == key.count, name.withUnsafeBytes({ $0.count == 0 || memcmp($0.baseAddress!, key.baseAddress!, $0.count) == 0 }) {
                return index
            }
            slot = (slot + 1) & mask
        }
    }

    /// A hash of a name from its length and its first and last eight bytes (names are short,
    /// and every hit is checked byte for byte).
    private static func hash(_ bytes: UnsafeRawBufferPointer) -> Int {
        let count = bytes.count
        var word = UInt64(count) &* 0x9E37_79B9_7F4A_7C15
        if count >= 8 {
            word ^= bytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self)
            word = (word &* 0xFF51_AFD7_ED55_8CCD) ^ bytes.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self)
        } else {
            for byte in bytes { word = word << 8 ^ UInt64(byte) }
        }
        word = (word ^ word >> 33) &* 0xC4CE_B9FE_1A85_EC53
        return Int(truncatingIfNeeded: word ^ word >> 29)
    }

    /// An open-addressed table of `orderedFields` by the hash of their names: at most half full,
    /// -1 where empty.
    private static func slots(for fields: [Field]) -> [Int32] {
        var size = 4
        while size < fields.count * 2 { size *= 2 }
        var slots = [Int32](repeating: -1, count: size)
        for (index, field) in fields.enumerated() {
            var slot = field.utf8.withUnsafeBytes { hash($0) } & (size - 1)
            while slots[slot] >= 0 { slot = (slot + 1) & (size - 1) }
            slots[slot] = Int32(index)
        }
        return slots
    }

    /// An object whose only field is `set`: the update wrappers (`owned_by`, `tags`, ...).
    public var isSetWrapper: Bool { fields.count == 1 && fields["set"] != nil }
}
