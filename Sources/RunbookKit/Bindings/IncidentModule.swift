import DevRevAPI
import LuaRuntime

/// `incident.update{...}`, `get`, `create`, `delete`, `group`, `comment` and (through the
/// prelude) the iterators `list` and `comments`.
enum IncidentModule {
    /// `scope`: what the script's `@changes` declaration allows. `runID` makes comment references.
    static func make(connection: DevRevConnection, scope: MutationScope = MutationScope(declared: nil), runID: String = "test") -> [LuaModule] {

        func incidentOf(_ response: JSONValue, _ operation: String) throws(ScriptFailure) -> JSONValue {
            .object(try ResponseShape.incident(in: response, operation: operation))
        }

        func table(_ call: LuaCall, _ function: String) throws -> LuaValue {
            guard call.argumentCount >= 1, call.typeName(at: 1) == "table" else {
                throw ScriptFailure.validation(function, field: nil, "expected a table of fields, got \(call.typeName(at: 1))")
            }
            return try call.argument(1, in: function)
        }

        // The request writer's working memory, for every request these bindings write.
        let scratch = RequestWriter.Scratch()
        let update = LuaFunction(name: "update") { call, results in
            let request = try RequestConverter(function: "incident.update")
                .encode(call, at: 1, shape: RequestShapes.incidentsUpdateRequest, for: .updateIncident, asValue: connection.planner != nil, scratch: scratch)
            try scope.permitUpdate(fields: request.fields.filter { $0 != "id" })
            try skippingClaimed(&results) {
                try incidentOf(try connection.perform(.updateIncident, request: request, incident: request.id), "incident.update")
            }
        }
        let get = LuaFunction(name: "get") { call, results in
            let id = try call.incidentID(in: "incident.get")
            try LuaJSON.push(try incidentOf(try connection.perform(.getIncident, body: .object(["id": .string(id)]), incident: id), "incident.get"), to: &results)
        }
        let create = LuaFunction(name: "create") { call, results in
            try scope.permit("incident.create", declaredAs: "create")
            let request = try RequestConverter(function: "incident.create")
                .encode(call, at: 1, shape: RequestShapes.incidentsCreateRequest, for: .createIncident, asValue: connection.planner != nil, scratch: scratch)
            try LuaJSON.push(try incidentOf(try connection.perform(.createIncident, request: request, incident: nil), "incident.create"), to: &results)
        }
        let delete = LuaFunction(name: "delete") { call, results in
            try scope.permit("incident.delete", declaredAs: "delete")
            let id = try call.incidentID(in: "incident.delete")
            try skippingClaimed(&results) {
                _ = try connection.perform(.deleteIncident, body: .object(["id": .string(id)]), incident: id)
                return .bool(true)
            }
        }
        let claim = LuaFunction(name: "claim") { call in
            let function = "incident.claim"
            let id = try call.incidentID(in: function)
            var window = connection.claims?.declaredWindow
            switch try call.argument(2, named: "opts", in: function) {
            case .nil, .emptyTable: break
            case .object(let given):
                for key in given.keys.sorted() where key != "window" {
                    throw ScriptFailure.validation(function, field: key, "unknown option '\(key)'; incident.claim takes window")
                }
                window = try claimWindow(given["window"] ?? .nil, function)
            default:
                throw ScriptFailure.validation(function, field: nil, "expected a table of options as the second argument, got \(call.typeName(at: 2))")
            }
            guard let window else {
                throw ScriptFailure.validation(function, field: "window", "no window: declare --- @claim WINDOW or pass {window = \"30m\"}")
            }
            switch try connection.claim(id, window: window) {
            case .taken: return [true]
            case .lost(let holder): return [false, .string(LuaString(holder))]
            }
        }
        let group = LuaFunction(name: "group") { call, results in
            let request = try RequestConverter(function: "incident.group").convert(try table(call, "incident.group"), shape: RequestShapes.incidentsGroupRequest)
            guard case .object(var fields) = request else { return }
            var groups: [JSONValue] = []
            var walk = CursorWalk(operation: "incident.group")
            repeat {
                if let cursor = walk.cursor { fields["cursor"] = .string(cursor) }
                guard case .object(let page) = try connection.perform(.groupIncidents, body: .object(fields), incident: nil) else {
                    throw ScriptFailure(type: "malformed_response", message: "incident.group: the response is not an object")
                }
                if case .array(let items)? = page["groups"] { groups += items }
                do throws(DevRevError) {
                    try walk.advance(to: Planner.text(page["next_cursor"]))
                } catch {
                    throw ScriptFailure(error)
                }
            } while !walk.finished
            try LuaJSON.push(.array(groups), to: &results)
        }
        let walks = PageWalks()
        /// `invalid(function, problem)`: the prelude's argument checks raise the same error table as
        /// every other binding's.
        let invalid = LuaFunction(name: "invalid") { call in
            throw ScriptFailure.validation(try call.value(at: 1).stringValue ?? "incident", field: nil, try call.value(at: 2).stringValue ?? "invalid argument")
        }
        let listPage = LuaFunction(name: "incident_list_page") { call, results in
            var filters = try table(call, "incident.list")
            let (id, walk) = try walks.walk(call, at: 2, in: "incident.list")
            if let cursor = walk.cursor {
                var fields: [String: LuaValue] = [:]
                if case .object(let given) = filters { fields = given }
                fields["cursor"] = .string(LuaString(cursor))
                filters = .object(fields)
            }
            let body = try RequestConverter(function: "incident.list").convert(filters, shape: RequestShapes.incidentsListRequest)
            let next = try connection.pushIncidentPage(body: body, into: &results)
            try results.pushBoolean(try walks.advance(id, walk, to: next))
        }
        let comments = CommentBindings(connection: connection, scope: scope, runID: runID, walks: walks)
        return [
            LuaModule(name: "incident", functions: [update, get, create, delete, group, claim, comments.comment] + BulkBindings.make(connection: connection, scope: scope)),
            LuaModule(name: internalModule, functions: [walks.startFunction, listPage, comments.commentsPage, invalid], isGlobal: false),
        ]
    }

