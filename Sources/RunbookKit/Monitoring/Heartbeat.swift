import Foundation

/// `--ping-url URL`: the dead-man's-switch convention of healthchecks.io and its kin. `URL/start`
/// when the run starts, `URL` when it succeeds, `URL/fail` when it fails (with the exit code and
/// error in the body, which such services show). A service that hears no success in its schedule
/// and grace period pages someone. Pings never carry the token and never fail the run.
struct Heartbeat: Sendable {
    let url: String
    let endpoint: MonitoringEndpoint

    enum Signal: String, Sendable {
        case start, success, fail
    }

    /// `URL`, or `URL/start`, `URL/fail`: the suffix goes on the path, before any query.
    func address(for signal: Signal) -> String {
        guard signal != .success, var components = URLComponents(string: url) else { return url }
        let path = components.percentEncodedPath
        components.percentEncodedPath = (path.hasSuffix("/") ? path : path + "/") + signal.rawValue
        return components.string ?? url
    }

    /// Sends the ping; a failure comes back as a warning's text.
    func ping(_ signal: Signal, body: String = "") async -> String? {
        do throws(MonitoringEndpoint.Failure) {
            try await endpoint.send(.POST, to: address(for: signal), body: body, contentType: "text/plain; charset=utf-8")
            return nil
        } catch {
            return "the \(signal.rawValue) ping to \(error.description); the run goes on"
        }
    }
}
