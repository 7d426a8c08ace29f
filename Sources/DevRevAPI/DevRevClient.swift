import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// A client for DevRev's incidents API. Knows nothing about Lua; usable as a library on its own.
///
/// One client holds one connection pool: make one per run and call `shutdown()` when done.
/// Every call is bounded by the configured per-attempt and total timeouts, retried by the rules in
/// docs/client.md, and fails with a `DevRevError`.
public final class DevRevClient: Sendable {
    public let configuration: DevRevConfiguration
    let http: HTTPClient
    let logger: Logger
    let gate = RateLimitGate()
    /// The event loop this client's requests prefer to run on: a task started on it
    /// (`Task(executorPreference:)`) sends, reads and resumes there, and the connection pool
    /// keeps its connections there (a request made on a loop of the pool's group prefers it).
    public let taskExecutor: EventLoopTaskExecutor

    /// Largest response body accepted.
    static let maximumBodySize = 32 * 1024 * 1024
    /// The largest request body sent (1 MiB). DevRev publishes no limit; an incident or comment
    /// near this size is a script's mistake (a loop that concatenates), not an operator's text.
    public static let maximumRequestBodySize = 1024 * 1024

    public init(configuration: DevRevConfiguration, logger: Logger = Logger(label: "runbook.devrev")) {
        self.configuration = configuration
        self.logger = logger
        var http = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            // read: no byte for an attempt's whole timeout ends the request, the body included (a
            // server that sends the head and then stalls); a trickle is stopped by `collectBody`.
            timeout: HTTPClient.Configuration.Timeout(
                connect: TimeAmount(configuration.timeouts.connect), read: TimeAmount(configuration.timeouts.attempt)),
            connectionPool: .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 32)
        )
        http.decompression = .disabled
        // A connection that cannot be made fails the attempt at once: the client's own retries
        // (backoff, attempt count, deadline, a log line each) are the only ones. Left on, the pool
        // retried a refused connection for the whole connect timeout inside every attempt: a
        // DevRev nobody answers took 25 s to report instead of the backoff's few.
        http.connectionPool.retryConnectionEstablishment = false
        self.http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: http)
        self.taskExecutor = EventLoopTaskExecutor(self.http.eventLoopGroup.next())
    }

    /// Closes the connection pool. Call once, when the client is no longer needed.
    public func shutdown() async throws {
        try await http.shutdown()
    }

    /// How long calls have waited for DevRev's rate limit so far.
    public var rateLimitWait: Duration {
        get async { await gate.waited }
    }

    // MARK: operations

    public func createIncident(_ request: IncidentsCreateRequest) async throws(DevRevError) -> Incident {
        let response: IncidentsCreateResponse = try await call(.createIncident, request)
        return try Self.require(response.incident, operation: .createIncident)
    }

    public func getIncident(id: String) async throws(DevRevError) -> Incident {
        let response: IncidentsGetResponse = try await call(.getIncident, IncidentsGetRequest(id: id))
        return try Self.require(response.incident, operation: .getIncident)
    }

    public func updateIncident(_ request: IncidentsUpdateRequest) async throws(DevRevError) -> Incident {
        let response: IncidentsUpdateResponse = try await call(.updateIncident, request)
        return try Self.require(response.incident, operation: .updateIncident)
    }

    public func deleteIncident(id: String) async throws(DevRevError) {
        let _: IncidentsDeleteResponse = try await call(.deleteIncident, IncidentsDeleteRequest(id: id))
    }

    /// One page of incidents.
    public func listIncidents(_ request: IncidentsListRequest) async throws(DevRevError) -> IncidentsListResponse {
        try await call(.listIncidents, request)
    }

    /// One page of groups.
    public func groupIncidents(_ request: IncidentsGroupRequest) async throws(DevRevError) -> IncidentsGroupResponse {
        try await call(.groupIncidents, request)
    }

    /// Every incident matching `request`, page after page (`next_cursor`), fetched as iterated.
    public func incidents(matching request: IncidentsListRequest) -> CursorSequence<Incident> {
        CursorSequence(operation: .listIncidents, startCursor: request.cursor) { cursor throws(DevRevError) in
            var page = request
            page.cursor = cursor
            let response = try await self.listIncidents(page)
            return (response.incidents ?? [], response.nextCursor)
        }
    }

    /// Every group for `request`, page after page.
    public func incidentGroups(_ request: IncidentsGroupRequest) -> CursorSequence<IncidentsGroup> {
        CursorSequence(operation: .groupIncidents, startCursor: request.cursor) { cursor throws(DevRevError) in
            var page = request
            page.cursor = cursor
            let response = try await self.groupIncidents(page)
            return (response.groups ?? [], response.nextCursor)
        }
    }

    private static func require(_ incident: Incident?, operation: DevRevOperation) throws(DevRevError) -> Incident {
        guard let incident else {
            throw DevRevError(kind: .malformedResponse, operation: operation.name, status: 200, message: "the response has no incident")
        }
        return incident
    }

    // MARK: the wire

    /// Sends `body` to `operation` and decodes the response, with retries.
    public func call<Body: Encodable, Response: Decodable>(
        _ operation: DevRevOperation, _ body: Body, deadline: ContinuousClock.Instant? = nil
    ) async throws(DevRevError) -> Response {
        let bytes: [UInt8]
        do {
            bytes = try JSONWriter.encode(body)
        } catch {
            throw DevRevError(kind: .invalidRequest, operation: operation.name, message: "cannot encode the request: \(error)")
        }
        let exchange = try await send(operation, body: bytes, deadline: deadline)
        do {
            return try JSONDecoder().decode(Response.self, from: Data(exchange.body))
        } catch {
            var failure = DevRevError(
                kind: .malformedResponse, operation: operation.name, status: exchange.status,
                message: "the response body is not the JSON the schema describes: \(DecodingErrorText.describe(error))",
                attempts: exchange.attempts)
            failure.requestID = exchange.requestID
            failure.bodyExcerpt = Self.excerpt(exchange.body, redacting: configuration.token.value)
            throw failure
        }
    }

    /// A successful exchange: status 2xx and the body.
    public struct Exchange: Sendable {
        public var status: Int
        public var body: [UInt8]
        public var requestID: String?
        public var attempts: Int
    }

    /// Why a body of `size` bytes is not sent.
    public static func oversizedRequestMessage(_ size: Int) -> String {
        "the request body is \(size) bytes; runbook sends at most \(maximumRequestBodySize) bytes (1 MiB)"
    }

    /// Sends raw JSON bytes to `operation`, with retries; returns the 2xx response. `deadline`
    /// shortens the call's total timeout (a script's own deadline, say).
    public func send(_ operation: DevRevOperation, body: [UInt8], deadline callDeadline: ContinuousClock.Instant? = nil)
        async throws(DevRevError) -> Exchange
    {
        guard body.count <= Self.maximumRequestBodySize else {
            var error = DevRevError(kind: .invalidRequest, operation: operation.name, message: Self.oversizedRequestMessage(body.count), attempts: 0)
            error.neverSent = true
            throw error
        }
        let clock = ContinuousClock()
        let deadline = min(clock.now + configuration.timeouts.total, callDeadline ?? .now + configuration.timeouts.total)
        var attempt = 0
        var lastError: DevRevError?
        while true {
            attempt += 1
            let logger = self.logger
            let waiting: @Sendable (Duration) -> Void = { wait in
                // Pacing spreads requests by milliseconds; a wait worth saying lasts a second or more.
                guard wait >= .seconds(1) else { return }
                logger.info("waiting for DevRev's rate limit", metadata: ["operation": "\(operation)", "wait": "\(Self.seconds(wait))"])
            }
            guard await gate.waitForTurn(deadline: deadline, willWait: waiting) else {
                throw Self.givingUp(
                    lastError, operation: operation, attempts: attempt - 1, kind: .rateLimited,
                    reason: "DevRev's rate limit allows no request before the call's deadline")
            }
            // A cancelled call starts no attempt: it would not be waited for, and a request
            // begun and abandoned reaches the server as headers without their body.
            if Task.isCancelled {
                await gate.finished(limit: nil, remaining: nil, resetEpochSeconds: nil, nowEpochSeconds: 0)
                throw Self.cancelled(operation, attempts: attempt - 1, after: lastError)
            }
            let remaining = deadline - clock.now
            guard remaining > .zero else {
                await gate.finished(limit: nil, remaining: nil, resetEpochSeconds: nil, nowEpochSeconds: 0)
                throw Self.givingUp(lastError, operation: operation, attempts: attempt - 1, reason: "the call's total deadline passed")
            }
            let outcome = await attemptOnce(operation, body: body, attempt: attempt, timeout: min(configuration.timeouts.attempt, remaining))
            var failure: DevRevError
            switch outcome {
            case .success(let exchange):
                return Exchange(status: exchange.status, body: exchange.body, requestID: exchange.requestID, attempts: attempt)
            case .failure(let error):
                failure = error
            }
            failure.attempts = attempt
            lastError = failure
            // The attempt failed because the call was cancelled (or the call was cancelled while
            // it failed): that is no outage to retry.
            if Task.isCancelled { throw Self.cancelled(operation, attempts: attempt, after: failure) }

            let delay = retryDelay(for: failure, operation: operation, attempt: attempt)
            if failure.status == 429, let delay {
                // Every later call of this client waits too, whether or not this one retries.
                await gate.pause(for: delay)
            }
            guard let wait = delay else { throw failure }
            guard attempt < configuration.retry.maxAttempts else { throw failure }
            guard clock.now + wait < deadline else { throw failure }
            logger.info("retrying", metadata: [
                "operation": "\(operation)", "after": "\(failure.typeName)\(failure.status.map { " (\($0))" } ?? "")",
                "attempt": "\(attempt + 1) of \(configuration.retry.maxAttempts)", "wait": "\(Self.seconds(wait))",
            ])
            if failure.status != 429 {
                try? await clock.sleep(for: wait)
            }
        }
    }

    static func cancelled(_ operation: DevRevOperation, attempts: Int, after error: DevRevError?) -> DevRevError {
        var failure = DevRevError(kind: .cancelled, operation: operation.name, message: "the call was cancelled", attempts: attempts)
        failure.requestID = error?.requestID
        return failure
    }

    /// `1.5s`, for log lines.
    static func seconds(_ duration: Duration) -> String {
        let milliseconds = duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
        return milliseconds % 1000 == 0 ? "\(milliseconds / 1000)s" : "\(Double(milliseconds) / 1000)s"
    }

    /// The body of a response did not arrive within the attempt's timeout.
    struct BodyTimeout: Error {}

    /// The body of a response is larger than `maximumBodySize`.
    struct BodyTooLarge: Error {}

    /// The body, chunk by chunk: past `deadline` with bytes still to come, the request ends with
    /// `BodyTimeout` (a server that trickles its answer). A body that stalls entirely is ended by
    /// the client's read timeout. Checked as each chunk arrives, never by a timer racing the data,
    /// so an answer that has arrived is never refused because its task ran late.
    static func collectBody(_ body: HTTPClientResponse.Body, expected: Int?, until deadline: ContinuousClock.Instant) async throws -> ByteBuffer {
        var collected = ByteBuffer()
        for try await chunk in body {
            let size: Int = collected.readableBytes + chunk.readableBytes
            if size > maximumBodySize { throw BodyTooLarge() }
            var part: ByteBuffer = chunk
            collected.writeBuffer(&part)
            var incomplete = true
            if let expected { incomplete = size < expected }
            if incomplete, ContinuousClock.now > deadline { throw BodyTimeout() }
        }
        return collected
    }

    /// The error of a call that stops before another attempt: the last attempt's, else (nothing
    /// was sent) one of `kind` saying why, marked as never sent.
    private static func givingUp(
        _ last: DevRevError?, operation: DevRevOperation, attempts: Int, kind: DevRevError.Kind = .timeout, reason: String
    ) -> DevRevError {
        if var last {
            last.attempts = max(attempts, 1)
            return last
        }
        var failure = DevRevError(kind: kind, operation: operation.name, message: reason, attempts: 0)
        failure.neverSent = true
        return failure
    }

    /// How long to wait before retrying after `error`, or nil when it must not be retried.
    func retryDelay(for error: DevRevError, operation: DevRevOperation, attempt: Int) -> Duration? {
        switch error.kind {
        case .http:
            switch error.status ?? 0 {
            case 429:
                if let hint = error.retryAfter { return hint }
                return backoff(attempt: attempt)
            case 500:
                return operation.isIdempotent ? backoff(attempt: attempt) : nil
            case 502, 503, 504:
                return operation.isIdempotent ? backoff(attempt: attempt) : nil
            default:
                return nil
            }
        case .connectionRefused, .connectionReset, .timeout, .transport:
            return operation.isIdempotent || error.neverSent ? backoff(attempt: attempt) : nil
        case .tls, .moved, .malformedResponse, .repeatedCursor, .tooManyPages, .invalidRequest, .rateLimited, .cancelled:
            return nil
        }
    }

    /// Exponential backoff with full jitter: a random wait up to initial * 2^(attempt-1), capped.
    func backoff(attempt: Int) -> Duration {
        let policy = configuration.retry
        let ceiling = min(policy.maxBackoff, policy.initialBackoff * (1 << min(attempt - 1, 20)))
        return ceiling * Double.random(in: 0...1)
    }

    private struct RawExchange: Sendable {
        var status: Int
        var body: [UInt8]
        var requestID: String?
    }

    private func attemptOnce(_ operation: DevRevOperation, body: [UInt8], attempt: Int, timeout: Duration) async -> Result<RawExchange, DevRevError> {
        var request = HTTPClientRequest(url: configuration.baseURL.url(for: operation.name))
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer \(configuration.token.value)")
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Accept", value: "application/json")
        request.headers.add(name: "User-Agent", value: configuration.userAgent)
        if let scope = configuration.scope { request.headers.add(name: "X-Devrev-Scope", value: scope) }
        if let version = configuration.apiVersion { request.headers.add(name: "X-Devrev-Version", value: version) }
        request.body = .bytes(ByteBuffer(bytes: body))

        let clock = ContinuousClock()
        let start = clock.now
        logger.debug("request", metadata: ["method": "POST", "path": "/\(operation.name)", "attempt": "\(attempt)"])
        if logger.logLevel <= .trace {
            logger.trace("request body", metadata: ["body": "\(Self.excerpt(body, redacting: configuration.token.value, limit: 4096))"])
        }
        do {
            // The attempt's timeout covers the whole response, its body included: a server that sends
            // the head and then stalls (or trickles) must not hold the call past it.
            let response = try await http.execute(request, timeout: TimeAmount(timeout))
            let length: String? = response.headers.first(name: "content-length")
            let expected: Int? = length.flatMap { Int($0) }
            let buffer = try await Self.collectBody(response.body, expected: expected, until: start + timeout)
            let bytes = Self.redacting(configuration.token.value, in: Array(buffer.readableBytesView))
            let status = Int(response.status.code)
            let requestID = (response.headers.first(name: "x-request-id") ?? response.headers.first(name: "x-devrev-request-id"))
                .map { Self.redacting(configuration.token.value, in: $0) }
            await observeRateLimit(response.headers)
            logger.debug(
                "response",
                metadata: [
                    "method": "POST", "path": "/\(operation.name)", "status": "\(status)", "attempt": "\(attempt)",
                    "duration": "\(clock.now - start)", "request_id": "\(requestID ?? "-")",
                ])
            if logger.logLevel <= .trace {
                logger.trace("response body", metadata: ["body": "\(Self.excerpt(bytes, redacting: configuration.token.value, limit: 4096))"])
            }
            if (200..<300).contains(status) {
                return .success(RawExchange(status: status, body: bytes, requestID: requestID))
            }
            return .failure(httpError(operation: operation, status: status, headers: response.headers, body: bytes, requestID: requestID))
        } catch {
            await gate.finished(limit: nil, remaining: nil, resetEpochSeconds: nil, nowEpochSeconds: 0)
            let failure = transportError(error, operation: operation, timeout: timeout)
            logger.debug(
                "transport failure",
                metadata: ["method": "POST", "path": "/\(operation.name)", "attempt": "\(attempt)", "duration": "\(clock.now - start)", "error": "\(failure.kind)"])
            return .failure(failure)
        }
    }

    private func observeRateLimit(_ headers: HTTPHeaders) async {
        let limit = headers.first(name: "x-ratelimit-limit").flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        let remaining = headers.first(name: "x-ratelimit-remaining").flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        let reset = headers.first(name: "x-ratelimit-reset").flatMap { Int64($0.trimmingCharacters(in: .whitespaces)) }
        await gate.finished(limit: limit, remaining: remaining, resetEpochSeconds: reset, nowEpochSeconds: Int64(Date().timeIntervalSince1970))
    }
}
