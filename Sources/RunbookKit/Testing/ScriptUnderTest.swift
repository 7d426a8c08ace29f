import DevRevAPI
import DevRevSandbox
import Foundation
import LuaRuntime
import Synchronization

/// One `run{...}` of a case: the options it names, checked, and the run itself, through the same
/// `ScriptRunner` as `runbook run`, against the case's sandbox.
struct ScriptUnderTest {
    var scriptPath: String
    var arguments: [ScriptArgument] = []
    /// The case clock for this run and after it: absolute, or an offset from the case's clock.
    var now: Int64?
    var dryRun = false
    var maxChanges: Int?
    var timeout: Duration?
    var memoryLimit = LuaRuntimeOptions.defaultMemoryLimit
    var logLevel = LogLevel.info
    var rules: [SandboxConfiguration.Faults.Rule] = []
    var latency: Duration = .zero
    var rateLimit: SandboxConfiguration.RateLimit?

    static let keys = ["script", "args", "now", "dry_run", "max_changes", "timeout", "memory_limit", "log_level", "faults", "latency", "rate_limit"]
    /// Options of `runbook run` a test cannot have: a case's run goes to its own sandbox, writes
    /// its journal in the case's directory and takes no lock.
    static let refused: [String: String] = [
        "base_url": "a test runs only against its case's sandbox",
        "token": "a test reads no token: its runs go to the case's sandbox",
        "token_file": "a test reads no token: its runs go to the case's sandbox",
        "sandbox": "every run of a test goes to its case's sandbox already",
        "audit_log": "the journal of a case is in its own directory: read it as result.journal",
        "output": "what the run printed is result.stdout and result.stderr",
        "no_lock": "a test's runs take no lock",
    ]
    static let faultKeys = ["fault", "operation", "after", "times", "retry_after"]

    typealias Problem = TestFixture.Problem

