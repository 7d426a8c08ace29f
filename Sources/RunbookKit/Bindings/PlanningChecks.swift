import DevRevAPI

/// What a planning run (`--dry-run`, `plan`, `--max-changes`) checks by reading before it plans
/// a change, so a plan holds no change DevRev would refuse for a reference that does not exist:
/// the owners, parts, stage and tags an update or a create names, each read once per run
/// (`dev-users.get`, `parts.get`, `stages.custom.get`, `tags.get`) unless the run has already seen
/// it on an incident. Only `not_found` fails the change; any other answer (no permission, a
/// reference form the read does not take) leaves the check to DevRev, as before.
extension DevRevConnection {
    enum ReferenceKind: String {
        case user = "dev user", part, stage, tag

        var operation: DevRevOperation {
            switch self {
            case .user: DevRevOperation(name: "dev-users.get", isIdempotent: true)
            case .part: DevRevOperation(name: "parts.get", isIdempotent: true)
            case .stage: DevRevOperation(name: "stages.custom.get", isIdempotent: true)
            case .tag: DevRevOperation(name: "tags.get", isIdempotent: true)
            }
        }
    }

    func checkReferences(of body: JSONValue, in function: String, planner: Planner) throws(ScriptFailure) {
        guard case .object(let request) = body else { return }
        for (field, kind, id) in Self.references(in: request) where !planner.knows(kind, id) {
            if let exists = planner.checkedReference(kind, id) {
                if exists { continue }
                throw Self.missing(kind, id, field: field, function: function)
            }
            do throws(ScriptFailure) {
                _ = try send(kind.operation, body: .object(["id": .string(id)]), incident: nil)
                planner.recordReference(kind, id, exists: true)
            } catch where error.type == "not_found" {
                planner.recordReference(kind, id, exists: false)
                throw Self.missing(kind, id, field: field, function: function)
            } catch {
                settings.logger.info("could not check a reference before planning", metadata: [
                    "field": "\(field)", "id": "\(id)", "error": "\(error.type)",
                ])
                planner.recordReference(kind, id, exists: true)
            }
        }
    }

    private static func missing(_ kind: ReferenceKind, _ id: String, field: String, function: String) -> ScriptFailure {
        .validation(function, field: field, "no \(kind.rawValue) '\(id)' (\(kind.operation.name) answered not_found); nothing was planned for this change")
    }

    /// The references a request names: `(field, kind, id)`.
    static func references(in request: [String: JSONValue]) -> [(String, ReferenceKind, String)] {
        func items(_ value: JSONValue?) -> [JSONValue] {
            if case .object(let wrapper)? = value, case .array(let list)? = wrapper["set"] { return list }
            if case .array(let list)? = value { return list }
            return []
        }
        var found: [(String, ReferenceKind, String)] = []
        for case .string(let id) in items(request["owned_by"]) { found.append(("owned_by", .user, id)) }
        for case .string(let id) in items(request["applies_to_parts"]) { found.append(("applies_to_parts", .part, id)) }
        for case .object(let tag) in items(request["tags"]) {
            if case .string(let id)? = tag["tag_id"] { found.append(("tags", .tag, id)) }
        }
        if case .object(let stage)? = request["stage"], case .string(let id)? = stage["stage"] { found.append(("stage.stage", .stage, id)) }
        return found
    }
}
