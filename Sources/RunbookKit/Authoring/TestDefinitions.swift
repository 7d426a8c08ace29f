/// The LuaLS definitions of a test file's environment (`runbook test`): the test API's globals,
/// the assertions, the fixture and run options, and what a run returns. Tests hold every list
/// here to the test environment itself, so an assertion or an option without a definition fails.
enum TestDefinitions {
    static let path = ".runbook/runbook-test.lua"

    /// The globals the prelude and the host define: signature and doc.
    static let globals: [(name: String, signature: String, doc: String)] = [
        ("describe", "fun(name: string, body: fun())", "A group of cases; its before_each and after_each hooks apply to every case inside it."),
        ("it", "fun(name: string, body: fun())", "A case: runs in a Lua VM and a sandbox of its own."),
        ("pending", "fun(name: string)", "A case still to write: listed as pending, never run."),
        ("before_each", "fun(hook: fun())", "Runs before every case of its describe block (outer blocks' hooks first)."),
        ("after_each", "fun(hook: fun())", "Runs after every case of its describe block, even a failing one."),
        ("given", "fun(fixture: runbook.test.Fixture)", "Seeds the case's sandbox; call it before the case's first run or sandbox read."),
        ("run", "fun(options?: runbook.test.RunOptions): runbook.test.RunResult",
         "Runs the script under test (NAME.lua beside NAME_test.lua, or options.script) against the case's sandbox."),
    ]

    static let sandbox: [(name: String, signature: String, doc: String)] = [
        ("incident", "fun(id: string): runbook.Incident?", "The incident as the sandbox holds it now; nil when there is none."),
        ("incidents", "fun(): runbook.Incident[]", "Every incident, in creation order."),
        ("comments", "fun(id: string): runbook.Comment[]", "The incident's comments, oldest first."),
        ("now", "fun(): integer", "The case's clock, in Unix seconds."),
        ("date", "fun(time: string|integer): string", "A time as the sandbox stores dates: \"+2d\" from the case's clock, RFC 3339 or Unix seconds."),
    ]

    /// Every check of the `assert` table.
    static let assertions: [(name: String, signature: String, doc: String)] = [
        ("equal", "fun(expected: any, actual: any, note?: string)", "expected == actual."),
        ("equals", "fun(expected: any, actual: any, note?: string)", "assert.equal."),
        ("same", "fun(expected: any, actual: any, note?: string)", "Deep equality; a failure lists every path that differs."),
        ("same_items", "fun(expected: any[], actual: any[], note?: string)", "The same items in any order."),
        ("truthy", "fun(value: any, note?: string)", "Neither false nor nil."),
        ("falsy", "fun(value: any, note?: string)", "false or nil."),
        ("is_true", "fun(value: any, note?: string)", "true."),
        ("is_false", "fun(value: any, note?: string)", "false."),
        ("is_nil", "fun(value: any, note?: string)", "nil."),
        ("not_nil", "fun(value: any, note?: string)", "Not nil."),
        ("is_not_nil", "fun(value: any, note?: string)", "assert.not_nil."),
        ("matches", "fun(pattern: string, text: string, note?: string)", "text matches the Lua pattern."),
        ("contains", "fun(whole: string|any[], part: any, note?: string)", "A text holds a plain substring, or a list an item."),
        ("has_record", "fun(records: table[], partial: table, note?: string)", "Some record has every field of partial."),
        ("records", "fun(actual: table[], expected: table[], options?: {any_order?: boolean}, note?: string)",
         "As many records as expected, each with every field of its expected one."),
        ("has_error", "fun(fn: fun(), expected?: string|table, note?: string)", "fn raises an error containing the text, or like the table."),
        ("exit", "fun(result: runbook.test.RunResult, code: integer, note?: string)", "The run's exit code; a failure shows its standard error."),
        ("changes", "fun(result: runbook.test.RunResult, expected: runbook.test.Change[], options?: {any_order?: boolean}, note?: string)",
         "The changes made (planned, in a dry run), each with every field given."),
        ("no_changes", "fun(result: runbook.test.RunResult, note?: string)", "The run changed (planned) nothing."),
        ("comments", "fun(result: runbook.test.RunResult, expected: table[], options?: {any_order?: boolean}, note?: string)",
         "The comments the run posted, each with every field given."),
        ("plan", "fun(result: runbook.test.RunResult, path: string, note?: string)",
         "The run's plan equals the golden plan file (runbook test --update writes it)."),
    ]

