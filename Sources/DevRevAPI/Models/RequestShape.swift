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

    public init(name: String, fields: [String: RequestShape], required: Set<String>) {
        self.name = name
        self.fields = fields
        self.required = required
        requiredInOrder = required.sorted()
    }

    /// An object whose only field is `set`: the update wrappers (`owned_by`, `tags`, ...).
    public var isSetWrapper: Bool { fields.count == 1 && fields["set"] != nil }
}
