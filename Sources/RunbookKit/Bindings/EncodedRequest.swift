import DevRevAPI
import LuaRuntime

/// A request body ready to send: its JSON bytes, what the run needs of it without parsing them
/// back (its top-level fields, its id), and the body as a value when it was built as one.
struct EncodedRequest {
    let bytes: [UInt8]
    /// The top-level keys, sorted.
    let fields: [String]
    /// The top-level `id`, when it is a string.
    let id: String?
    /// Nil when the bytes were written straight from the script's table (`RequestWriter`).
    private let built: JSONValue?

    /// `body` encoded for `operation`.
    init(_ body: JSONValue, for operation: DevRevOperation) throws(ScriptFailure) {
        bytes = try Self.bytes(of: body, for: operation)
        built = body
        if case .object(let object) = body {
            fields = object.keys.sorted()
            if case .string(let text)? = object["id"] { id = text } else { id = nil }
        } else {
            fields = []
            id = nil
        }
    }

    /// Bytes written straight from a script's table (`RequestWriter`), with its keys and id.
    init(written bytes: [UInt8], fields: [String], id: String?) {
        self.bytes = bytes
        self.fields = fields
        self.id = id
        built = nil
    }

    /// `body`'s JSON bytes, or why it cannot be sent.
    static func bytes(of body: JSONValue, for operation: DevRevOperation) throws(ScriptFailure) -> [UInt8] {
        do {
            return try LuaJSON.encode(body)
        } catch {
            throw ScriptFailure(type: "invalid_request", message: "\(operation): cannot encode the request: \(error)")
        }
    }

    /// The body as a value: as built, else parsed back from the bytes.
    var body: JSONValue {
        if let built { return built }
        return (try? LuaJSON.decode(bytes)) ?? .object([:])
    }
}

extension RequestConverter {
    /// Argument `position` of `call`, a table, as the body of a request of `shape`: written in one
    /// pass by `RequestWriter` when it can be, else converted (and any mistake in it reported) by
    /// `convert`. `asValue`: the body is built as a value all the same (a dry run plans from it).
    /// `scratch`: the writer's working memory, kept by the binding from one call to the next.
    func encode(_ call: LuaCall, at position: Int, shape: ObjectShape, for operation: DevRevOperation, asValue: Bool,
                scratch: RequestWriter.Scratch) throws(ScriptFailure) -> EncodedRequest {
        guard call.typeName(at: position) == "table" else {
            throw ScriptFailure.validation(function, field: nil, "expected a table of fields, got \(call.typeName(at: position))")
        }
        if !asValue {
            var writer = RequestWriter(function: function, budget: call.memoryHeadroom, scratch: scratch)
            if let written = writer.write(call.stackValue(at: position), shape: shape) { return written }
        }
        return try EncodedRequest(try convert(try call.argument(position, in: function), shape: shape), for: operation)
    }
}
