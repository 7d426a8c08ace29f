import ArgumentParser
import RunbookKit

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a script.",
        discussion: """
            The script sees its parameters in runbook.args; print writes to standard output.
            require searches the script's directory, then the ';'-separated directories of RUNBOOK_PATH.
            DevRev: DEVREV_TOKEN (or --token-file) and DEVREV_BASE_URL (or --base-url), or --sandbox.

            Exit codes:
            \(ExitStatus.helpTable)
            """
    )

    @Argument(help: "The Lua script to run.")
    var script: String

    @Option(name: .customLong("arg"), help: ArgumentHelp("A parameter for the script, as KEY=VALUE (repeatable).", valueName: "KEY=VALUE"))
    var arguments: [String] = []

    @Option(help: ArgumentHelp("Stop the script after this long, e.g. 90s or 5m (exit 124).", valueName: "DURATION"))
    var timeout: String?

    @Option(name: .customLong("memory-limit"), help: ArgumentHelp("Memory the script may use, e.g. 64M or 1G.", valueName: "SIZE"))
    var memoryLimit: String = "256MiB"

    @OptionGroup var connection: ConnectionOptions

    @Flag(help: "Start an in-process sandbox with the demo tenant and point the run at it.")
    var sandbox = false

    @Option(help: ArgumentHelp("text, or json: a run report on standard output (print and logs go to standard error).", valueName: "FORMAT"))
    var output: String = "text"

    @Option(help: ArgumentHelp("Freeze runbook.now() at this RFC 3339 time.", valueName: "RFC3339"))
    var now: String?

    @Option(name: .customLong("log-level"), help: ArgumentHelp("debug, info, warn or error; a successful run at the default writes nothing to standard error.", valueName: "LEVEL"))
    var logLevel: String = "warn"

    @OptionGroup var safety: LockAndJournalOptions

    @Flag(name: .customLong("dry-run"), help: "Read as usual, plan every change with its diff, send none.")
    var dryRun = false

    @Option(name: .customLong("max-changes"), help: ArgumentHelp("Plan first; send the plan only if it has at most N changes (else exit 65).", valueName: "N"))
    var maxChanges: Int?

    /// Set by `runbook plan`.
    var planOutput: String?

    func run() throws {
        let options = try makeOptions()
        let status = ScriptRunner.run(options, watchdog: true)
        if status != .success { throw ExitCode(status.rawValue) }
    }

    func makeOptions() throws -> RunOptions {
        var options = RunOptions(scriptPath: script)
        do {
            options.arguments = try arguments.map { text throws(ScriptArgument.Invalid) in try ScriptArgument(parsing: text) }
            options.timeout = try timeout.map { text throws(DurationArgument.Invalid) in try DurationArgument.parse(text) }
            options.memoryLimit = try ByteSizeArgument.parse(memoryLimit)
        } catch {
            throw ValidationError(String(describing: error))
        }
        guard ["text", "json"].contains(output) else { throw ValidationError("--output must be text or json") }
        guard RunOptions.logLevels.contains(logLevel) else { throw ValidationError("--log-level must be debug, info, warn or error") }
        if let now {
            guard let seconds = RunOptions.unixSeconds(rfc3339: now) else {
                throw ValidationError("--now must be an RFC 3339 time such as 2026-11-26T12:00:00Z")
            }
            options.now = seconds
        }
        if sandbox, connection.baseURL != nil || connection.tokenFile != nil {
            throw ValidationError("--sandbox points the run at its own server: leave out --base-url and --token-file")
        }
        connection.apply(to: &options)
        options.sandbox = sandbox
        options.outputJSON = output == "json"
        options.logLevel = logLevel
        try safety.apply(to: &options)
        if let maxChanges {
            guard maxChanges >= 0 else { throw ValidationError("--max-changes must be 0 or more") }
            guard !dryRun else { throw ValidationError("--max-changes sends the plan; leave out --dry-run") }
        }
        options.dryRun = dryRun
        options.maxChanges = maxChanges
        options.planOutput = planOutput
        options.searchPaths = RunOptions.searchPaths(fromEnvironment: getenv("RUNBOOK_PATH").map { String(cString: $0) })
        SignalWatcher.install()
        return options
    }
}

struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Compile scripts without running them (no network, no execution).",
        discussion: "Exit 0 when every script compiles, 65 when one has a syntax error, 64 when one cannot be read."
    )

    @Argument(help: "The Lua scripts to check.")
    var scripts: [String]

    func validate() throws {
        if scripts.isEmpty { throw ValidationError("name at least one script") }
    }

    func run() throws {
        let status = ScriptChecker.check(scripts)
        if status != .success { throw ExitCode(status.rawValue) }
    }
}

struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "version", abstract: "Print runbook's version and its Lua's.")

    func run() {
        print(RunbookVersion.description)
    }
}

struct PlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Dry-run a script and write the changes it would make to a plan file.",
        discussion: "Takes every option of run. Apply the plan later with: runbook apply PLAN"
    )

    @OptionGroup var runOptions: RunCommand

    @Option(name: .customShort("o"), help: ArgumentHelp("The plan file to write.", valueName: "PLAN"))
    var planFile: String

    func run() throws {
        var command = runOptions
        command.planOutput = planFile
        guard !command.dryRun, command.maxChanges == nil else {
            throw ValidationError("plan never sends anything: leave out --dry-run and --max-changes")
        }
        let options = try command.makeOptions()
        let status = ScriptRunner.run(options, watchdog: true)
        if status != .success { throw ExitCode(status.rawValue) }
    }
}

struct ApplyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply",
        abstract: "Send exactly the changes of a plan, skipping incidents modified since it was planned."
    )

    @Argument(help: "The plan file written by runbook plan.")
    var plan: String

    @OptionGroup var connection: ConnectionOptions

    @OptionGroup var safety: LockAndJournalOptions

    func run() throws {
        var options = RunOptions(scriptPath: plan)
        connection.apply(to: &options)
        try safety.apply(to: &options)
        SignalWatcher.install()
        let status = PlanApplying.apply(options)
        if status != .success { throw ExitCode(status.rawValue) }
    }
}

struct DoctorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check the token (present, not near expiry), that DevRev answers, and that the lock and journal directories are writable.",
        discussion: "Exit 0 when all is well (warnings included), 78 for configuration, 77 for a rejected token, 69 when DevRev does not answer."
    )

    @OptionGroup var connection: ConnectionOptions

    @Option(name: .customLong("audit-log"), help: ArgumentHelp("The audit journal to check.", valueName: "PATH"))
    var auditLog: String?

    func run() throws {
        var options = RunOptions(scriptPath: "")
        connection.apply(to: &options)
        options.auditLog = auditLog
        let status = Doctor.run(options)
        if status != .success { throw ExitCode(status.rawValue) }
    }
}

struct DescribeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "describe",
        abstract: "Print a script's declared description and parameters (its leading --- @description / @param lines)."
    )

    @Argument(help: "The Lua script to describe.")
    var script: String

    func run() throws {
        let status = ScriptDescriber.describe(script)
        if status != .success { throw ExitCode(status.rawValue) }
    }
}

/// Where DevRev is: shared by run, plan, apply and doctor.
struct ConnectionOptions: ParsableArguments {
    @Option(name: .customLong("base-url"), help: ArgumentHelp("DevRev API base URL (else DEVREV_BASE_URL, else https://api.devrev.ai).", valueName: "URL"))
    var baseURL: String?

    @Option(name: .customLong("token-file"), help: ArgumentHelp("File holding the DevRev token, mode 0600 (else DEVREV_TOKEN).", valueName: "PATH"))
    var tokenFile: String?

    func apply(to options: inout RunOptions) {
        options.baseURL = baseURL
        options.tokenFile = tokenFile
    }
}

/// The lock and the journal: shared by run, plan and apply.
struct LockAndJournalOptions: ParsableArguments {
    @Option(name: .customLong("lock-wait"), help: ArgumentHelp("Wait this long for another run of the script to finish (else exit 75 at once).", valueName: "SECONDS"))
    var lockWait: Double?

    @Flag(name: .customLong("no-lock"), help: "Run even if another run of the script is running.")
    var noLock = false

    @Option(name: .customLong("audit-log"), help: ArgumentHelp("The audit journal (default $XDG_STATE_HOME/runbook/audit.jsonl).", valueName: "PATH"))
    var auditLog: String?

    func apply(to options: inout RunOptions) throws {
        if let lockWait {
            guard lockWait >= 0, lockWait.isFinite else { throw ValidationError("--lock-wait must be a number of seconds") }
            options.lockWait = .milliseconds(Int64(lockWait * 1000))
        }
        options.noLock = noLock
        options.auditLog = auditLog
    }
}
