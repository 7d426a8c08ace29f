import DevRevAPI
import Foundation
import LuaRuntime

/// `incident.comment(id, body, opts)` and the pages behind the `incident.comments` iterator.
///
/// Every comment carries an `external_ref`, the script's or `runbook:<run id>:<n>` for the run's
/// n-th comment, which makes the create safe to retry: a 409 after a retry means an earlier
/// attempt posted it, and the comment is fetched instead of posted again.
final class CommentBindings {
    private let connection: DevRevConnection
    private let scope: MutationScope
    private let runID: String
    private var count = 0
    private let walks: PageWalks

    init(connection: DevRevConnection, scope: MutationScope, runID: String, walks: PageWalks) {
        self.walks = walks
        self.connection = connection
        self.scope = scope
        self.runID = runID
    }

    /// Options `incident.comment` takes besides the schema's own field names.
    static let options: Set<String> = ["labels", "private_to", "expires_at", "external_ref", "body_type", "visibility"]

    var comment: LuaFunction {
        LuaFunction(name: "comment") { [self] call, results in
            let function = "incident.comment"
            try scope.permit(function, declaredAs: "comment")
            let id = try call.incidentID(in: function)
            guard call.typeName(at: 2) == "string", case .string(let text) = try call.value(at: 2), let body = text.text, !body.isEmpty else {
                throw ScriptFailure.validation(function, field: "body", "expected the comment's text (a non-empty string), got \(call.typeName(at: 2))")
            }
            var fields: [String: LuaValue] = [:]
            switch try call.argument(3, named: "opts", in: function) {
            case .nil, .emptyTable: break
            case .object(let given):
                for key in given.keys.sorted() where !Self.options.contains(key) {
                    var message = "unknown option '\(key)'"
                    message += didYouMean(key, among: Array(Self.options))
                    throw ScriptFailure.validation(function, field: key, message)
                }
                fields = given
            default:
                throw ScriptFailure.validation(function, field: nil, "expected a table of options as the third argument, got \(call.typeName(at: 3))")
            }
            count += 1
            if fields["external_ref"] == nil { fields["external_ref"] = .string(LuaString("runbook:\(runID):\(count)")) }
            if fields["private_to"] != nil, fields["visibility"] == nil { fields["visibility"] = .string("private") }
            fields["type"] = .string("timeline_comment")
            fields["object"] = .string(LuaString(id))
            fields["body"] = .string(LuaString(body))
            fields["body_type"] = fields["body_type"] ?? .string("text")
            let request = try RequestConverter(function: function).convert(.object(fields), shape: RequestShapes.timelineEntriesCreateRequest)
            try Self.checkBounds(request, function)
            try IncidentModule.skippingClaimed(&results) { try post(request, incident: id) }
        }
    }

    /// Posts the comment; on a 409 met by a retry, fetches what the earlier attempt posted.
    private func post(_ request: JSONValue, incident id: String) throws(ScriptFailure) -> JSONValue {
        var response = try connection.perform(.createTimelineEntryWithExternalRef, body: request, incident: id)
        if response == .null, case .object(let fields) = request, let reference = fields["external_ref"] {
            response = try connection.send(.getTimelineEntry, body: .object(["id": .string(id), "external_ref": reference]), incident: id)
        }
        guard case .object(let fields) = response, let entry = fields["timeline_entry"] else {
            throw ScriptFailure(type: "malformed_response", message: "incident.comment: the response has no timeline_entry")
        }
        return entry
    }

    /// The lengths and counts the schema bounds and the request shapes do not carry.
    private static func checkBounds(_ request: JSONValue, _ function: String) throws(ScriptFailure) {
        guard case .object(let fields) = request else { return }
        if case .string(let reference)? = fields["external_ref"], !(1...512).contains(reference.count) {
            throw ScriptFailure.validation(function, field: "external_ref", "must be 1 to 512 characters, got \(reference.count)")
        }
        // The schema's rule for ephemeral entries: DevRev refuses an expiry sooner than a minute
        // away, so a plan must not hold one. The system clock decides, as DevRev's would.
        if case .string(let text)? = fields["expires_at"], let date = RFC3339.parse(text), date < Date().addingTimeInterval(60) {
            throw ScriptFailure.validation(function, field: "expires_at", "must be at least a minute from now (DevRev's rule), got \(text)")
        }
        if case .array(let labels)? = fields["labels"] {
            guard labels.count <= 16 else { throw ScriptFailure.validation(function, field: "labels", "at most 16 labels, got \(labels.count)") }
            for (index, label) in labels.enumerated() {
                if case .string(let text) = label, !(1...64).contains(text.count) {
                    throw ScriptFailure.validation(function, field: "labels[\(index + 1)]", "must be 1 to 64 characters, got \(text.count)")
                }
            }
        }
    }

    /// `incident_comments_page(id, opts, walk)`: one page of the incident's comments and whether
    /// more follow. Entries that are not comments (change events) are left out.
    var commentsPage: LuaFunction {
        LuaFunction(name: "incident_comments_page") { [self] call, results in
            let function = "incident.comments"
            let id = try call.incidentID(in: function)
            var fields: [String: LuaValue] = [:]
            if case .object(let given) = try call.argument(2, named: "opts", in: function) { fields = given }
            for key in fields.keys.sorted() where !["labels", "visibility", "limit"].contains(key) {
                throw ScriptFailure.validation(function, field: key, "unknown option '\(key)'; use labels, visibility or limit")
            }
            fields["object"] = .string(LuaString(id))
            let (walkID, walk) = try walks.walk(call, at: 3, in: function)
            if let cursor = walk.cursor { fields["cursor"] = .string(LuaString(cursor)) }
            let request = try RequestConverter(function: function).convert(.object(fields), shape: RequestShapes.timelineEntriesListRequest)
            guard case .object(let page) = try connection.readPage(.listTimelineEntries, body: request, incident: id) else {
                throw ScriptFailure(type: "malformed_response", message: "\(function): the response is not an object")
            }
            var items: [JSONValue] = []
            for entry in try ResponseShape.items(in: page, key: "timeline_entries", operation: function) {
                guard case .object(let entryFields) = entry, entryFields["type"] == .string("timeline_comment") else { continue }
                // The claims of `--- @claim` are runbook's bookkeeping, not the responders' conversation.
                if IncidentClaims.isClaim(entryFields) { continue }
                items.append(entry)
            }
            let more = try walks.advance(walkID, walk, to: page["next_cursor"])
            try LuaJSON.push(.array(items), to: &results)
            try results.pushBoolean(more)
        }
    }
}
