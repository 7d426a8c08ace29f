import DevRevAPI

/// The `--output json` report of a run.
struct RunReport: Encodable {
    var runID: String
    var scriptPath: String
    var scriptSHA256: String?
    var arguments: [String: String]
    var calls: [DevRevConnection.CallRecord] = []
    var plan: [String]?
    var rateLimitWait: Duration = .zero
    var outcome = "success"
    var error: String?
    var exitCode: Int32 = 0

    init(runID: String, scriptPath: String, arguments: [String: String]) {
        self.runID = runID
        self.scriptPath = scriptPath
        self.arguments = arguments
    }

    mutating func finish(status: ExitStatus, error: String?) {
        outcome = status == .success ? "success" : "error"
        self.error = error
        exitCode = status.rawValue
    }

    enum CodingKeys: String, CodingKey {
        case runID = "run_id", script, arguments, calls, plan, outcome, error
        case exitCode = "exit_code"
        case rateLimitWaitMilliseconds = "rate_limit_wait_ms"
    }

    enum ScriptKeys: String, CodingKey {
        case path, sha256
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(runID, forKey: .runID)
        var script = container.nestedContainer(keyedBy: ScriptKeys.self, forKey: .script)
        try script.encode(scriptPath, forKey: .path)
        try script.encodeIfPresent(scriptSHA256, forKey: .sha256)
        try container.encode(arguments, forKey: .arguments)
        try container.encode(calls, forKey: .calls)
        try container.encodeIfPresent(plan, forKey: .plan)
        try container.encode(rateLimitWait.wholeMilliseconds, forKey: .rateLimitWaitMilliseconds)
        try container.encode(outcome, forKey: .outcome)
        try container.encodeIfPresent(error, forKey: .error)
        try container.encode(exitCode, forKey: .exitCode)
    }

    func json() -> String {
        ((try? String(decoding: JSONWriter.encode(self), as: UTF8.self)) ?? "{}") + "\n"
    }
}