    /// Pushes the change's answer. A change another run's claim keeps this run from making
    /// answers `nil, message` (the script goes on to the next incident) instead of raising.
    static func skippingClaimed(_ results: inout LuaResults, _ change: () throws -> JSONValue) throws {
        let answer: JSONValue
        do {
            answer = try change()
        } catch let failure as ScriptFailure where failure.type == "claimed" {
            try results.pushNil()
            try results.pushString(failure.message)
            return
        }
        try LuaJSON.push(answer, to: &results)
    }

    /// `incident.claim`'s `window`: a duration such as "30m", or seconds.
    private static func claimWindow(_ value: LuaValue, _ function: String) throws(ScriptFailure) -> Duration {
        let text: String
        switch value {
        case .string(let given): text = given.text ?? ""
        case .integer(let seconds): text = "\(seconds)"
        case .number(let seconds) where seconds.isFinite: text = "\(seconds)"
        default: throw ScriptFailure.validation(function, field: "window", "expected a duration such as \"30m\", got \(value.typeName)")
        }
        do throws(IncidentClaims.InvalidWindow) {
            return try IncidentClaims.window(parsing: text)
        } catch {
            throw ScriptFailure.validation(function, field: "window", error.description)
        }
    }

    /// The functions only the prelude uses; out of the script's reach once the prelude has run.
    static let internalModule = "_runbook_internal"

    /// Lua code that completes the module: the lazy iterators `incident.list` and `incident.comments`.
    static let prelude = """
        local internal = require("_runbook_internal")
        local start_walk, list_page, comments_page, invalid = internal.start_walk, internal.incident_list_page, internal.incident_comments_page, internal.invalid

        -- An iterator over the items of the pages `fetch(walk)` returns as `items, more`; the walk
        -- (cursor and repeated-cursor guard) is kept in Swift.
        local function pages(name, fetch)
          local walk = start_walk(name)
          local page, index, more = {}, 0, true
          return function()
            while true do
              if index < #page then
                index = index + 1
                return page[index]
              end
              if not more then return nil end
              page, more = fetch(walk)
              index = 0
            end
          end
        end

        rawset(incident, "list", function(filters)
          if filters ~= nil and type(filters) ~= "table" then
            invalid("incident.list", "expected a table of filters, got " .. type(filters))
          end
          filters = filters or {}
          return pages("incident.list", function(walk) return list_page(filters, walk) end)
        end)

        rawset(incident, "comments", function(id, options)
          if type(id) ~= "string" then
            invalid("incident.comments", "expected an incident id such as \\"INC-42\\", got " .. type(id))
          end
          if options ~= nil and type(options) ~= "table" then
            invalid("incident.comments", "expected a table of options, got " .. type(options))
          end
          options = options or {}
          return pages("incident.comments", function(walk) return comments_page(id, options, walk) end)
        end)
        """
}
