import LuaRuntime

/// Reading a binding's arguments, with failures as the validation errors scripts see.
extension LuaCall {
    /// Argument `position` converted; a value that cannot be converted (a cycle, a bad key) is a
    /// validation error of `function` naming the field's path (none for the argument itself).
    func argument(_ position: Int, named name: String = "", in function: String) throws(ScriptFailure) -> LuaValue {
        do {
            return try value(at: position, named: name)
        } catch {
            let path = error.path.description
            throw ScriptFailure.validation(function, field: path.isEmpty || path == "value" ? nil : path, error.problem)
        }
    }

    /// Argument `position` as an incident id (`"INC-42"` or a DevRev id).
    func incidentID(at position: Int = 1, in function: String) throws(ScriptFailure) -> String {
        guard typeName(at: position) == "string", let id = try? value(at: position).stringValue, !id.isEmpty else {
            throw ScriptFailure.validation(function, field: "id", "expected an incident id such as \"INC-42\", got \(typeName(at: position))")
        }
        return id
    }
}
