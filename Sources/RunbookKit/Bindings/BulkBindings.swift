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
        // The request writer's working memory, for every item of every batch.
        let scratch = RequestWriter.Scratch()
        let updateMany = LuaFunction(name: "update_many") { call in
            let function = "incident.update_many"
            let options = try self.options(call, function)
            var items: [DevRevConnection.BatchItem] = []
            func add(_ request: EncodedRequest) throws(ScriptFailure) {
                guard let id = request.id else { return }
                try scope.permitUpdate(fields: request.fields.filter { $0 != "id" })
                items.append(.init(operation: .updateIncident, request: request, incident: id))
            }
            // A dry run plans from the items as values.
            if connection.planner == nil, let written = writtenUpdates(call.stackValue(at: 1), budget: call.memoryHeadroom, scratch: scratch) {
                for request in written { try add(request) }
            } else {
                for (index, item) in try list(call, function).enumerated() {
                    let converter = RequestConverter(function: "\(function): item \(index + 1)")
                    try add(try EncodedRequest(try converter.convert(item, shape: RequestShapes.incidentsUpdateRequest), for: .updateIncident))
                }
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
                items.append(.init(operation: .getIncident, request: try EncodedRequest(.object(["id": .string(id)]), for: .getIncident), incident: id))
            }
            return [results(try connection.performBatch(items, concurrency: options.concurrency, stopOnError: options.stopOnError), function)]
        }
        return [updateMany, getMany]
    }

    /// The items of `update_many`'s list, each written in one pass (`RequestWriter`), drawing on
    /// one memory budget as reading the list would; nil when the list or an item is anything the
    /// converter might refuse, so that it converts them all and names the item at fault.
    static func writtenUpdates(_ list: LuaStackValue, budget: Int?, scratch: RequestWriter.Scratch) -> [EncodedRequest]? {
        guard list.kind == .table else { return nil }
        var budget = budget
        // The list itself, as reading it counts it.
        if let left = budget {
            guard left >= LuaStackValue.conversionCost else { return nil }
            budget = left - LuaStackValue.conversionCost
        }
        let length = list.length
        var keys = 0
        var sequence = true
        let walked = list.forEachEntry { key, _ in
            keys += 1
            if key.kind != .integer || keys > length { sequence = false }
        }
        guard walked, sequence, keys == length else { return nil }
        var requests: [EncodedRequest] = []
        requests.reserveCapacity(length)
        for position in stride(from: 1, through: length, by: 1) {
            var writer = RequestWriter(function: "incident.update_many", budget: budget, scratch: scratch)
            let written: EncodedRequest?? = list.withItem(position) { item in writer.write(item, shape: RequestShapes.incidentsUpdateRequest) }
            guard case .some(.some(let request)) = written else { return nil }
            budget = writer.remainingBudget
            requests.append(request)
        }
        return requests
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
