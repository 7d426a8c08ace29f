import DevRevAPI
import Foundation

/// What one run measured, for Prometheus: the node_exporter textfile collector (`--metrics-file`)
/// and the Pushgateway (`--metrics-push`). Every family is a gauge of the last run: a textfile and
/// a push group each hold one value per series, replaced by the next run.
struct RunMetrics: Sendable, Equatable {
    /// The script's `@name`, else its file name without `.lua`: the same on every host.
    var script: String
    var started: Date
    var ended: Date
    var exitCode: Int32
    /// Changes DevRev accepted, by operation (`incidents.update`, `timeline-entries.create`, ...).
    var changes: [String: Int]
    /// Calls to DevRev by the HTTP status of their last answer; `none` when none came.
    var requests: [String: Int]
    var rateLimitWait: Duration
    /// Claims taken and claims another run held (`--- @claim`, `incident.claim`).
    var claimsTaken: Int
    var claimsLost: Int

    var succeeded: Bool { exitCode == 0 }

    /// The families in the order they are written, with their help text.
    enum Family: String, CaseIterable {
        case lastRun = "runbook_last_run_timestamp_seconds"
        case lastSuccess = "runbook_last_success_timestamp_seconds"
        case duration = "runbook_last_run_duration_seconds"
        case exitCode = "runbook_last_run_exit_code"
        case changes = "runbook_last_run_changes"
        case requests = "runbook_last_run_api_requests"
        case rateLimitWait = "runbook_last_run_rate_limit_wait_seconds"
        case claims = "runbook_last_run_claims"

        var help: String {
            switch self {
            case .lastRun: "When the last run of the script ended, in Unix seconds."
            case .lastSuccess: "When a run of the script last ended with exit code 0, in Unix seconds."
            case .duration: "How long the last run took, jitter excluded."
            case .exitCode: "The last run's exit code (0 success; see runbook --help)."
            case .changes: "Changes DevRev accepted in the last run, by operation."
            case .requests: "Calls to DevRev in the last run, by the HTTP status of their last answer (none: no answer came)."
            case .rateLimitWait: "How long the last run waited for DevRev's rate limit."
            case .claims: "Incident claims in the last run: taken, or lost to another run that held them."
            }
        }
    }

    /// One sample: its family, labels beyond the script's, value.
    struct Sample: Equatable {
        var family: Family
        var labels: [(String, String)]
        var value: Double

        static func == (a: Sample, b: Sample) -> Bool {
            a.family == b.family && a.value == b.value && a.labels.map { "\($0.0)=\($0.1)" } == b.labels.map { "\($0.0)=\($0.1)" }
        }
    }

    /// The samples of this run. `lastSuccess` is this run's end when it succeeded, else the one
    /// the caller carried over from an earlier run (nil: none known, the series is left out).
    func samples(lastSuccess: Double?) -> [Sample] {
        var samples: [Sample] = [
            Sample(family: .lastRun, labels: [], value: ended.timeIntervalSince1970),
        ]
        if let lastSuccess = succeeded ? ended.timeIntervalSince1970 : lastSuccess {
            samples.append(Sample(family: .lastSuccess, labels: [], value: lastSuccess))
        }
        samples.append(Sample(family: .duration, labels: [], value: max(0, ended.timeIntervalSince(started))))
        samples.append(Sample(family: .exitCode, labels: [], value: Double(exitCode)))
        // Every operation the script can change something with has a series, zero or not, so a
        // push replaces the last run's and a dashboard's rate never meets a missing series.
        let operations = Set(Self.changeOperations).union(changes.keys).sorted()
        samples += operations.map { Sample(family: .changes, labels: [("operation", $0)], value: Double(changes[$0] ?? 0)) }
        samples += requests.keys.sorted().map { Sample(family: .requests, labels: [("status", $0)], value: Double(requests[$0] ?? 0)) }
        samples.append(Sample(family: .rateLimitWait, labels: [], value: Double(rateLimitWait.wholeMilliseconds) / 1000))
        samples.append(Sample(family: .claims, labels: [("result", "taken")], value: Double(claimsTaken)))
        samples.append(Sample(family: .claims, labels: [("result", "lost")], value: Double(claimsLost)))
        return samples
    }

    /// The operations of the typed incident bindings, always present in `changes`.
    static let changeOperations = ["incidents.create", "incidents.delete", "incidents.update", "timeline-entries.create"]

    /// The measurements of a finished run, from its report.
    init(script: String, report: RunReport, exitCode: Int32) {
        self.script = script
        started = report.started
        ended = report.ended ?? Date()
        self.exitCode = exitCode
        var changes: [String: Int] = [:]
        var requests: [String: Int] = [:]
        var claims: [DevRevConnection.CallRecord.ClaimResult: Int] = [:]
        for call in report.calls {
            requests[call.status.map(String.init) ?? "none", default: 0] += 1
            if let claim = call.claim { claims[claim, default: 0] += 1 }
            if let status = call.status, (200..<300).contains(status), call.claim == nil,
               let operation = DevRevOperation(named: call.operation), !operation.isRead
            {
                changes[call.operation, default: 0] += 1
            }
        }
        self.changes = changes
        self.requests = requests
        rateLimitWait = report.rateLimitWait
        claimsTaken = claims[.taken] ?? 0
        claimsLost = claims[.lost] ?? 0
    }

    init(
        script: String, started: Date, ended: Date, exitCode: Int32, changes: [String: Int] = [:], requests: [String: Int] = [:],
        rateLimitWait: Duration = .zero, claimsTaken: Int = 0, claimsLost: Int = 0
    ) {
        self.script = script
        self.started = started
        self.ended = ended
        self.exitCode = exitCode
        self.changes = changes
        self.requests = requests
        self.rateLimitWait = rateLimitWait
        self.claimsTaken = claimsTaken
        self.claimsLost = claimsLost
    }

    /// The script's label: its `@name`, else the file's name without `.lua` (`-` for standard input).
    static func scriptLabel(name: String?, path: String) -> String {
        if let name, !name.isEmpty { return name }
        let file = (path as NSString).lastPathComponent
        if path == "-" || file.isEmpty { return "stdin" }
        return file.hasSuffix(".lua") ? String(file.dropLast(4)) : file
    }
}
