/// `--log-level`: the least severe message written to standard error, for the script's `log.*`
/// and the client's own lines.
public enum LogLevel: String, CaseIterable, Comparable, Sendable {
    case debug, info, warn, error

    private var rank: Int { Self.allCases.firstIndex(of: self) ?? 0 }

    public static func < (a: LogLevel, b: LogLevel) -> Bool { a.rank < b.rank }
}

/// `--output`: text for people; json for a run report on standard output (print and logs go to
/// standard error then).
public enum OutputFormat: String, CaseIterable, Sendable {
    case text, json
}
