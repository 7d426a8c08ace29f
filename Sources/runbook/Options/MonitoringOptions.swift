import ArgumentParser
import RunbookKit

/// What `run` tells the machines that watch it: metrics, a dead-man's switch, and a random delay
/// so that many hosts on one schedule do not start at the same instant.
struct MonitoringOptions: ParsableArguments {
    @Option(name: .customLong("metrics-file"), help: ArgumentHelp(
        "After the run, write its metrics here in Prometheus's text format (node_exporter's textfile collector), atomically.",
        valueName: "PATH"))
    var metricsFile: String?

    @Option(name: .customLong("metrics-push"), help: ArgumentHelp(
        "After the run, push its metrics to this Prometheus Pushgateway, grouped by job (runbook) and script.", valueName: "URL"))
    var metricsPush: String?

    @Option(name: .customLong("ping-url"), help: ArgumentHelp(
        "A dead-man's switch (healthchecks.io and alike): URL/start when the run starts, URL on success, URL/fail on failure.",
        valueName: "URL"))
    var pingURL: String?

    @Option(help: ArgumentHelp("Wait a random time up to DURATION before starting, e.g. 30s.", valueName: "DURATION"))
    var jitter: DurationValue?

    func validate() throws {
        for (option, url) in [("--metrics-push", metricsPush), ("--ping-url", pingURL)] {
            if let url, let problem = RunOptions.problem(withMonitoringURL: url) {
                throw ValidationError("\(option) \(url): \(problem)")
            }
        }
        if let metricsFile, metricsFile.isEmpty || metricsFile.hasSuffix("/") {
            throw ValidationError("--metrics-file needs a file's path, got '\(metricsFile)'")
        }
    }

    func apply(to options: inout RunOptions) {
        options.metricsFile = metricsFile
        options.metricsPush = metricsPush
        options.pingURL = pingURL
        options.jitter = jitter?.duration
    }
}
