@testable import DevRevAPI
import HTTPTestSupport
import Logging
import Synchronization

let testToken = "tok-e2e-5ecret-9f2c"

/// Collects every log record, message and metadata rendered as text.
final class CapturingLogHandler: LogHandler, Sendable {
    let lines = Mutex<[String]>([])
    var metadata: Logger.Metadata {
        get { [:] }
        set {}
    }
    var logLevel: Logger.Level {
        get { .trace }
        set {}
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { nil }
        set {}
    }

    func log(event: LogEvent) {
        lines.withLock { $0.append("\(event.level) \(event.message) \(event.metadata ?? [:])") }
    }
}

func makeClient(
    _ server: TestHTTPServer,
    maxAttempts: Int = 4,
    timeouts: DevRevConfiguration.Timeouts = .init(connect: .seconds(2), attempt: .seconds(5), total: .seconds(20)),
    handler: CapturingLogHandler? = nil,
    baseURL: String? = nil
) throws -> DevRevClient {
    let configuration = DevRevConfiguration(
        baseURL: try BaseURL(baseURL ?? server.baseURL),
        token: try DevRevToken(testToken),
        userAgent: "runbook-tests/1",
        timeouts: timeouts,
        retry: .init(maxAttempts: maxAttempts, initialBackoff: .milliseconds(10), maxBackoff: .milliseconds(40))
    )
    var logger = Logger(label: "test")
    if let handler {
        logger = Logger(label: "test", factory: { _ in handler })
        logger.logLevel = .trace
    }
    return DevRevClient(configuration: configuration, logger: logger)
}

/// Runs `body` with a server and a client, shutting both down afterwards.
func withServer<T>(
    maxAttempts: Int = 4,
    timeouts: DevRevConfiguration.Timeouts = .init(connect: .seconds(2), attempt: .seconds(5), total: .seconds(20)),
    handler: CapturingLogHandler? = nil,
    _ responder: @escaping TestHTTPServer.Responder,
    _ body: (DevRevClient, TestHTTPServer) async throws -> T
) async throws -> T {
    let server = try await TestHTTPServer(responder)
    let client = try makeClient(server, maxAttempts: maxAttempts, timeouts: timeouts, handler: handler)
    do {
        let result = try await body(client, server)
        try await client.shutdown()
        try await server.shutdown()
        return result
    } catch {
        try? await client.shutdown()
        try? await server.shutdown()
        throw error
    }
}

let incidentJSON = """
    {"incident": {"id": "don:core:dvrv-us-1:devo/1:incident/42", "display_id": "INC-42", "title": "Disk full",
      "severity": {"id": 2, "label": "Sev1", "ordinal": 1}, "owned_by": [{"type": "dev_user", "id": "don:identity:dvrv-us-1:devo/1:devu/7",
      "display_id": "DEVU-7", "display_name": "ana", "state": "active", "brand_new_field": true}],
      "stage": {"stage": {"id": "don:core:dvrv-us-1:devo/1:custom_stage/3", "name": "acknowledged"}},
      "modified_date": "2026-11-26T10:00:00.000Z", "field_from_the_future": {"x": 1}}}
    """

/// Waits for the expected error and returns it.
func expectDevRevError(_ body: () async throws(DevRevError) -> Void) async -> DevRevError? {
    do {
        try await body()
        return nil
    } catch {
        return error
    }
}