    /// The options of `run(options)` or `run(script, options)`; `defaultScript` when none is named.
    init(_ first: LuaValue, _ second: LuaValue, defaultScript: () throws(Problem) -> String, directory: String, caseNow: Int64) throws(Problem) {
        var options = second
        var script: String?
        switch first {
        case .string(let text):
            script = text.text
        case .object, .emptyTable:
            options = first
        case .nil:
            break
        default:
            throw Problem("run: the argument is a table of options, or the script's path then the options (got \(first.typeName))")
        }
        let fields: [String: LuaValue]
        switch options {
        case .object(let object): fields = object
        case .emptyTable, .nil: fields = [:]
        default: throw Problem("run: the options are a table (got \(options.typeName))")
        }
        for key in fields.keys.sorted() {
            if let why = Self.refused[key] { throw Problem("run: \(key) is not an option of a test's run: \(why)") }
            guard Self.keys.contains(key) else {
                throw Problem("run: unknown option '\(key)'\(didYouMean(key, among: Self.keys)) (options: \(Self.keys.joined(separator: ", ")))")
            }
        }
        if let named = fields["script"] {
            guard let text = named.stringValue else { throw Problem("run: script is the path of the script under test") }
            script = text
        }
        if let script {
            scriptPath = TestDiscovery.join(directory, script)
        } else {
            scriptPath = try defaultScript()
        }
        arguments = try Self.arguments(fields["args"])
        if let value = fields["now"] {
            guard let json = try? LuaJSON.json(from: value) else { throw Problem("run: now is a time") }
            now = try TestFixture.unixSeconds(json, relativeTo: caseNow, place: "run: now")
        }
        dryRun = try Self.flag(fields["dry_run"], "dry_run")
        if let value = fields["max_changes"] {
            guard let count = value.integerValue, count >= 0, count <= Int.max else { throw Problem("run: max_changes is 0 or more") }
            guard !dryRun else { throw Problem("run: max_changes sends the plan; leave out dry_run") }
            maxChanges = Int(count)
        }
        timeout = try fields["timeout"].map { value throws(Problem) in try Self.duration(value, "timeout") }
        if let value = fields["memory_limit"] {
            guard let text = value.stringValue, let bytes = try? ByteSizeArgument.parse(text), bytes >= 1 << 20 else {
                throw Problem("run: memory_limit is a size of at least 1M, such as \"64M\"")
            }
            memoryLimit = bytes
        }
        if let value = fields["log_level"] {
            guard let level = value.stringValue.flatMap(LogLevel.init(rawValue:)) else {
                throw Problem("run: log_level is one of \(LogLevel.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            logLevel = level
        }
        rules = try Self.faults(fields["faults"])
        latency = try fields["latency"].map { value throws(Problem) in try Self.duration(value, "latency") } ?? .zero
        if let value = fields["rate_limit"] {
            guard let json = try? LuaJSON.json(from: value) else { throw Problem("run: rate_limit is a table") }
            rateLimit = try TestFixture.rateLimit(json)
        }
    }

    private static func flag(_ value: LuaValue?, _ name: String) throws(Problem) -> Bool {
        switch value {
        case nil, .nil?: return false
        case .boolean(let flag)?: return flag
        default: throw Problem("run: \(name) is true or false")
        }
    }

    private static func duration(_ value: LuaValue, _ name: String) throws(Problem) -> Duration {
        guard let text = value.stringValue, let duration = try? DurationArgument.parse(text) else {
            throw Problem("run: \(name) is a duration such as \"5s\" or \"20ms\"")
        }
        return duration
    }

    /// `args = { minutes = 30, stage = "resolved" }`: each value as `--arg KEY=VALUE` would give it.
    private static func arguments(_ value: LuaValue?) throws(Problem) -> [ScriptArgument] {
        switch value {
        case nil, .nil?, .emptyTable?: return []
        case .object(let fields)?:
            return try fields.keys.sorted().map { key throws(Problem) in
                let text: String
                switch fields[key] {
                case .string(let string)?: text = string.text ?? ""
                case .integer(let integer)?: text = String(integer)
                case .number(let number)?: text = String(number)
                case .boolean(let flag)?: text = String(flag)
                default: throw Problem("run: args.\(key) is a string, a number or a boolean")
                }
                return ScriptArgument(key: key, value: text)
            }
        default:
            throw Problem("run: args is a table of parameters, { minutes = 30 }")
        }
    }

    /// `faults = { { fault = 500, operation = "incidents.update", after = 1, times = 1 } }`.
    private static func faults(_ value: LuaValue?) throws(Problem) -> [SandboxConfiguration.Faults.Rule] {
        let items: [LuaValue]
        switch value {
        case nil, .nil?, .emptyTable?: return []
        case .array(let list)?: items = list
        default: throw Problem("run: faults is a list of faults, { { fault = 500, operation = \"incidents.update\" } }")
        }
        let kinds = SandboxConfiguration.Faults.Kind.allCases.map(\.rawValue)
        let operations = Sandbox.operations.sorted()
        return try items.enumerated().map { index, item throws(Problem) in
            let place = "run: faults[\(index + 1)]"
            guard case .object(let fields) = item else { throw Problem("\(place) is a table") }
            for key in fields.keys.sorted() where !faultKeys.contains(key) {
                throw Problem("\(place): unknown field '\(key)'\(didYouMean(key, among: faultKeys)) (fields: \(faultKeys.joined(separator: ", ")))")
            }
            let name: String
            switch fields["fault"] {
            case .integer(let code)?: name = String(code)
            case .string(let text)?: name = text.text ?? ""
            default: throw Problem("\(place).fault is one of \(kinds.joined(separator: ", "))")
            }
            guard let kind = SandboxConfiguration.Faults.Kind(rawValue: name) else {
                throw Problem("\(place).fault: '\(name)' is not one of \(kinds.joined(separator: ", "))")
            }
            var operation: String?
            if let value = fields["operation"] {
                guard let text = value.stringValue, Sandbox.operations.contains(text) else {
                    let text = value.stringValue ?? value.typeName
                    throw Problem("\(place).operation: '\(text)' is not an operation the sandbox serves\(didYouMean(text, among: operations))")
                }
                operation = text
            }
            func count(_ key: String) throws(Problem) -> Int? {
                guard let value = fields[key] else { return nil }
                guard let number = value.integerValue, number >= 0, number <= Int32.max else { throw Problem("\(place).\(key) is 0 or more") }
                return Int(number)
            }
            let retryAfter = try count("retry_after") ?? 1
            guard retryAfter == 1 || kind == .tooManyRequests else { throw Problem("\(place).retry_after is for fault 429") }
            return .init(kind: kind, operation: operation, after: try count("after") ?? 0, times: try count("times"), retryAfter: Int64(retryAfter))
        }
    }

    /// The options of `runbook run` this run amounts to.
    /// The host a case's runs name in their claims: the same on every machine.
    static let hostName = "runbook-test"

    func runOptions(endpoint: RunOptions.SandboxEndpoint, journal: String, now: Int64, timeout: Duration) -> RunOptions {
        var options = RunOptions(scriptPath: scriptPath, arguments: arguments, timeout: timeout, memoryLimit: memoryLimit, now: now,
                                 logLevel: logLevel)
        options.sandboxEndpoint = endpoint
        options.noLock = true
        options.auditLog = journal
        options.dryRun = dryRun
        options.maxChanges = maxChanges
        options.hostName = Self.hostName
        return options
    }
}

/// What a run printed and logged, gathered while it runs.
final class RunCapture: Sendable {
    private let state = Mutex<(standardOutput: [UInt8], standardError: String, logs: [RunLog.Record])>(([], "", []))

    var output: RunnerOutput {
        var output = RunnerOutput(
            standardOutput: { bytes in self.state.withLock { $0.standardOutput += bytes } },
            standardError: { text in self.state.withLock { $0.standardError += text } })
        output.logRecord = { record in self.state.withLock { $0.logs.append(record) } }
        return output
    }

    var standardOutput: String { state.withLock { String(decoding: $0.standardOutput, as: UTF8.self) } }
    var standardError: String { state.withLock { $0.standardError } }
    var logs: [RunLog.Record] { state.withLock { $0.logs } }
}
