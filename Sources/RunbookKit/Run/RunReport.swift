import DevRevAPI
import Foundation

/// The `--output json` report of a run.
struct RunReport: Encodable {
    var runID: String
    /// `apply`: the plan file the changes came from.
    var planFile: String?
    var scriptPath: String
    var scriptSHA256: String?
    /// The script's `@name`, when it declares one.
    var scriptName: String?
    var arguments: [String: String]
    /// `run`, `dry_run`, `plan` or `max_changes`.
    var mode: String
    /// Where the changes go; nil when the run could not resolve it.
    var target: RunTarget?
    var started = Date()
    var ended: Date?
    var calls: [DevRevConnection.CallRecord] = []
    /// The planned changes, field by field; nil for a run that did not plan.
    var plan: [PlannedChange]?
    /// Updates a plan left out because they would change nothing.
    var unchanged: [String]?
    /// What the second phase of `--max-changes` did with each planned change.
    var applied: PlanApplier.Outcome?
    var rateLimitWait: Duration = .zero
    var outcome = "success"
    var error: String?
    /// The error's type: the script error's own (`not_found`, `validation`), else how the run ended (`timeout`, `configuration`).
    var errorType: String?
    var exitCode: Int32 = 0
    /// Incidents skipped because another run holds their claim.
    var claimedElsewhere: [ClaimedElsewhere]?

    struct ClaimedElsewhere: Encodable, Sendable {
        var incident: String
        var holder: String
    }

    init(runID: String, scriptPath: String, arguments: [String: String], mode: String) {
        self.runID = runID
        self.scriptPath = scriptPath
        self.arguments = arguments
        self.mode = mode
    }

    mutating func finish(status: ExitStatus, error: String?) {
        outcome = status == .success ? "success" : status == .partiallyApplied ? "partially_applied" : "error"
        self.error = error
        if status != .success, errorType == nil { errorType = status.name }
        exitCode = status.rawValue
        ended = Date()
    }

    enum CodingKeys: String, CodingKey {
        case runID = "run_id", version, mode, target, script, arguments, calls, plan, unchanged, applied, outcome, error
        case errorType = "error_type"
        case planFile = "plan_file"
        case dryRun = "dry_run"
        case started = "started_at", ended = "ended_at"
        case exitCode = "exit_code"
        case rateLimitWaitMilliseconds = "rate_limit_wait_ms"
        case claimedElsewhere = "claimed_elsewhere"
    }

    enum ScriptKeys: String, CodingKey {
        case path, sha256, name
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(runID, forKey: .runID)
        try container.encode(RunbookVersion.number, forKey: .version)
        try container.encode(mode, forKey: .mode)
        try container.encode(mode == "dry_run" || mode == "plan", forKey: .dryRun)
        try container.encodeIfPresent(target, forKey: .target)
        try container.encodeIfPresent(planFile, forKey: .planFile)
        try container.encode(RFC3339.format(started), forKey: .started)
        try container.encode(RFC3339.format(ended ?? Date()), forKey: .ended)
        var script = container.nestedContainer(keyedBy: ScriptKeys.self, forKey: .script)
        try script.encode(scriptPath, forKey: .path)
        try script.encodeIfPresent(scriptSHA256, forKey: .sha256)
        try script.encodeIfPresent(scriptName, forKey: .name)
        try container.encode(arguments, forKey: .arguments)
        try container.encode(calls, forKey: .calls)
        try container.encodeIfPresent(plan, forKey: .plan)
        try container.encodeIfPresent(unchanged, forKey: .unchanged)
        try container.encodeIfPresent(applied, forKey: .applied)
        try container.encodeIfPresent(claimedElsewhere, forKey: .claimedElsewhere)
        try container.encode(rateLimitWait.wholeMilliseconds, forKey: .rateLimitWaitMilliseconds)
        try container.encode(outcome, forKey: .outcome)
        try container.encodeIfPresent(error, forKey: .error)
        try container.encodeIfPresent(errorType, forKey: .errorType)
        try container.encode(exitCode, forKey: .exitCode)
    }

    /// Finishes the report and writes it to standard output; `outputError` (74) when it cannot
    /// be written, else `status`.
    mutating func deliver(status: ExitStatus, error: String?, output: RunnerOutput) -> ExitStatus {
        finish(status: status, error: error)
        guard output.report(json()) else {
            output.standardError("runbook: cannot write the run report to standard output: \(String(cString: strerror(errno))) (the run itself ended with \(status.rawValue))\n")
            return .outputError
        }
        return status
    }

    func json() -> String {
        ((try? String(decoding: JSONWriter.encode(self), as: UTF8.self)) ?? "{}") + "\n"
    }
}
