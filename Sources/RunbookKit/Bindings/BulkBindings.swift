import DevRevAPI
import LuaRuntime

/// `incident.update_many(list, opts)` and `incident.get_many(ids, opts)`: many calls run
/// concurrently in Swift, results in input order, each `{ok = true, incident = ...}` or
/// `{ok = false, error = <error table>}`.
///
/// Every item is checked before anything is sent: a malformed item (or one outside the script's
/// `@changes`) fails the whole call with a validation error naming its index, so a typo never
/// leaves a batch half done.
enum BulkBindings {
    static let defaultConcurrency = 4
    static let maximumConcurrency = 32

    struct Options {
        var concurrency = BulkBindings.defaultConcurrency
        var stopOnError = false
    }

    static func make(connection: DevRevConnection, scope: MutationScope) -> [LuaFunction] {
        let updateMany = LuaFunction(name: "update_many") { call in
            let function = "incident.update_many"
            let options = try self.options(call, function)
            var items: [DevRevConnection.BatchItem] = []
            for (index, item) in try list(call, function).enumerated() {
                let converter = RequestConverter(function: "\(function): item \(index + 1)")
                let body = try converter.convert(item, shape: RequestShapes.incidentsUpdateRequest)
                guard case .object(let fields) = body, case .string(let id)? = fields["id"] else { continue }
                try scope.permitUpdate(fields: fields.keys.filter { $0 != "id" }.sorted())
                items.append(.init(operation: .updateIncident, body: body, incident: id))
            }
            return [results(try connection.performBatch(items, concurrency: options.concurrency, stopOnError: options.stopOnError), function)]
        }
        let getMany = LuaFunction(name: "get_many") { call in
            let function = "incident.get_many"
            let options = try self.options(call, function)
            var items: [DevRevConnection.BatchItem] = []
            for (index, item) in try list(call, function).enumerated() {
                guard case .string(let text) = item, let id = text.text, !id.isEmpty else {
                    throw ScriptFailure.validation(function, field: "[\(index + 1)]", "expected an incident id such as \"INC-42\", got \(item.typeName)")
                }
                items.append(.init(operation: .getIncident, body: .object(["id": .string(id)]), incident: id))
            }
            return [results(try connection.performBatch(items, concurrency: options.concurrency, stopOnError: options.stopOnError), function)]
        }
        return [updateMany, getMany]
    }

    private static func list(_ call: LuaCall, _ function: String) throws(ScriptFailure) -> [LuaValue] {
        let value = try call.argument(1, in: function)
        switch value {
        case .array(let items): return items
        case .emptyTable: return []
        case .object: throw ScriptFailure.validation(function, field: nil, "expected an array (a table with items 1..n), got a table with named fields")
        default: throw ScriptFailure.validation(function, field: nil, "expected an array as the first argument, got \(call.typeName(at: 1))")
        }
    }

    private static func options(_ call: LuaCall, _ function: String) throws(ScriptFailure) -> Options {
        var options = Options()
        let value = try call.argument(2, named: "opts", in: function)
        let fields: [String: LuaValue]
        switch value {
        case .nil, .emptyTable: return options
        case .object(let given): fields = given
        default: throw ScriptFailure.validation(function, field: nil, "expected a table of options as the second argument, got \(call.typeName(at: 2))")
        }
        for (key, item) in fields.sorted(by: { $0.key < $1.key }) {
            switch (key, item) {
            case ("concurrency", .integer(let number)) where (1...Int64(maximumConcurrency)).contains(number):
                options.concurrency = Int(number)
            case ("concurrency", .number(let number)) where number.rounded() == number && (1...Double(maximumConcurrency)).contains(number):
                options.concurrency = Int(number)
            case ("concurrency", _):
                throw ScriptFailure.validation(function, field: "concurrency", "expected an integer from 1 to \(maximumConcurrency)")
            case ("stop_on_error", .boolean(let flag)):
                options.stopOnError = flag
            case ("stop_on_error", _):
                throw ScriptFailure.validation(function, field: "stop_on_error", "expected true or false, got \(item.typeName)")
            default:
                var message = "unknown option '\(key)'"
                message += didYouMean(key, among: ["concurrency", "stop_on_error"])
                throw ScriptFailure.validation(function, field: key, message)
            }
        }
        return options
    }

    private static func results(_ results: [DevRevConnection.BatchResult], _ function: String) -> LuaValue {
        .array(results.map { result in
            switch result {
            case .success(let response):
                var incident: LuaValue = .nil
                if case .object(let fields) = response, let found = fields["incident"] { incident = LuaJSON.lua(from: found) }
                return .object(["ok": .boolean(true), "incident": incident])
            case .failure(let failure) where failure.type == "claimed":
                return .object(["ok": .boolean(false), "skipped": .boolean(true), "error": failure.luaErrorValue])
            case .failure(let failure):
                return .object(["ok": .boolean(false), "error": failure.luaErrorValue])
            case .notAttempted:
                let failure = ScriptFailure(type: "not_attempted", message: "\(function): not sent: the batch stopped after an earlier item failed (stop_on_error) or the run was stopped")
                return .object(["ok": .boolean(false), "error": failure.luaErrorValue])
            }
        })
    }
}
