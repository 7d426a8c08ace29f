/// Holds a successful response to the schema of its operation: every field the schema describes,
/// at every depth, must have its type (unknown fields are allowed, as DevRev adds fields). For
/// the operations of `incidents-openapi.yaml`; others have no published response schema here.
///
/// The check walks the response as already parsed, against `ResponseShapes` (generated with the
/// models, from the same schema): the same rules as decoding the response model, without a second
/// parse. A field may be missing or null; an enum may hold a value the schema does not list (the
/// models decode it as `.unknown`); an array's items may not be null.
public enum ResponseSchema {
    /// Nil when `body` parses and matches the response schema of `operation` (or it has none);
    /// else where and why it does not: `incident.stage.stage.name: expected String`.
    public static func problem(in body: [UInt8], of operation: DevRevOperation) -> String? {
        guard ResponseShapes.roots[operation.name] != nil else { return nil }
        do {
            return problem(in: try JSONParser().parse(body), of: operation)
        } catch {
            return "the body is not JSON: \(error)"
        }
    }

    /// Nil when the parsed `value` matches the response schema of `operation` (or it has none).
    public static func problem(in value: JSONValue, of operation: DevRevOperation) -> String? {
        guard let root = ResponseShapes.roots[operation.name] else { return nil }
        guard let mismatch = check(value, against: .object(root)) else { return nil }
        return "\(place(mismatch.steps.reversed())): \(mismatch.detail)"
    }

    private enum PathStep {
        case key(String)
        case index(Int)
    }

    /// Where (innermost step first, added as the check returns) and what.
    private struct Mismatch {
        var steps: [PathStep] = []
        var detail: String

        init(expected: String) { detail = "expected \(expected)" }
        init(detail: String) { self.detail = detail }

        func inside(_ step: PathStep) -> Mismatch {
            var outer = self
            outer.steps.append(step)
            return outer
        }
    }

    /// The path is made only when something does not match.
    private static func check(_ value: JSONValue, against shape: ResponseShape) -> Mismatch? {
        switch shape {
        case .any:
            return nil
        case .string:
            if case .string = value { return nil }
            return Mismatch(expected: "String")
        case .int64:
            if case .integer = value { return nil }
            return Mismatch(expected: "Int64")
        case .int32:
            if case .integer(let number) = value, Int32(exactly: number) != nil { return nil }
            return Mismatch(expected: "Int32")
        case .number:
            switch value {
            case .integer, .number: return nil
            default: return Mismatch(expected: "Double")
            }
        case .boolean:
            if case .bool = value { return nil }
            return Mismatch(expected: "Bool")
        case .freeform:
            if case .object = value { return nil }
            return Mismatch(expected: "an object")
        case .array(let item):
            guard case .array(let items) = value else { return Mismatch(expected: "an array") }
            for (index, element) in items.enumerated() {
                if case .null = element { return Mismatch(detail: "expected \(item.typeName), got null").inside(.index(index)) }
                if let mismatch = check(element, against: item) { return mismatch.inside(.index(index)) }
            }
            return nil
        case .object(let index):
            let object = ResponseShapes.objects[index]
            // A model without fields decodes from anything (incidents.delete's `{}`).
            if object.fields.isEmpty { return nil }
            guard case .object(let members) = value else { return Mismatch(expected: "an object") }
            for (key, member) in members {
                if case .null = member { continue }
                guard let field = object.fields[key] else { continue }
                if let mismatch = check(member, against: field) { return mismatch.inside(.key(key)) }
            }
            return nil
        }
    }

    /// `incident.owned_by[0].id`; `the body` at the top.
    private static func place(_ steps: some Collection<PathStep>) -> String {
        guard !steps.isEmpty else { return "the body" }
        var text = ""
        for step in steps {
            switch step {
            case .index(let index): text += "[\(index)]"
            case .key(let key): text += text.isEmpty ? key : ".\(key)"
            }
        }
        return text
    }
}

/// The JSON type a response model's field decodes from.
public indirect enum ResponseShape: Sendable {
    case string
    case int64
    case int32
    case number
    case boolean
    case array(ResponseShape)
    /// One of `ResponseShapes.objects`, by index.
    case object(Int)
    /// A free-form object (`custom_fields`).
    case freeform
    /// Any JSON value (a field whose type differs between a union's branches).
    case any

    var typeName: String {
        switch self {
        case .string: "String"
        case .int64: "Int64"
        case .int32: "Int32"
        case .number: "Double"
        case .boolean: "Bool"
        case .array: "an array"
        case .object, .freeform: "an object"
        case .any: "a value"
        }
    }
}

/// An object of the response schema: its fields' types by JSON name. A class, so that reading
/// one of `ResponseShapes.objects` while walking a response shares it instead of copying it.
public final class ResponseObject: Sendable {
    public let name: String
    public let fields: [String: ResponseShape]
    /// The fields' types, at the positions `names` gives for their names' bytes.
    public let shapes: [ResponseShape]
    public let names: NameTable

    init(name: String, fields: [String: ResponseShape]) {
        self.name = name
        self.fields = fields
        let ordered = fields.sorted { $0.key < $1.key }
        shapes = ordered.map(\.value)
        names = NameTable(ordered.map(\.key))
    }
}

/// The response models' shapes (`ResponseShapes.generated.swift`, by scripts/generate-models).
public enum ResponseShapes {}
