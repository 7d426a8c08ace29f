import ArgumentParser
import RunbookKit

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What `run` and `plan` share: the script, its parameters, limits, where DevRev is, output.
struct ScriptRunOptions: ParsableArguments {
    @Argument(help: "The Lua script to run.")
    var script: String

    @Option(name: .customLong("arg"), help: ArgumentHelp("A parameter for the script, as KEY=VALUE (repeatable).", valueName: "KEY=VALUE"))
    var arguments: [String] = []

    @Option(help: ArgumentHelp("Stop the script after this long, e.g. 90s or 5m (exit 124).", valueName: "DURATION"))
    var timeout: DurationValue?

    @Option(name: .customLong("memory-limit"), help: ArgumentHelp("Memory the script may use, e.g. 64M or 1G.", valueName: "SIZE"))
    var memoryLimit = ByteSizeValue(bytes: 256 << 20)

    @OptionGroup var connection: ConnectionOptions

    @Flag(help: "Start an in-process sandbox with the demo tenant and point the run at it.")
    var sandbox = false

    @Option(help: "text, or json: a run report on standard output (print and logs go to standard error).")
    var output: OutputFormat = .text

    @Option(help: ArgumentHelp("Freeze runbook.now() at this RFC 3339 time, e.g. 2026-11-26T12:00:00Z.", valueName: "RFC3339"))
    var now: TimeValue?

    @Option(name: .customLong("log-level"), help: "The least severe log line written; at the default a successful run writes nothing to standard error.")
    var logLevel: LogLevel = .warn

    @Option(name: .customLong("allow-env"), help: ArgumentHelp(
        "An environment variable os.getenv may read (repeatable; also RUNBOOK_ALLOW_ENV=A,B). Every other reads as nil; DEVREV_TOKEN never.",
        valueName: "NAME"))
    var allowedEnvironment: [String] = []

    @OptionGroup var safety: LockAndJournalOptions

    /// Below this a script cannot even open its libraries; a bare `512` almost surely meant 512M.
    static let minimumMemoryLimit = 1 << 20

    func validate() throws {
        if sandbox, connection.baseURL != nil || connection.tokenFile != nil {
            throw ValidationError("--sandbox points the run at its own server: leave out --base-url and --token-file")
        }
        if memoryLimit.bytes < Self.minimumMemoryLimit {
            throw ValidationError(
                "--memory-limit \(ByteSizeArgument.format(memoryLimit.bytes)) is too small: at least 1MiB "
                    + "(a number without a unit counts bytes; write 512M for 512 MiB)")
        }
        for name in allowedEnvironment where SecretEnvironment.names.contains(name) {
            throw ValidationError("--allow-env \(name): the token never enters a script")
        }
        for text in arguments {
            do throws(ScriptArgument.Invalid) {
                _ = try ScriptArgument(parsing: text)
            } catch {
                throw ValidationError(error.description)
            }
        }
    }

    /// The options of a run; `validate()` has passed.
    func makeOptions() -> RunOptions {
        var options = RunOptions(scriptPath: script)
        options.arguments = arguments.compactMap { try? ScriptArgument(parsing: $0) }
        options.timeout = timeout?.duration
        options.memoryLimit = memoryLimit.bytes
        options.now = now?.unixSeconds
        connection.apply(to: &options)
        options.sandbox = sandbox
        options.output = output
        options.logLevel = logLevel
        safety.apply(to: &options)
        let fromEnvironment = SecretEnvironment.allowList(fromEnvironment: getenv("RUNBOOK_ALLOW_ENV").map { String(cString: $0) })
        options.allowedEnvironment = allowedEnvironment + fromEnvironment
        options.searchPaths = RunOptions.searchPaths(fromEnvironment: getenv("RUNBOOK_PATH").map { String(cString: $0) })
        return options
    }
}
