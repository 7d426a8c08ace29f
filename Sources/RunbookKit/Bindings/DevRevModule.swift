import DevRevAPI
import LuaRuntime

/// `devrev.call(operation, body)`: any DevRev endpoint, with the auth, retries, pacing, error
/// tables, journal and exit codes of the typed bindings, and none of their schema checks.
///
/// Operations ending in `.get`, `.list`, `.count` or `.group` are reads. Anything else is a
/// mutation: it needs `--- @changes devrev.call` (or the operation's name), is planned instead
/// of sent in a dry run, counts toward `--max-changes`, and is journaled. Retried after a 5xx or
/// a lost connection only when safe to repeat: reads, `*.update`, `*.delete`.
enum DevRevModule {
    static func make(connection: DevRevConnection, scope: MutationScope) -> LuaModule {
        let call = LuaFunction(name: "call") { call, results in
            let function = "devrev.call"
            guard call.typeName(at: 1) == "string", let name = try? call.value(at: 1).stringValue else {
                throw ScriptFailure.validation(function, field: nil, "expected an operation name such as \"works.update\", got \(call.typeName(at: 1))")
            }
            guard let operation = DevRevOperation(named: name) else {
                throw ScriptFailure.validation(
                    function, field: nil, "'\(name)' is not an operation name (group.verb: letters, digits, '-' and '_', e.g. \"works.update\")")
            }
            let body: JSONValue
            switch try call.argument(2, in: function) {
            case .nil: body = .object([:])
            case .object(let fields):
                do throws(LuaJSON.Failure) {
                    body = try LuaJSON.json(from: .object(fields))
                } catch {
                    throw ScriptFailure.validation(function, field: error.path.isEmpty ? nil : error.path, error.problem)
                }
            case .emptyTable: body = .object([:])
            default:
                throw ScriptFailure.validation(function, field: nil, "expected a table as the request body, got \(call.typeName(at: 2))")
            }
            if !operation.isRead { try scope.permitCall(operation) }
            let response = try connection.performCall(operation, body: body)
            if response == .null { try results.pushNil() } else { try LuaJSON.push(response, to: &results) }
        }
        return LuaModule(name: "devrev", functions: [call])
    }
}
