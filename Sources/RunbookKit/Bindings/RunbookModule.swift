import DevRevAPI
import Foundation
import LuaRuntime

/// The `runbook` table scripts see: the run's parameters and its clock.
enum RunbookModule {
    /// `args` is `runbook.args`: typed by the script's declarations (ScriptDeclarations).
    static func make(args: [String: LuaValue], clock: RunClock, runID: String, dryRun: Bool) -> LuaModule {
        let now = LuaFunction(name: "now") { _ in [.integer(clock.now())] }
        let time = LuaFunction(name: "time") { call in
            guard let text = try call.argument(1, in: "runbook.time").stringValue, let date = RFC3339.parse(text) else {
                throw ScriptFailure.validation("runbook.time", field: nil, "expected an RFC 3339 date-time such as 2026-11-26T12:00:00Z")
            }
            return [.integer(Int64(date.timeIntervalSince1970.rounded(.down)))]
        }
        let date = LuaFunction(name: "date") { call in
            let value = try? call.value(at: 1)
            let seconds = value == .nil ? clock.now() : value?.integerValue
            guard let seconds else {
                throw ScriptFailure.validation("runbook.date", field: nil, "expected whole Unix seconds, got \(value.map { "\($0)" } ?? (call.typeName(at: 1) == "number" ? "NaN or an infinite number" : call.typeName(at: 1)))")
            }
            if let problem = RequestConverter.unixSecondsProblem(seconds) {
                throw ScriptFailure.validation("runbook.date", field: nil, problem)
            }
            return [.string(LuaString(RFC3339.format(unixSeconds: seconds)))]
        }
        return LuaModule(
            name: "runbook", functions: [now, time, date],
            values: ["args": args.isEmpty ? .emptyTable : .object(args), "dry_run": .boolean(dryRun), "run_id": .string(LuaString(runID))])
    }
}
