/// The exit codes of `runbook`, sysexits-based and stable. Documented in `--help` and the README.
public enum ExitStatus: Int32, Sendable, CaseIterable {
    case success = 0
    case scriptError = 1
    case usage = 64
    case dataError = 65
    case unavailable = 69
    case outputError = 74
    case temporaryFailure = 75
    case notAllowed = 77
    case configuration = 78
    case budgetExceeded = 79
    case partiallyApplied = 80
    case timeout = 124
    case interrupted = 130
    case terminated = 143

    public var meaning: String {
        switch self {
        case .success: "success (dry-run included)"
        case .scriptError: "the script raised an error it did not catch, or ran past --memory-limit"
        case .usage: "bad command line"
        case .dataError: "bad script or data: syntax error, a parameter or a request field failed validation"
        case .unavailable: "DevRev stayed unavailable after retries (5xx, connection failures)"
        case .outputError: "the --output json run report could not be written (standard output closed or full)"
        case .temporaryFailure: "temporary: rate limited past the retry budget, or another run holds the lock"
        case .notAllowed: "not allowed: 401 or 403"
        case .configuration: "configuration: no token, unreadable or too-open token file, bad base URL, unwritable audit journal"
        case .budgetExceeded: "the run would make more changes than --max-changes; nothing was sent"
        case .partiallyApplied: "a plan was not applied in full: changes skipped (their incident changed since the plan) or a failure after others were sent; the output lists each"
        case .timeout: "the script ran past --timeout"
        case .interrupted: "stopped by SIGINT"
        case .terminated: "stopped by SIGTERM"
        }
    }

    /// A name for how a run ended, where its error carries no type of its own (`run_report.error_type`).
    var name: String {
        switch self {
        case .success: "success"
        case .scriptError: "script_error"
        case .usage: "usage"
        case .dataError: "data_error"
        case .unavailable: "unavailable"
        case .outputError: "output_error"
        case .temporaryFailure: "temporary_failure"
        case .notAllowed: "not_allowed"
        case .configuration: "configuration"
        case .budgetExceeded: "max_changes_exceeded"
        case .partiallyApplied: "partially_applied"
        case .timeout: "timeout"
        case .interrupted: "interrupted"
        case .terminated: "terminated"
        }
    }

    /// The table printed in `runbook --help`.
    public static var helpTable: String {
        allCases.map { status in
            let code = String(status.rawValue)
            return "  " + code + String(repeating: " ", count: max(1, 5 - code.count)) + status.meaning
        }.joined(separator: "\n")
    }
}