    /// Fixture fields by name: their Lua types.
    static let fixtureFields: [String: String] = [
        "now": "string|integer", "seed": "string", "current_user": "string", "users": "table[]", "parts": "table[]",
        "tags": "table[]", "stages": "table[]", "incidents": "runbook.test.FixtureIncident[]", "rate_limit": "runbook.test.RateLimit",
    ]
    static let incidentFields: [String: String] = [
        "title": "string", "body": "string", "severity": "integer", "stage": "string", "tags": "string[]", "source": "integer",
        "reported_by": "integer", "comments": "runbook.test.FixtureComment[]", "owned_by": "string[]", "created_by": "string",
        "applies_to_parts": "string[]", "custom_fields": "table<string, any>", "created_date": "string|integer",
        "modified_date": "string|integer", "identified_date": "string|integer", "acknowledged_date": "string|integer",
        "mitigated_date": "string|integer", "target_close_date": "string|integer", "actual_close_date": "string|integer",
    ]
    static let commentFields: [String: String] = [
        "body": "string", "created_by": "string", "created_date": "string|integer", "labels": "string[]", "external_ref": "string",
        "visibility": "string",
    ]
    static let runOptionFields: [String: String] = [
        "script": "string", "args": "table<string, string|number|boolean>", "now": "string|integer", "dry_run": "boolean",
        "max_changes": "integer", "timeout": "string", "memory_limit": "string", "log_level": "\"debug\"|\"info\"|\"warn\"|\"error\"",
        "faults": "runbook.test.Fault[]", "latency": "string", "rate_limit": "runbook.test.RateLimit",
    ]
    static let faultFields: [String: String] = [
        "fault": "integer|string", "operation": "string", "after": "integer", "times": "integer", "retry_after": "integer",
    ]
    static let resultFields: [(String, String)] = [
        ("run", "integer"), ("run_id", "string"), ("mode", "string"), ("exit_code", "integer"), ("ok", "boolean"),
        ("error?", "string"), ("error_type?", "string"), ("stdout", "string"), ("stderr", "string"), ("logs", "runbook.test.LogRecord[]"),
        ("changes", "runbook.test.Change[]"), ("comments", "table[]"), ("calls", "table[]"), ("journal", "table[]"),
        ("plan?", "table[]"), ("unchanged?", "string[]"), ("claims", "table[]"), ("claimed_elsewhere", "table[]"),
    ]

    static func text() -> String {
        var out = [
            "---@meta runbook-test",
            "-- The globals runbook \(RunbookVersion.number) gives a test file (NAME_test.lua, runbook test), for the Lua Language Server.",
            "-- Generated by runbook from its test API (runbook editor-setup); do not edit.",
            "",
        ]
        func block(_ name: String, _ fields: [(String, String)]) {
            out.append("---@class runbook.test.\(name)")
            for (field, type) in fields { out.append("---@field \(field) \(type)") }
            out.append("")
        }
        func optional(_ fields: [String: String]) -> [(String, String)] {
            fields.keys.sorted().map { ("\($0)?", fields[$0] ?? "any") }
        }
        block("Fixture", optional(fixtureFields))
        block("FixtureIncident", optional(incidentFields).map { $0.0 == "title?" ? ("title", $0.1) : $0 })
        block("FixtureComment", optional(commentFields).map { $0.0 == "body?" ? ("body", $0.1) : $0 })
        block("RateLimit", [("quota", "integer"), ("window?", "string")])
        block("RunOptions", optional(runOptionFields))
        block("Fault", optional(faultFields).map { $0.0 == "fault?" ? ("fault", $0.1) : $0 })
        block("RunResult", resultFields)
        block("Change", [("operation?", "\"update\"|\"create\"|\"delete\"|\"comment\"|\"delete_comment\""), ("incident?", "string"),
                         ("field?", "string"), ("before?", "any"), ("after?", "any")])
        block("LogRecord", [("level", "string"), ("message", "string"), ("fields?", "table<string, any>"), ("source?", "string")])
        for global in globals {
            out += ["---@type \(global.signature) \(global.doc)", "\(global.name) = nil", ""]
        }
        out.append("---@class runbook.test.Sandbox")
        for function in sandbox { out.append("---@field \(function.name) \(function.signature) \(function.doc)") }
        out += ["", "---@type runbook.test.Sandbox", "sandbox = {}", ""]
        out += ["---@class runbook.test.Assert", "---@overload fun(value: any, message?: string): any"]
        for check in assertions { out.append("---@field \(check.name) \(check.signature) \(check.doc)") }
        out += ["", "---@type runbook.test.Assert", "assert = {}", ""]
        return out.joined(separator: "\n")
    }
}
