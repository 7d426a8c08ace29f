import LuaRuntime

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where a run's text goes: `print` output, and messages for the operator.
public struct RunnerOutput: Sendable {
    public var standardOutput: @Sendable (UnsafeRawBufferPointer) -> Void
    public var standardError: @Sendable (String) -> Void

    public init(
        standardOutput: @escaping @Sendable (UnsafeRawBufferPointer) -> Void,
        standardError: @escaping @Sendable (String) -> Void
    ) {
        self.standardOutput = standardOutput
        self.standardError = standardError
    }

    /// The process's standard output and standard error, unbuffered.
    public static let process = RunnerOutput(
        standardOutput: { bytes in FileDescriptorWriter.write(bytes, to: STDOUT_FILENO) },
        standardError: { text in FileDescriptorWriter.write(text, to: STDERR_FILENO) }
    )
}

/// Runs one script for `runbook run`, and maps how it ended to an exit status.
public enum ScriptRunner {
    /// How long past `--timeout` the process may go on before the watchdog ends it. The VM's hook
    /// stops Lua code at the deadline; this catches work that never returns to Lua.
    public static let watchdogGrace: Duration = .seconds(1)

    public static func run(_ options: RunOptions, output: RunnerOutput = .process, watchdog: Bool = false) -> ExitStatus {
        if watchdog, let timeout = options.timeout {
            Watchdog.arm(after: timeout + watchdogGrace) {
                "runbook: the script ran past --timeout \(DurationArgument.format(timeout)) and did not return to Lua; stopped\n"
            }
        }
        return LuaThread.runAndWait { runOnThisThread(options, output: output) }
    }

    static func runOnThisThread(_ options: RunOptions, output: RunnerOutput) -> ExitStatus {
        do {
            let runtime = try LuaRuntime(options: runtimeOptions(for: options), output: output.standardOutput)
            runtime.register(RunbookModule.make(arguments: options.arguments))
            try runtime.run(file: options.scriptPath)
            return .success
        } catch {
            report(error, output: output)
            return exitStatus(for: error)
        }
    }

    static func runtimeOptions(for options: RunOptions) -> LuaRuntimeOptions {
        LuaRuntimeOptions(
            timeout: options.timeout,
            memoryLimit: options.memoryLimit,
            searchPaths: options.searchPaths,
            hiddenEnvironmentVariables: SecretEnvironment.names,
            timeoutMessage: options.timeout.map { "timeout: the script ran past --timeout \(DurationArgument.format($0))" },
            memoryLimitMessage: "memory limit: the script used more than --memory-limit \(ByteSizeArgument.format(options.memoryLimit))"
        )
    }

    public static func exitStatus(for error: LuaScriptError) -> ExitStatus {
        switch error.kind {
        case .unreadable: .usage
        case .syntax: .dataError
        case .runtime, .memoryLimit, .errorHandling: .scriptError
        case .timeout: .timeout
        }
    }

    static func report(_ error: LuaScriptError, output: RunnerOutput) {
        var text = (error.kind == .unreadable ? "runbook: " : "") + error.message + "\n"
        if let traceback = error.traceback, !traceback.isEmpty, error.kind != .syntax {
            text += traceback + "\n"
        }
        output.standardError(text)
    }
}
