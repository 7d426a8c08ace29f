/// Limits and environment of one Lua VM.
public struct LuaRuntimeOptions: Sendable {
    /// Wall-clock time a script may run, counted from the start of `run`. Nil: no limit.
    public var timeout: Duration?
    /// An instant the script must not run past, shared with the host's own work (its requests
    /// end there too): when set, it wins over `timeout`'s start-of-run count, and the VM stops a
    /// millisecond before it, so a host call the deadline cut short always finds the limit tripped.
    public var deadline: ContinuousClock.Instant?
    /// Bytes the VM may allocate. Nil: no cap. Default 256 MiB.
    public var memoryLimit: Int?
    /// Directories `require` searches, in order (the script's own directory is added by `run`).
    public var searchPaths: [String]
    /// The environment variables `os.getenv` answers for; it answers nil for every other name.
    public var allowedEnvironmentVariables: [String]
    /// The error text when the timeout trips; the script's location is put before it.
    public var timeoutMessage: String?
    /// The error text when the memory limit trips; the script's location is put before it.
    public var memoryLimitMessage: String?

    public static let defaultMemoryLimit = 256 * 1024 * 1024

    public init(
        timeout: Duration? = nil,
        deadline: ContinuousClock.Instant? = nil,
        memoryLimit: Int? = LuaRuntimeOptions.defaultMemoryLimit,
        searchPaths: [String] = [],
        allowedEnvironmentVariables: [String] = [],
        timeoutMessage: String? = nil,
        memoryLimitMessage: String? = nil
    ) {
        self.timeout = timeout
        self.deadline = deadline
        self.memoryLimit = memoryLimit
        self.searchPaths = searchPaths
        self.allowedEnvironmentVariables = allowedEnvironmentVariables
        self.timeoutMessage = timeoutMessage
        self.memoryLimitMessage = memoryLimitMessage
    }
}

/// A table of Swift functions and values that scripts reach as a global, through `require`, or both.
public struct LuaModule {
    public var name: String
    public var functions: [LuaFunction]
    public var values: [String: LuaValue]
    public var isGlobal: Bool

    public init(name: String, functions: [LuaFunction] = [], values: [String: LuaValue] = [:], isGlobal: Bool = true) {
        self.name = name
        self.functions = functions
        self.values = values
        self.isGlobal = isGlobal
    }
}

/// Why a chunk did not run to completion.
public struct LuaScriptError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// The script file cannot be read.
        case unreadable
        /// The chunk does not compile.
        case syntax
        /// The script raised an error it did not catch.
        case runtime
        /// The script ran past `LuaRuntimeOptions.timeout`.
        case timeout
        /// The script allocated past `LuaRuntimeOptions.memoryLimit`.
        case memoryLimit
        /// `LuaInterruptHandle.interrupt` stopped it.
        case interrupted
        /// The error handler itself failed (e.g. out of memory while building the traceback).
        case errorHandling
    }

    public var kind: Kind
    /// One line: `script.lua:3: message`; error values that are tables through `__tostring`,
    /// prefixed with the location of the error.
    public var message: String
    /// The error value when it converts (strings, and error tables); nil otherwise.
    public var value: LuaValue?
    /// `stack traceback:` and its lines, when the error happened while running.
    public var traceback: String?

    public init(kind: Kind, message: String, value: LuaValue? = nil, traceback: String? = nil) {
        self.kind = kind
        self.message = message
        self.value = value
        self.traceback = traceback
    }

    public var description: String { message }
}

extension Duration {
    var nanosecondsClamped: Int64 {
        let (seconds, attoseconds) = components
        let (whole, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return seconds < 0 ? 0 : Int64.max }
        return whole.addingReportingOverflow(attoseconds / 1_000_000_000).partialValue
    }
}
