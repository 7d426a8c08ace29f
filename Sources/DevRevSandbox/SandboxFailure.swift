import DevRevAPI

/// An error answer in DevRev's shape: the status and a body with `type`, `message` and the
/// fields of its subtype.
enum SandboxFailure: Error, Sendable {
    case parseError(String)
    case invalidField(field: String, message: String)
    case missingRequiredField(field: String)
    case unexpectedJSONType(field: String, expected: String, actual: String)
    case invalidID(field: String, message: String)
    case invalidEnumValue(field: String, value: String, allowed: [String])
    case badRequest(String)
    case unauthenticated(String)
    case notFound(String)
    case conflict(String)
    case tooManyRequests(retryAfter: Int64)
    case internalError(String, referenceID: String = "")
    case serviceUnavailable(String)

    var status: Int {
        switch self {
        case .parseError, .invalidField, .missingRequiredField, .unexpectedJSONType, .invalidID, .invalidEnumValue, .badRequest: 400
        case .unauthenticated: 401
        case .notFound: 404
        case .conflict: 409
        case .tooManyRequests: 429
        case .internalError: 500
        case .serviceUnavailable: 503
        }
    }

    var body: JSONValue {
        var fields: [String: JSONValue]
        switch self {
        case .parseError(let message):
            fields = ["type": "parse_error", "message": .string(message)]
        case .invalidField(let field, let message):
            fields = ["type": "invalid_field", "message": .string(message), "field_name": .string(field)]
        case .missingRequiredField(let field):
            fields = ["type": "missing_required_field", "message": .string("\(field) is required"), "field_name": .string(field)]
        case .unexpectedJSONType(let field, let expected, let actual):
            fields = [
                "type": "unexpected_json_type", "message": .string("\(field): expected \(expected), got \(actual)"),
                "field_name": .string(field), "expected": .string(expected), "actual": .string(actual),
            ]
        case .invalidID(let field, let message):
            fields = ["type": "invalid_id", "message": .string(message), "field_name": .string(field)]
        case .invalidEnumValue(let field, let value, let allowed):
            fields = [
                "type": "invalid_enum_value", "message": .string("\(field): '\(value)' is not one of \(allowed.joined(separator: ", "))"),
                "field_name": .string(field), "value": .string(value), "allowed_values": .array(allowed.map { .string($0) }),
            ]
        case .badRequest(let message):
            fields = ["type": "bad_request", "message": .string(message)]
        case .unauthenticated(let message):
            fields = ["type": "unauthenticated", "message": .string(message)]
        case .notFound(let message):
            fields = ["type": "not_found", "message": .string(message)]
        case .conflict(let message):
            fields = ["type": "conflict", "message": .string(message)]
        case .tooManyRequests(let retryAfter):
            fields = [
                "type": "too_many_requests", "message": .string("rate limit exceeded; retry after \(retryAfter) s"),
                "retry_after": .integer(retryAfter),
            ]
        case .internalError(let message, let referenceID):
            fields = ["type": "internal_error", "message": .string(message), "reference_id": .string(referenceID)]
        case .serviceUnavailable(let message):
            fields = ["type": "service_unavailable", "message": .string(message)]
        }
        return .object(fields)
    }
}
