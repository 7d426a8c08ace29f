import Foundation

/// `--metrics-push URL`: the run's metrics to a Prometheus Pushgateway, the documented way for
/// batch jobs to be scraped, grouped by job (`runbook`) and script:
/// `URL/metrics/job/runbook/script/NAME` (a name with characters a path cannot hold goes
/// base64url-encoded, `script@base64/...`, as the Pushgateway reads it). A URL that already
/// names a group (`.../metrics/job/NAME...`) is used as that group, with the script added.
///
/// A successful run PUTs the group whole. A failed run POSTs, which replaces only the families
/// it sends, and it leaves out the last success time: the Pushgateway keeps the one the last
/// successful run pushed, so an alert on its age works across failures.
struct Pushgateway: Sendable {
    let url: String
    let endpoint: MonitoringEndpoint

    /// The group's address for `script`.
    func groupAddress(script: String) -> String {
        var base = url
        while base.hasSuffix("/") { base.removeLast() }
        if !base.contains("/metrics/job/") { base += "/metrics/job/runbook" }
        let safe = !script.isEmpty && script.unicodeScalars.allSatisfy {
            CharacterSet.alphanumerics.contains($0) && $0.isASCII || "-_.".unicodeScalars.contains($0)
        }
        if safe { return base + "/script/" + script }
        let encoded = Data(script.utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        return base + "/script@base64/" + (encoded.isEmpty ? "=" : encoded)
    }

    /// Pushes `metrics`; a failure comes back as a warning's text.
    func push(_ metrics: RunMetrics) async -> String? {
        let samples = metrics.samples(lastSuccess: nil)
        let body = PrometheusText.render(samples, common: [])
        do throws(MonitoringEndpoint.Failure) {
            try await endpoint.send(metrics.succeeded ? .PUT : .POST, to: groupAddress(script: metrics.script), body: body,
                                    contentType: "text/plain; version=0.0.4; charset=utf-8")
            return nil
        } catch {
            return "the metrics push to \(error.description); the run goes on"
        }
    }
}
