import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// One HTTP request to a monitoring service (a Pushgateway, a dead-man's switch): a short
/// timeout, a few attempts on a failed connection or a 5xx, no credentials of runbook's, and
/// failures as messages for a warning (a monitoring hiccup never fails the run). Messages name
/// the service by scheme, host and port only: a ping URL's path is often its secret.
struct MonitoringEndpoint: Sendable {
    let client: HTTPClient
    var timeout: Duration = .seconds(5)
    var attempts = 2
    var retryDelay: Duration = .milliseconds(500)

    /// A client of its own: a refused connection fails the attempt at once (AsyncHTTPClient's
    /// shared client would keep retrying it until the timeout). `shutdown()` it after use.
    static func makeClient() -> HTTPClient {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.timeout.connect = .seconds(3)
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// Sends `body` with `method` to `url`; returns the answer's status (2xx), else throws why not.
    @discardableResult
    func send(_ method: HTTPMethod, to url: String, body: String, contentType: String) async throws(Failure) -> Int {
        var lastProblem = ""
        for attempt in 1...max(1, attempts) {
            if attempt > 1 { try? await Task.sleep(for: retryDelay) }
            var request = HTTPClientRequest(url: url)
            request.method = method
            request.headers.add(name: "User-Agent", value: "runbook/\(RunbookVersion.number)")
            request.headers.add(name: "Content-Type", value: contentType)
            request.body = .bytes(ByteBuffer(string: body))
            do {
                let response = try await client.execute(request, timeout: .milliseconds(timeout.wholeMilliseconds))
                let answer = try await response.body.collect(upTo: 64 * 1024)
                let status = Int(response.status.code)
                if (200..<300).contains(status) { return status }
                let text = String(buffer: answer).trimmingCharacters(in: .whitespacesAndNewlines).prefix(200)
                lastProblem = "answered \(status)\(text.isEmpty ? "" : ": \(text)")"
                // A 4xx will not change on a second try (a bad URL, a malformed push).
                if status < 500 { break }
            } catch {
                lastProblem = Self.describe(error)
            }
        }
        throw Failure(description: "\(Self.site(of: url)) \(lastProblem)")
    }

    /// `https://hc-ping.com` of `https://hc-ping.com/6f0e.../start`.
    static func site(of url: String) -> String {
        guard let components = URLComponents(string: url), let scheme = components.scheme, let host = components.host else { return "(an invalid URL)" }
        return "\(scheme)://\(host)\(components.port.map { ":\($0)" } ?? "")"
    }

    /// Why a URL cannot be used: not http(s), no host. Nil when it can.
    static func problem(with url: String) -> String? {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(),
              scheme == "http" || scheme == "https", let host = components.host, !host.isEmpty
        else { return "expected an http:// or https:// URL with a host" }
        return nil
    }

    private static func describe(_ error: any Error) -> String {
        if let error = error as? HTTPClientError {
            switch error {
            case .deadlineExceeded, .readTimeout, .connectTimeout: return "did not answer in time"
            case .remoteConnectionClosed: return "closed the connection"
            default: return "could not be reached (\(error))"
            }
        }
        if let error = error as? IOError {
            return "could not be reached (\(String(cString: strerror(error.errnoCode))))"
        }
        return "could not be reached (\(error))"
    }
}
