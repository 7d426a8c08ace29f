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
    /// its key as JSON; `fieldIndex(utf8:)` finds one from a key read as bytes, without a `String`.
    public let orderedFields: [Field]
    /// The positions in `orderedFields` of the required fields.
    public let requiredFields: [Int]
    private let names: NameTable

    public struct Field: Sendable {
        public let name: String
        public let shape: RequestShape
        /// The name as a JSON object's key, with its colon: `"name":`.
        public let jsonKey: [UInt8]

        init(name: String, shape: RequestShape) {
            self.name = name
            self.shape = shape
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
        names = NameTable(ordered.map(\.name))
        requiredFields = ordered.indices.filter { required.contains(ordered[$0].name) }
    }

    /// The position in `orderedFields` of the field named by the UTF-8 bytes `key`.
    public func fieldIndex(utf8 key: UnsafeRawBufferPointer) -> Int? {
        names.index(of: key)
    }

    /// An object whose only field is `set`: the update wrappers (`owned_by`, `tags`, ...).
    public var isSetWrapper: Bool { fields.count == 1 && fields["set"] != nil }
}
