import AsyncHTTPClient
import Foundation

/// What `run` does around the run itself for the machines watching it: `--jitter` first, then
/// `--ping-url`'s start, the run, and after it `--metrics-file`, `--metrics-push` and the final
/// ping. None of these ever changes the run's exit status: each failure is a warning on
/// standard error.
struct RunMonitor: Sendable {
    var metricsFile: String?
    var metricsPush: String?
    var pingURL: String?
    var jitter: Duration?
    var logLevel: LogLevel

    var isEmpty: Bool { metricsFile == nil && metricsPush == nil && pingURL == nil && jitter == nil }

    init(options: RunOptions) {
        metricsFile = options.metricsFile
        metricsPush = options.metricsPush
        pingURL = options.pingURL
        jitter = options.jitter
        logLevel = options.logLevel
    }

    /// Runs `work` between the monitoring's steps; its status is the run's.
    func around(scriptPath: String, output: RunnerOutput, _ work: () async -> ScriptRunner.Execution) async -> ExitStatus {
        let client = pingURL != nil || metricsPush != nil ? MonitoringEndpoint.makeClient() : nil
        let endpoint = client.map { MonitoringEndpoint(client: $0) }
        let heartbeat = pingURL.flatMap { url in endpoint.map { Heartbeat(url: url, endpoint: $0) } }
        let warn = { (text: String) in output.standardError("runbook: warning: \(text)\n") }
        var execution: ScriptRunner.Execution
        let delay = jitter.map(Self.randomDelay)
        if let delay, logLevel <= .info {
            output.standardError("runbook: waiting \(DurationArgument.format(delay)) (--jitter) before starting\n")
        }
        if let delay, let stopped = await Self.wait(delay) {
            // A signal during the jitter: nothing started; the watchers still hear how it ended.
            output.standardError("runbook: stopped by a signal during --jitter; the script did not start\n")
            var report = RunReport(runID: ScriptRunner.makeRunID(), scriptPath: scriptPath, arguments: [:], mode: "run")
            report.finish(status: stopped, error: "stopped during --jitter")
            execution = ScriptRunner.Execution(status: stopped, report: report)
        } else {
            if let heartbeat, let problem = await heartbeat.ping(.start) { warn(problem) }
            execution = await work()
        }
        let metrics = RunMetrics(
            script: RunMetrics.scriptLabel(name: execution.report.scriptName, path: scriptPath), report: execution.report,
            exitCode: execution.status.rawValue)
        if let metricsFile {
            do throws(MetricsFile.Failure) {
                try MetricsFile.write(metrics, to: metricsFile)
            } catch {
                warn("\(error); the run's exit status is unchanged")
            }
        }
        if let metricsPush, let endpoint, let problem = await Pushgateway(url: metricsPush, endpoint: endpoint).push(metrics) { warn(problem) }
        if let heartbeat {
            let body = Self.pingBody(execution)
            if let problem = await heartbeat.ping(execution.status == .success ? .success : .fail, body: body) { warn(problem) }
        }
        try? await client?.shutdown()
        return execution.status
    }

    /// What the final ping says: exit code, error, run id (services show a ping's body).
    static func pingBody(_ execution: ScriptRunner.Execution) -> String {
        let report = execution.report
        var text = "exit \(execution.status.rawValue) (\(execution.status.name)); run \(report.runID)\n"
        if let error = report.error { text += String(error.prefix(2000)) + "\n" }
        return text
    }

    /// A uniformly random delay in [0, limit].
    static func randomDelay(_ limit: Duration) -> Duration {
        let milliseconds = max(0, limit.wholeMilliseconds)
        return .milliseconds(Int64.random(in: 0...milliseconds))
    }

    /// Sleeps `delay`, unless SIGINT or SIGTERM comes first: then its status. (The signal is
    /// looked for every tenth of a second.)
    static func wait(_ delay: Duration) async -> ExitStatus? {
        let end = ContinuousClock.now + delay
        while ContinuousClock.now < end {
            if let received = SignalWatcher.received { return received }
            try? await Task.sleep(for: min(.milliseconds(100), end - ContinuousClock.now))
        }
        return SignalWatcher.received
    }
}
