import DevRevAPI

/// The LuaLS definitions of a script's environment: a `---@meta` file editors read for completion
/// and hover docs. Generated, never written by hand: the request classes from the request shapes
/// the bindings validate against (every field, with the conveniences they allow), the answer
/// classes from the response models, and the functions from `functions`, which a test holds to
/// the runtime's own globals (`LuacheckStandard.globals()`), so a binding without a definition fails.
public enum LuaDefinitions {
    /// Every function and value a script gets from runbook's tables: signature and doc, in
    /// docs/lua-api.md's words.
    static let functions: [(name: String, signature: String, doc: String)] = [
        ("incident.get", "fun(id: string): runbook.Incident", "The incident (\"INC-42\" or its DON), as DevRev has it."),
        ("incident.update", "fun(fields: runbook.IncidentUpdate): runbook.Incident?, string?",
         "Changes an incident; returns it as it is after the change (as it would be, in a dry run). Under `@claim`, nil and why when another run holds the incident's claim."),
        ("incident.create", "fun(fields: runbook.IncidentCreate): runbook.Incident", "Creates an incident and returns it."),
        ("incident.delete", "fun(id: string): boolean?, string?", "Deletes an incident; true once it is gone (under `@claim`, nil and why when another run holds its claim)."),
        ("incident.claim", "fun(id: string, opts?: {window?: string|integer}): boolean, string?",
         "Claims the incident for this run's window (`@claim`'s, or opts.window such as \"30m\"): true when this run holds it, false and the holder when another run does."),
        ("incident.list", "fun(filters?: runbook.IncidentFilters): fun(): runbook.Incident?",
         "An iterator over every incident the filters match, page after page: `for inc in incident.list{...} do`."),
        ("incident.group", "fun(request: runbook.IncidentGroupRequest): runbook.IncidentGroup[]", "Incidents grouped by a field."),
        ("incident.update_many", "fun(items: runbook.IncidentUpdate[], opts?: {concurrency?: integer, stop_on_error?: boolean}): runbook.BatchResult[]",
         "Many updates, up to `concurrency` (1 to 16) at once; one result per item, in order."),
        ("incident.get_many", "fun(ids: string[], opts?: {concurrency?: integer, stop_on_error?: boolean}): runbook.BatchResult[]",
         "Many incidents read side by side; one result per id, in order."),
        ("incident.comment", "fun(id: string, body: string, opts?: runbook.CommentOptions): runbook.Comment?, string?",
         "Posts a comment on the incident's timeline; safe to retry (external_ref). Under `@claim`, nil and why when another run holds the incident's claim."),
        ("incident.comments", "fun(id: string, opts?: {labels?: string[], visibility?: string[], limit?: integer}): fun(): runbook.Comment?",
         "An iterator over the incident's comments, oldest first."),
        ("devrev.call", "fun(operation: string, body?: table): table?",
         "Any DevRev operation by name (`works.get`): reads are sent; a change must be declared in @changes, and is planned in a dry run (nil)."),
        ("json.encode", "fun(value: any): string", "Compact JSON, keys sorted; integers stay integers."),
        ("json.decode", "fun(text: string): any", "Strict JSON (RFC 8259); null is json.null."),
        ("json.array", "fun(items?: any[]): any[]", "An array even when empty: encodes as [] rather than {}."),
        ("log.debug", "fun(message: string, fields?: table<string, any>)", "A log line at debug (shown with --log-level debug)."),
        ("log.info", "fun(message: string, fields?: table<string, any>)", "A log line at info (shown with --log-level info)."),
        ("log.warn", "fun(message: string, fields?: table<string, any>)", "A log line at warn (shown by default)."),
        ("log.error", "fun(message: string, fields?: table<string, any>)", "A log line at error."),
        ("runbook.now", "fun(): integer", "Unix seconds now; frozen by --now."),
        ("runbook.time", "fun(rfc3339: string): integer", "Unix seconds of an RFC 3339 date-time (DevRev's dates)."),
        ("runbook.date", "fun(seconds?: integer): string", "The RFC 3339 string of Unix seconds (now without an argument)."),
    ]

    static let values: [(name: String, type: String, doc: String)] = [
        ("json.null", "lightuserdata", "JSON's null, distinct from nil."),
        ("runbook.args", "table<string, any>", "The --arg parameters, typed by the script's @param declarations."),
        ("runbook.dry_run", "boolean", "true in a dry run, a plan, and the planning phase of --max-changes."),
        ("runbook.run_id", "string", "This run's id, as in the run report and the journal."),
    ]

