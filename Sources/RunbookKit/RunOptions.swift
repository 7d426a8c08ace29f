/// What `runbook run` was asked to do.
public struct RunOptions: Sendable {
    public var scriptPath: String
    public var arguments: [ScriptArgument]
    public var timeout: Duration?
    public var memoryLimit: Int
    /// Extra directories for `require`, after the script's own (from `RUNBOOK_PATH`).
    public var searchPaths: [String]

    public init(
        scriptPath: String,
        arguments: [ScriptArgument] = [],
        timeout: Duration? = nil,
        memoryLimit: Int = 256 * 1024 * 1024,
        searchPaths: [String] = []
    ) {
        self.scriptPath = scriptPath
        self.arguments = arguments
        self.timeout = timeout
        self.memoryLimit = memoryLimit
        self.searchPaths = searchPaths
    }

    /// `RUNBOOK_PATH` split into directories (`;`-separated, empty parts ignored).
    public static func searchPaths(fromEnvironment value: String?) -> [String] {
        guard let value else { return [] }
        return value.split(separator: ";").map(String.init).filter { !$0.isEmpty }
    }
}

/// Environment variables a script never sees through `os.getenv`.
public enum SecretEnvironment {
    public static let names = ["DEVREV_TOKEN"]
}
