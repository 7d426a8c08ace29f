import DevRevAPI
import LuaRuntime

/// An error raised into a script as the error table of docs/lua-api.md:
/// `{type=, status=, message=, detail=, field=, retry_after=, reference_id=, request_id=}` whose
/// `tostring` is one line, e.g. `not_found (404): incident INC-42 does not exist`.
struct ScriptFailure: Error, LuaRaisableError, CustomStringConvertible {
    var type: String
    var status: Int?
    var message: String
    var detail: String?
    var field: String?
    var retryAfter: Int64?
    var referenceID: String?
    var requestID: String?
    /// The DevRev error this came from, for exit codes.
    var devRevError: DevRevError?

    /// A value that failed client-side checks (`type = "validation"`).
    static func validation(_ function: String, field: String?, _ problem: String) -> ScriptFailure {
        let place = field.map { "\($0): " } ?? ""
        return ScriptFailure(type: "validation", message: "\(function): \(place)\(problem)", field: field)
    }

    /// The run's configuration does not allow the call (no token, bad base URL).
    static func configuration(_ message: String) -> ScriptFailure {
        ScriptFailure(type: "configuration", message: message)
    }

    init(type: String, status: Int? = nil, message: String, detail: String? = nil, field: String? = nil) {
        self.type = type
        self.status = status
        self.message = message
        self.detail = detail
        self.field = field
    }

    init(_ error: DevRevError) {
        type = error.typeName
        status = error.status
        var message = error.message
        if let moved = error.movedTo { message += " (new id \(moved))" }
        if error.attempts > 1 { message += " (after \(error.attempts) attempts)" }
        self.message = message
        detail = error.detail ?? error.bodyExcerpt
        field = error.fieldName
        retryAfter = error.retryAfter.map { $0.components.seconds }
        referenceID = error.referenceID
        requestID = error.requestID
        devRevError = error
    }

    var description: String {
        let head = status.map { "\(type) (\($0))" } ?? type
        return "\(head): \(message)"
    }

    var luaErrorDescription: String { description }

    var luaErrorValue: LuaValue {
        var fields: [String: LuaValue] = ["type": .string(LuaString(type)), "message": .string(LuaString(message))]
        if let status { fields["status"] = .integer(Int64(status)) }
        if let detail { fields["detail"] = .string(LuaString(detail)) }
        if let field { fields["field"] = .string(LuaString(field)) }
        if let retryAfter { fields["retry_after"] = .integer(retryAfter) }
        if let referenceID { fields["reference_id"] = .string(LuaString(referenceID)) }
        if let requestID { fields["request_id"] = .string(LuaString(requestID)) }
        return .object(fields)
    }

    /// The exit status of a run this error ended.
    var exitStatus: ExitStatus { Self.exitStatus(type: type, status: status) }

    static func exitStatus(type: String, status: Int?) -> ExitStatus {
        switch (type, status) {
        case ("validation", _): .dataError
        case ("configuration", _): .configuration
        case (_, 401?), (_, 403?): .notAllowed
        case (_, 429?), ("rate_limited", _): .temporaryFailure
        case (_, let code?) where code >= 500: .unavailable
        case ("connection_refused", _), ("connection_reset", _), ("timeout", _), ("tls", _), ("transport", _): .unavailable
        default: .scriptError
        }
    }
}