    /// The request classes: `(class, shape)`.
    static let requests: [(String, ObjectShape)] = [
        ("IncidentUpdate", RequestShapes.incidentsUpdateRequest), ("IncidentCreate", RequestShapes.incidentsCreateRequest),
        ("IncidentFilters", RequestShapes.incidentsListRequest), ("IncidentGroupRequest", RequestShapes.incidentsGroupRequest),
    ]

    /// The file's text.
    public static func text() -> String {
        var out = [
            "---@meta runbook",
            "-- The globals runbook \(RunbookVersion.number) gives a script, for the Lua Language Server.",
            "-- Generated by runbook from its bindings (runbook editor-setup); do not edit.",
            "",
        ]
        var pending = requests.map { (name: $0.0, shape: $0.1) }
        var written: Set<String> = []
        while let next = pending.first {
            pending.removeFirst()
            guard written.insert(next.shape.name).inserted else { continue }
            out.append("---@class runbook.\(next.name)")
            for field in next.shape.fields.keys.sorted() {
                guard let shape = next.shape.fields[field] else { continue }
                let (type, nested) = luaType(shape, field: field)
                pending += nested
                let optional = next.shape.required.contains(field) ? "" : "?"
                out.append("---@field \(field)\(optional) \(type)")
            }
            out.append("")
        }
        out += commentOptions()
        out += ResponseClasses.lines()
        out += [
            "---@class runbook.BatchResult",
            "---@field ok boolean",
            "---@field skipped? boolean true when another run holds the incident's claim (`@claim`); error.type is claimed",
            "---@field incident? runbook.Incident",
            "---@field error? runbook.Error",
            "",
            "---@class runbook.Error",
            "---@field type string validation, not_found, timeout, rate_limited, ... (docs/lua-api.md#errors)",
            "---@field message string",
            "---@field status? integer the HTTP status, when DevRev answered",
            "---@field field? string the field's path, for a validation error",
            "---@field detail? string",
            "",
        ]
        for module in ["incident", "devrev", "json", "log", "runbook"] {
            out.append("---@class runbook.\(module.capitalized)Module")
            for function in functions where function.name.hasPrefix(module + ".") {
                out.append("---@field \(function.name.dropFirst(module.count + 1)) \(function.signature) \(function.doc)")
            }
            for value in values where value.name.hasPrefix(module + ".") {
                out.append("---@field \(value.name.dropFirst(module.count + 1)) \(value.type) \(value.doc)")
            }
            out += ["", "---@type runbook.\(module.capitalized)Module", "\(module) = {}", ""]
        }
        return out.joined(separator: "\n")
    }

    private static func commentOptions() -> [String] {
        var lines = ["---@class runbook.CommentOptions"]
        let shape = RequestShapes.timelineEntriesCreateRequest
        for field in CommentBindings.options.sorted() {
            guard let fieldShape = shape.fields[field] else { continue }
            lines.append("---@field \(field)? \(luaType(fieldShape, field: field).type)")
        }
        return lines + [""]
    }

    /// The Lua type a field takes, with the conveniences `RequestConverter` allows, and the
    /// classes it needs.
    static func luaType(_ shape: RequestShape, field: String) -> (type: String, nested: [(name: String, shape: ObjectShape)]) {
        switch shape {
        case .string: return ("string", [])
        case .dateTime: return ("string|integer", [])
        case .int64, .int32: return ("integer", [])
        case .number: return ("number", [])
        case .boolean: return ("boolean", [])
        case .enumeration(let values): return (values.map { "\"\($0)\"" }.joined(separator: "|"), [])
        case .freeform: return ("table<string, any>", [])
        case .any: return ("any", [])
        case .array(let item):
            let (type, nested) = luaType(item, field: field)
            return (type.contains("|") ? "(\(type))[]" : "\(type)[]", nested)
        case .object(let object):
            let name = className(object.name)
            if object.isSetWrapper, let set = object.fields["set"] {
                let (type, nested) = luaType(set, field: field)
                return ("\(type)|runbook.\(name)", nested + [(name, object)])
            }
            if object.fields["stage"] != nil, object.fields.count <= 2 {
                return ("string|runbook.\(name)", [(name, object)])
            }
            return ("runbook.\(name)", [(name, object)])
        }
    }

    static func className(_ schema: String) -> String {
        schema.split(separator: "-").map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
    }
}
