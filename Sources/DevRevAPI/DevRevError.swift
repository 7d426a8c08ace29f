/// The `type` of a DevRev error body. A type this build does not know decodes as `.unknown`.
public enum DevRevErrorType: Hashable, Sendable, CustomStringConvertible {
    case badRequest, artifactAlreadyAttachedToAParent, customizationValidationError, invalidAPIVersion
    case invalidEnumValue, invalidField, invalidID, mergeWorksError, missingDependency, missingRequiredField
    case parseError, staleSchemaFragments, unexpectedIDType, unexpectedJSONType, valueNotPermitted
    case workflowComponentValidationErrors
    case unauthenticated, forbidden, notFound, conflict, tooManyRequests, internalError, serviceUnavailable
    case unknown(String)

    private static let names: [(DevRevErrorType, String)] = [
        (.badRequest, "bad_request"), (.artifactAlreadyAttachedToAParent, "artifact_already_attached_to_a_parent"),
        (.customizationValidationError, "customization_validation_error"), (.invalidAPIVersion, "invalid_api_version"),
        (.invalidEnumValue, "invalid_enum_value"), (.invalidField, "invalid_field"), (.invalidID, "invalid_id"),
        (.mergeWorksError, "merge_works_error"), (.missingDependency, "missing_dependency"),
        (.missingRequiredField, "missing_required_field"), (.parseError, "parse_error"),
        (.staleSchemaFragments, "stale_schema_fragments"), (.unexpectedIDType, "unexpected_id_type"),
        (.unexpectedJSONType, "unexpected_json_type"), (.valueNotPermitted, "value_not_permitted"),
        (.workflowComponentValidationErrors, "workflow_component_validation_errors"),
        (.unauthenticated, "unauthenticated"), (.forbidden, "forbidden"), (.notFound, "not_found"),
        (.conflict, "conflict"), (.tooManyRequests, "too_many_requests"), (.internalError, "internal_error"),
        (.serviceUnavailable, "service_unavailable"),
    ]

    /// Every known type, for tests and documentation.
    public static var known: [DevRevErrorType] { names.map(\.0) }

    public init(rawValue: String) {
        self = Self.names.first { $0.1 == rawValue }?.0 ?? .unknown(rawValue)
    }

    public var rawValue: String {
        if case .unknown(let value) = self { return value }
        return Self.names.first { $0.0 == self }?.1 ?? "unknown"
    }

    public var description: String { rawValue }

    /// The type DevRev documents for a status, for bodies that carry none.
    static func documented(forStatus status: Int) -> DevRevErrorType? {
        switch status {
        case 400: .badRequest
        case 401: .unauthenticated
        case 403: .forbidden
        case 404: .notFound
        case 409: .conflict
        case 429: .tooManyRequests
        case 500: .internalError
        case 503: .serviceUnavailable
        default: nil
        }
    }
}

/// Why a call to DevRev failed. One type for every failure, so callers map it in one place.
public struct DevRevError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// DevRev (or something in front of it) answered with an error status.
        case http
        /// 301: the object's ID changed; `movedTo` holds the new one when `Location` names it.
        case moved
        case connectionRefused
        case connectionReset
        /// No answer in time: connect, per-attempt or total deadline.
        case timeout
        /// DevRev's rate limit (a 429's Retry-After, or an exhausted quota) allows no request
        /// before the call's deadline.
        case rateLimited
        case tls
        /// Any other failure to exchange the request.
        case transport
        /// A success status whose body is not what the schema describes.
        case malformedResponse
        /// A list handed back a cursor it had handed back before.
        case repeatedCursor
        /// A list went on past `CursorWalk.maximumPages` pages, each with a new cursor.
        case tooManyPages
        /// The request could not be encoded.
        case invalidRequest
        /// The task making the call was cancelled (a read-ahead page nobody will read): never
        /// retried, and no attempt starts after it.
        case cancelled
    }

    public var kind: Kind
    /// e.g. "incidents.update"
    public var operation: String
    public var status: Int?
    public var type: DevRevErrorType?
    public var message: String
    public var detail: String?
    public var fieldName: String?
    public var retryAfter: Duration?
    public var referenceID: String?
    public var existingParent: String?
    public var isSame: Bool?
    /// The response's request id header, when present.
    public var requestID: String?
    /// For a body that is not JSON: its first characters, with control characters removed.
    public var bodyExcerpt: String?
    public var movedTo: String?
    /// How many attempts were made before giving up.
    public var attempts: Int
    /// True when the request surely never reached the server (refused, or no connection in
    /// time): repeating it is harmless even for a create.
    public var neverSent = false

    public init(kind: Kind, operation: String, status: Int? = nil, type: DevRevErrorType? = nil, message: String, attempts: Int = 1) {
        self.kind = kind
        self.operation = operation
        self.status = status
        self.type = type
        self.message = message
        self.attempts = attempts
    }

    /// 429: DevRev kept rate limiting past the retry budget, or its limit allows no request in time.
    public var isRateLimited: Bool { status == 429 || kind == .rateLimited }
    /// 401 or 403.
    public var isNotAllowed: Bool { status == 401 || status == 403 }
    /// 5xx or a transport failure: DevRev could not be reached or stayed unavailable.
    public var isUnavailable: Bool {
        switch kind {
        case .connectionRefused, .connectionReset, .timeout, .tls, .transport: true
        case .http: (status ?? 0) >= 500
        default: false
        }
    }

    /// The error's name: DevRev's `type` for an error status, else the kind of failure
    /// (`connection_refused`, `timeout`, `malformed_response`, ...).
    public var typeName: String {
        switch kind {
        case .http: type?.rawValue ?? "http_error"
        case .moved: "moved"
        case .connectionRefused: "connection_refused"
        case .connectionReset: "connection_reset"
        case .timeout: "timeout"
        case .rateLimited: "rate_limited"
        case .tls: "tls"
        case .transport: "transport"
        case .malformedResponse: "malformed_response"
        case .repeatedCursor: "repeated_cursor"
        case .tooManyPages: "too_many_pages"
        case .invalidRequest: "invalid_request"
        case .cancelled: "cancelled"
        }
    }

    /// One line: `not_found (404): incident INC-42 does not exist [incidents.get, after 3 attempts]`.
    public var description: String {
        let head = status.map { "\(typeName) (\($0))" } ?? typeName
        var text = "\(head): \(message)"
        if let fieldName { text += " (field \(fieldName))" }
        if let movedTo { text += " (new id \(movedTo))" }
        var context = [operation]
        if attempts > 1 { context.append("after \(attempts) attempts") }
        if let requestID { context.append("request \(requestID)") }
        if let referenceID { context.append("reference \(referenceID)") }
        return text + " [" + context.joined(separator: ", ") + "]"
    }
}
