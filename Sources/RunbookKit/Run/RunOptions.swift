import DevRevAPI
import Foundation
/// What `runbook run` was asked to do.
public struct RunOptions: Sendable {
    public var scriptPath: String
    public var arguments: [ScriptArgument]
    public var timeout: Duration?
    public var memoryLimit: Int
    /// Extra directories for `require`, after the script's own (from `RUNBOOK_PATH`).
    public var searchPaths: [String]
    /// `--base-url`; else `DEVREV_BASE_URL`; else DevRev's.
    public var baseURL: String?
    /// `--token-file`; else `DEVREV_TOKEN`.
    public var tokenFile: String?
    /// `--sandbox`: an in-process sandbox with the demo tenant, and the run pointed at it.
    public var sandbox: Bool
    /// `--output`: with json, a run report on standard output; `print` and logs go to standard error.
    public var output: OutputFormat
    /// `--now`: the frozen clock of `runbook.now()`, in Unix seconds.
    public var now: Int64?
    /// `--log-level`.
    public var logLevel: LogLevel
    /// `--allow-env` and `RUNBOOK_ALLOW_ENV`: the environment variables `os.getenv` answers for.
    public var allowedEnvironment: [String] = []
    /// `--no-lock`: run without taking the script's lock.
    public var noLock = false
    /// `--lock-wait`: wait this long for the lock instead of exiting 75 at once.
    public var lockWait: Duration?
    /// `--audit-log`; else `$XDG_STATE_HOME/runbook/audit.jsonl`.
    public var auditLog: String?
    /// `--audit-log-max-size`: the size at which a run rotates the journal when it opens it.
    public var journalMaximumSize = RunOptions.defaultJournalMaximumSize
    public static var defaultJournalMaximumSize: Int { AuditJournal.defaultMaximumSize }
    /// `--dry-run`: reads go out, changes are planned and printed, none is sent.
    public var dryRun = false
    /// `runbook plan -o FILE`: a dry run that writes its changes to FILE.
    public var planOutput: String?
    /// `--max-changes N`: plan first; send the plan only if it has at most N changes.
    public var maxChanges: Int?
    /// `apply --allow-other-target`: apply a plan made for another base URL, org or the sandbox.
    public var allowOtherTarget = false
    /// `--metrics-file`: the run's metrics for node_exporter's textfile collector.
    public var metricsFile: String?
    /// `--metrics-push`: a Prometheus Pushgateway to push the run's metrics to.
    public var metricsPush: String?
    /// `--ping-url`: a dead-man's switch told of the run's start and end.
    public var pingURL: String?
    /// `--jitter`: wait a random time up to this long before starting.
    public var jitter: Duration?
    /// When the command started (before `--jitter` and the lock wait): what `@claim` windows are
    /// chosen from, unless `--now` freezes the clock.
    public var startedAt = Date()
    /// The host a run's claims name; nil: this machine's name. `runbook test` names its own, so
    /// that plans are the same on every machine.
    var hostName: String?
    /// A sandbox someone else started (`runbook test`'s, one per case): the run goes there with
    /// its token and reads neither `DEVREV_BASE_URL` nor `DEVREV_TOKEN`.
    var sandboxEndpoint: SandboxEndpoint?

    struct SandboxEndpoint: Sendable {
        var baseURL: String
        var token: String
        /// As many attempts as against DevRev, with backoffs of milliseconds: a test of a 500
        /// takes no seconds. A 429's Retry-After is still waited as the server says.
        static let retry = DevRevConfiguration.RetryPolicy(initialBackoff: .milliseconds(5), maxBackoff: .milliseconds(50))
    }

    var outputJSON: Bool { output == .json }

    /// Whether the script runs against a planner rather than sending changes.
    var plans: Bool { dryRun || planOutput != nil || maxChanges != nil }

    /// The `--arg`s as given, by key (the last of a repeated key wins), for journals and plans.
    var argumentTable: [String: String] {
        Dictionary(arguments.map { ($0.key, $0.value) }, uniquingKeysWith: { _, last in last })
    }

    public init(
        scriptPath: String,
        arguments: [ScriptArgument] = [],
        timeout: Duration? = nil,
        memoryLimit: Int = 256 * 1024 * 1024,
        searchPaths: [String] = [],
        baseURL: String? = nil,
        tokenFile: String? = nil,
        sandbox: Bool = false,
        output: OutputFormat = .text,
        now: Int64? = nil,
        logLevel: LogLevel = .warn
    ) {
        self.scriptPath = scriptPath
        self.arguments = arguments
        self.timeout = timeout
        self.memoryLimit = memoryLimit
        self.searchPaths = searchPaths
        self.baseURL = baseURL
        self.tokenFile = tokenFile
        self.sandbox = sandbox
        self.output = output
        self.now = now
        self.logLevel = logLevel
    }

    /// Why `url` cannot be a `--metrics-push` or `--ping-url`; nil when it can.
    public static func problem(withMonitoringURL url: String) -> String? {
        MonitoringEndpoint.problem(with: url)
    }

    /// `RUNBOOK_PATH` split into directories (`;`-separated, empty parts ignored).
    public static func searchPaths(fromEnvironment value: String?) -> [String] {
        guard let value else { return [] }
        return value.split(separator: ";").map(String.init).filter { !$0.isEmpty }
    }

    /// Unix seconds of an RFC 3339 time, for `--now`.
    public static func unixSeconds(rfc3339 text: String) -> Int64? {
        RFC3339.parse(text).map { Int64($0.timeIntervalSince1970.rounded(.down)) }
    }
}

/// Environment variables a script never sees through `os.getenv`, even when allowed by name.
public enum SecretEnvironment {
    public static let names: Set<String> = ["DEVREV_TOKEN"]

    /// `RUNBOOK_ALLOW_ENV`: `,`-separated names, empty parts ignored.
    public static func allowList(fromEnvironment value: String?) -> [String] {
        guard let value else { return [] }
        return value.split(separator: ",").map { $0.trimmingWhitespace() }.filter { !$0.isEmpty }
    }
}
