import DevRevAPI

/// What a script's `--- @changes` declaration lets it change. Undeclared, the typed incident
/// bindings may change anything; `devrev.call` mutations always need a declaration
/// (`devrev.call` for any operation, or the operation's name, e.g. `works.update`).
struct MutationScope {
    /// The declared names; nil when the script declares no `@changes`.
    let declared: Set<String>?

    private var declaration: String { "--- @changes \((declared ?? []).sorted().joined(separator: ", "))" }

    /// `incident.update` changing `fields`.
    func permitUpdate(fields: [String]) throws(ScriptFailure) {
        guard let declared else { return }
        for field in fields where !declared.contains(field) {
            throw ScriptFailure(
                type: "validation", message: "incident.update: the script does not declare that it changes '\(field)' (\(declaration))",
                field: field)
        }
    }

    /// `function` (`incident.create`, `incident.delete`, `incident.comment`), declared as `name`.
    func permit(_ function: String, declaredAs name: String) throws(ScriptFailure) {
        guard let declared, !declared.contains(name) else { return }
        throw ScriptFailure(type: "validation", message: "\(function): the script does not declare that it uses \(function) (\(declaration); add \(name))")
    }

    /// A mutation through `devrev.call`.
    func permitCall(_ operation: DevRevOperation) throws(ScriptFailure) {
        if let declared, declared.contains("devrev.call") || declared.contains(operation.name) { return }
        let current = declared == nil ? "it declares no @changes" : declaration
        throw ScriptFailure(
            type: "validation",
            message: "devrev.call: \(operation.name) changes data, and the script does not declare it (\(current)); "
                + "add --- @changes \(operation.name) (or devrev.call for any operation)")
    }

    /// Whether `name` may appear in `@changes`: an incident field, create, delete, comment,
    /// devrev.call, or the name of an operation that changes something.
    static func isDeclarable(_ name: String) -> Bool {
        if incidentNames.contains(name) || name == "devrev.call" { return true }
        guard let operation = DevRevOperation(named: name) else { return false }
        return !operation.isRead
    }

    /// Incident fields an update can change, and the other incident bindings that change data.
    static var incidentNames: Set<String> {
        Set(RequestShapes.incidentsUpdateRequest.fields.keys).subtracting(["id"]).union(["create", "delete", "comment"])
    }
}
