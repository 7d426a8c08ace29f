@testable import DevRevAPI
import HTTPTestSupport
import Foundation
import Testing

@Suite("Client errors")
struct ClientErrorTests {
    private func failure(
        _ response: TestHTTPServer.Response, operation: (DevRevClient) async throws(DevRevError) -> Void = { client throws(DevRevError) in
            _ = try await client.getIncident(id: "INC-42")
        }
    ) async throws -> DevRevError? {
        // Generous deadlines: what ends these calls is the answer, even on a machine busy with other tests.
        try await withServer(maxAttempts: 1, timeouts: .init(connect: .seconds(10), attempt: .seconds(60), total: .seconds(120)),
                             { _, _ in response }) { client, _ in
            await expectDevRevError { () throws(DevRevError) in try await operation(client) }
        }
    }

    /// A server that echoes the token, in an error body, a header or an answer, never puts it in
    /// front of the caller: every body is redacted before anything reads it.
    @Test func aTokenEchoedByTheServerIsRedacted() async throws {
        let echo = #"{"type":"bad_request","message":"bad token \#(testToken)","detail":"token=\#(testToken)","field_name":"\#(testToken)"}"#
        let error = try #require(try await failure(.json(400, echo, headers: [("X-Request-Id", "req-\(testToken)")])))
        let texts = [error.message, error.detail ?? "", error.fieldName ?? "", error.requestID ?? "", error.description]
        #expect(texts.allSatisfy { !$0.contains(testToken) }, "\(texts)")
        #expect(error.message == "bad token ***")
        let answer = try await withServer(maxAttempts: 1, { _, _ in
            .json(200, #"{"incident":{"id":"don:x","display_id":"INC-1","title":"\#(testToken) and \#(testToken)"}}"#)
        }) { client, _ in try await client.send(.getIncident, body: Array(#"{"id":"INC-1"}"#.utf8)) }
        let body = String(decoding: answer.body, as: UTF8.self)
        #expect(!body.contains(testToken))
        #expect(body.contains(#""title":"*** and ***""#))
    }

    /// A head and then silence (or a trickle) used to hold a call forever: the attempt's timeout
    /// now covers the body. Bounded: the test gives up on the call after 20 s.
    @Test func aBodyThatStallsAfterTheHeadTimesOut() async throws {
        let error = try await withServer(
            maxAttempts: 1, timeouts: .init(connect: .seconds(2), attempt: .seconds(1), total: .seconds(2)),
            { _, _ in .stall(status: 200, body: #"{"incident":{"#) }
        ) { client, _ in
            try await withThrowingTaskGroup(of: DevRevError??.self) { group in
                group.addTask { await expectDevRevError { () throws(DevRevError) in _ = try await client.getIncident(id: "INC-1") } }
                group.addTask {
                    try await Task.sleep(for: .seconds(20))
                    return .some(nil)
                }
                defer { group.cancelAll() }
                return try await group.next() ?? nil
            }
        }
        let failure = try #require(error ?? nil, "the call was still waiting after 20 s")
        #expect(failure.kind == .timeout)
        #expect(failure.message.contains("no complete response within"))
    }

    @Test func redactionReplacesEveryOccurrenceAndLeavesOtherBytesAlone() {
        let token = "tok-5ecret"
        #expect(DevRevClient.redacting(token, in: Array("tok-5ecret-tok-5ecret.xtok-5ecretx".utf8)) == Array("***-***.x***x".utf8))
        #expect(DevRevClient.redacting(token, in: Array("tok-5ecre".utf8)) == Array("tok-5ecre".utf8))
        #expect(DevRevClient.redacting(token, in: Array("tok-5ecrettok-5ecre".utf8)) == Array("***tok-5ecre".utf8))
        #expect(DevRevClient.redacting(token, in: Array("none here".utf8)) == Array("none here".utf8))
        #expect(DevRevClient.redacting("t", in: Array(#"{"title":"t"}"#.utf8)) == Array(#"{"title":"t"}"#.utf8), "too short to search for")
    }

    @Test(arguments: [
        (400, #"{"type":"invalid_field","message":"unknown field","detail":"d","field_name":"titel"}"#, DevRevErrorType.invalidField),
        (400, #"{"type":"missing_required_field","message":"id is required","field_name":"id"}"#, .missingRequiredField),
        (400, #"{"type":"bad_request","message":"bad"}"#, .badRequest),
        (400, #"{"type":"parse_error","message":"bad json"}"#, .parseError),
        (400, #"{"type":"unexpected_json_type","message":"severity must be an integer","field_name":"severity"}"#, .unexpectedJSONType),
        (401, #"{"type":"unauthenticated","message":"invalid token"}"#, .unauthenticated),
        (403, #"{"type":"forbidden","message":"no access"}"#, .forbidden),
        (404, #"{"type":"not_found","message":"incident INC-42 does not exist"}"#, .notFound),
        (409, #"{"type":"conflict","message":"already exists"}"#, .conflict),
        (500, #"{"type":"internal_error","message":"oops","reference_id":"ref-77"}"#, .internalError),
        (503, #"{"type":"service_unavailable","message":"down"}"#, .serviceUnavailable),
        (400, #"{"type":"some_new_error","message":"new"}"#, .unknown("some_new_error")),
        (404, #"{"message":"route not found"}"#, .notFound),
    ])
    func everyErrorStatusWithDevRevsBodyShape(status: Int, body: String, type: DevRevErrorType) async throws {
        let error = try #require(try await failure(.json(status, body, headers: [("X-Request-Id", "req-1")])))
        #expect(error.kind == .http)
        #expect(error.status == status)
        #expect(error.type == type)
        #expect(error.requestID == "req-1")
        #expect(!error.message.isEmpty)
        if body.contains("field_name") { #expect(error.fieldName != nil) }
        if body.contains("reference_id") { #expect(error.referenceID == "ref-77") }
    }

    @Test func tooManyRequestsCarriesRetryAfter() async throws {
        let error = try #require(
            try await failure(.json(429, #"{"type":"too_many_requests","message":"slow down","retry_after":7}"#, headers: [("Retry-After", "3")])))
        #expect(error.isRateLimited)
        #expect(error.retryAfter == .seconds(7))
    }

    @Test func artifactAlreadyAttachedCarriesItsFields() async throws {
        let error = try #require(try await failure(.json(
            400, #"{"type":"artifact_already_attached_to_a_parent","message":"m","existing_parent":"don:p","is_same":true}"#)))
        #expect(error.type == .artifactAlreadyAttachedToAParent)
        #expect(error.existingParent == "don:p")
        #expect(error.isSame == true)
    }

    @Test func movedSurfacesTheNewID() async throws {
        let error = try #require(try await failure(.reply(status: 301, headers: [("Location", "/incidents/INC-99")], body: "")))
        #expect(error.kind == .moved)
        #expect(error.movedTo == "INC-99")
        #expect(error.description.contains("new id INC-99"))
    }

    @Test func anHTMLErrorPageGivesAShortSanitizedExcerpt() async throws {
        let page = "<html>\n<body>\u{1B}[31m<h1>502 Bad Gateway</h1>\n\n" + String(repeating: "x", count: 1000) + "</body></html>"
        let error = try #require(try await failure(.reply(status: 502, headers: [("Content-Type", "text/html")], body: page)))
        #expect(error.status == 502)
        #expect(error.type == nil)
        let excerpt = try #require(error.bodyExcerpt)
        #expect(excerpt.hasPrefix("<html> <body> [31m<h1>502 Bad Gateway</h1>"))
        #expect(excerpt.count <= 201)
        #expect(!excerpt.contains("\u{1B}"))
        #expect(error.isUnavailable)
    }

    @Test func malformedJSONOnSuccessIsAClearError() async throws {
        let error = try #require(try await failure(.json(200, #"{"incident": {"id": 42, "#)))
        #expect(error.kind == .malformedResponse)
        #expect(error.message.contains("not the JSON the schema describes"))
        let wrongType = try #require(try await failure(.json(200, #"{"incident": {"id": "x", "severity": "sev1"}}"#)))
        #expect(wrongType.kind == .malformedResponse)
        #expect(wrongType.message.contains("incident.severity"))
    }

    @Test func aTruncatedBodyIsAClearError() async throws {
        let error = try #require(try await failure(.truncated(status: 200, body: #"{"incident": {"id""#)))
        #expect(error.kind == .connectionReset || error.kind == .transport, "\(error)")
    }

    @Test func aDroppedConnectionIsAClearError() async throws {
        let error = try #require(try await failure(.drop))
        #expect(error.kind == .connectionReset || error.kind == .transport, "\(error)")
        #expect(error.isUnavailable)
    }

    @Test func aServerThatNeverAnswersHitsThePerAttemptTimeout() async throws {
        let clock = ContinuousClock()
        let start = clock.now
        let error = try await withServer(
            // The total is far past two attempts: a loaded CI run once saw the first attempt's
            // timeout fire so late that the total left no room for the second.
            maxAttempts: 2, timeouts: .init(connect: .seconds(2), attempt: .milliseconds(300), total: .seconds(60)),
            { _, _ in .silence }
        ) { client, server in
            let error = await expectDevRevError { () throws(DevRevError) in _ = try await client.getIncident(id: "INC-1") }
            // The client made two attempts (below); on a machine busy with other tests the second
            // can time out before the server has read it, so only the first is sure to arrive.
            #expect(server.requests.count >= 1)
            return error
        }
        #expect(error?.kind == .timeout)
        #expect(error?.attempts == 2)
        #expect(clock.now - start >= .milliseconds(600))
    }

    @Test func aRefusedConnectionIsItsOwnCase() async throws {
        let server = try await TestHTTPServer { _, _ in .json(200, "{}") }
        let url = server.baseURL
        try await server.shutdown()
        let client = try makeClient(server, maxAttempts: 2, baseURL: url)
        let error = await expectDevRevError { () throws(DevRevError) in _ = try await client.getIncident(id: "INC-1") }
        // A refused connection never reached the server: even a create is retried.
        let create = await expectDevRevError { () throws(DevRevError) in
            _ = try await client.createIncident(IncidentsCreateRequest(title: "x"))
        }
        try await client.shutdown()
        #expect(error?.kind == .connectionRefused, "\(String(describing: error))")
        #expect(error?.attempts == 2)
        #expect(error?.isUnavailable == true)
        #expect(create?.kind == .connectionRefused)
        #expect(create?.attempts == 2)
    }

    /// The connection pool does not retry a refused connection inside an attempt until the
    /// connect timeout: with a connect timeout longer than the call's whole deadline, every
    /// attempt still ends refused, and the call ends after its attempts, not at its deadline.
    @Test func aRefusedConnectionFailsItsAttemptAtOnceLeavingRetriesToThePolicy() async throws {
        let server = try await TestHTTPServer { _, _ in .json(200, "{}") }
        let url = server.baseURL
        try await server.shutdown()
        let client = try makeClient(
            server, maxAttempts: 3, timeouts: .init(connect: .seconds(600), attempt: .seconds(600), total: .seconds(30)), baseURL: url)
        let error = await expectDevRevError { () throws(DevRevError) in _ = try await client.getIncident(id: "INC-1") }
        try await client.shutdown()
        #expect(error?.kind == .connectionRefused, "\(String(describing: error))")
        #expect(error?.attempts == 3)
    }
}

@Suite("Request size")
struct RequestSizeTests {
    @Test func aBodyLargerThanRunbookSendsIsRefusedBeforeAnyRequest() async throws {
        try await withServer({ _, _ in .json(200, "{}") }) { client, server in
            let body = Array(#"{"id":"INC-1","body":""#.utf8) + Array(repeating: UInt8(ascii: "x"), count: DevRevClient.maximumRequestBodySize) + Array(#""}"#.utf8)
            let error = try await #require(throws: DevRevError.self) { try await client.send(.updateIncident, body: body) }
            #expect(error.kind == .invalidRequest)
            #expect(error.neverSent)
            #expect(error.message.contains("runbook sends at most 1048576 bytes"))
            #expect(server.requests.isEmpty)
        }
    }
}

@Suite("Cancelled calls")
struct CancelledCallTests {
    @Test func aCancelledCallIsNotRetriedAndStartsNoFurtherRequest() async throws {
        let handler = CapturingLogHandler()
        try await withServer(maxAttempts: 4, handler: handler, { _, _ in .silence }) { client, server in
            let call = Task { () -> DevRevError? in
                do throws(DevRevError) {
                    _ = try await client.send(.listIncidents, body: Array(#"{"limit":1}"#.utf8))
                    return nil
                } catch {
                    return error
                }
            }
            // The first request is on the server, unanswered: cancel the call (a read-ahead page
            // the script will never read).
            while server.requests.isEmpty { try await Task.sleep(for: .milliseconds(5)) }
            call.cancel()
            let error = await call.value
            #expect(error?.kind == .cancelled, "\(String(describing: error))")
            try await Task.sleep(for: .milliseconds(200))
            #expect(server.requests.count == 1, "no retry after a cancellation")
            #expect(!handler.lines.withLock { $0 }.contains { $0.contains("retrying") })
        }
    }

    @Test func aCallCancelledBeforeItStartsSendsNothing() async throws {
        try await withServer({ _, _ in .json(200, #"{"incidents":[]}"#) }) { client, server in
            let call = Task { () -> DevRevError? in
                withUnsafeCurrentTask { $0?.cancel() }
                do throws(DevRevError) {
                    _ = try await client.send(.listIncidents, body: Array(#"{"limit":1}"#.utf8))
                    return nil
                } catch {
                    return error
                }
            }
            #expect(await call.value?.kind == .cancelled)
            #expect(server.requests.isEmpty)
        }
    }
}
