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
    private let namesAreASCII: Bool

    public struct Field: Sendable {
        public let name: String
        public let utf8: [UInt8]
        public let shape: RequestShape
    }

    public init(name: String, fields: [String: RequestShape], required: Set<String>) {
        self.name = name
        self.fields = fields
        self.required = required
        requiredInOrder = required.sorted()
        orderedFields = fields.sorted { $0.key < $1.key }.map { Field(name: $0.key, utf8: Array($0.key.utf8), shape: $0.value) }
        namesAreASCII = orderedFields.allSatisfy { $0.utf8.allSatisfy { $0 < 0x80 } }
    }

    /// The position in `orderedFields` of the field named by the UTF-8 bytes `key`.
    public func fieldIndex(utf8 key: UnsafeRawBufferPointer) -> Int? {
        guard namesAreASCII else { return orderedFields.firstIndex { $0.utf8.elementsEqual(key) } }
        // ASCII names sort the same as their bytes: a binary search.
        var low = 0
        var high = orderedFields.count
        while low < high {
            let middle = (low + high) / 2
            let order = orderedFields[middle].utf8.withUnsafeBytes { Self.compare($0, key) }
            if order == 0 { return middle }
            if order < 0 { low = middle + 1 } else { high = middle }
        }
        return nil
    }

    private static func compare(_ left: UnsafeRawBufferPointer, _ right: UnsafeRawBufferPointer) -> Int {
        let common = min(left.count, right.count)
        if common > 0, let a = left.baseAddress, let b = right.baseAddress {
            let order = memcmp(a, b, common)
            if order != 0 { return Int(order) }
        }
        return left.count - right.count
    }

    /// An object whose only field is `set`: the update wrappers (`owned_by`, `tags`, ...).
    public var isSetWrapper: Bool { fields.count == 1 && fields["set"] != nil }
}
