@testable import DevRevAPI
import HTTPTestSupport
import Foundation
import Testing

@Suite("Client retries and pacing")
struct ClientRetryTests {
    @Test func aTooManyRequestsThenSuccessWaitsAtLeastTheHint() async throws {
        let requests = try await withServer({ _, index in
            index == 0
                ? .json(429, #"{"type":"too_many_requests","message":"slow down","retry_after":1}"#, headers: [("Retry-After", "1")])
                : .json(200, incidentJSON)
        }) { client, server in
            _ = try await client.getIncident(id: "INC-42")
            return server.requests
        }
        #expect(requests.count == 2)
        #expect(requests[1].receivedAt - requests[0].receivedAt >= .seconds(1))
    }

    @Test func theBodysRetryAfterIsHonouredWhenLongerThanTheHeader() async throws {
        let requests = try await withServer({ _, index in
            index == 0
                ? .json(429, #"{"type":"too_many_requests","message":"slow down","retry_after":2}"#, headers: [("Retry-After", "1")])
                : .json(200, incidentJSON)
        }) { client, server in
            _ = try await client.getIncident(id: "INC-42")
            return server.requests
        }
        #expect(requests[1].receivedAt - requests[0].receivedAt >= .seconds(2))
    }

    @Test func serviceUnavailableThreeTimesThenSuccess() async throws {
        let requests = try await withServer(maxAttempts: 5, { _, index in
            index < 3 ? .json(503, #"{"type":"service_unavailable","message":"down"}"#) : .json(200, incidentJSON)
        }) { client, server in
            let incident = try await client.updateIncident(IncidentsUpdateRequest(id: "INC-42", severity: 1))
            #expect(incident.displayId == "INC-42")
            return server.requests
        }
        #expect(requests.count == 4)
        #expect(Set(requests.map(\.bodyText)).count == 1, "every attempt sends the same body")
    }

    @Test func internalErrorOnCreateIsNotRetried() async throws {
        let (error, count) = try await withServer(maxAttempts: 5, { _, _ in
            .json(500, #"{"type":"internal_error","message":"oops","reference_id":"ref-1"}"#)
        }) { client, server in
            let error = await expectDevRevError { () throws(DevRevError) in
                _ = try await client.createIncident(IncidentsCreateRequest(title: "x"))
            }
            return (error, server.requests.count)
        }
        #expect(count == 1)
        #expect(error?.status == 500)
        #expect(error?.referenceID == "ref-1")
        #expect(error?.attempts == 1)
    }

    @Test(arguments: [500, 502, 503, 504])
    func serverErrorsOnCreateAreNotRetriedButOnUpdateAre(status: Int) async throws {
        let counts = try await withServer(maxAttempts: 3, { _, _ in .json(status, #"{"message":"x"}"#) }) { client, server in
            _ = await expectDevRevError { () throws(DevRevError) in _ = try await client.createIncident(IncidentsCreateRequest(title: "x")) }
            let afterCreate = server.requests.count
            _ = await expectDevRevError { () throws(DevRevError) in
                _ = try await client.updateIncident(IncidentsUpdateRequest(id: "INC-1", title: "x"))
            }
            return (afterCreate, server.requests.count - afterCreate)
        }
        #expect(counts.0 == 1)
        #expect(counts.1 == 3)
    }

    @Test func createIsRetriedOnTooManyRequests() async throws {
        let count = try await withServer({ _, index in
            index == 0 ? .json(429, #"{"message":"slow","retry_after":0}"#, headers: [("Retry-After", "0")]) : .json(201, incidentJSON)
        }) { client, server in
            _ = try await client.createIncident(IncidentsCreateRequest(title: "x"))
            return server.requests.count
        }
        #expect(count == 2)
    }

    @Test func theAttemptCapEndsTheSequenceAndTheErrorCountsAttempts() async throws {
        let (error, count) = try await withServer(maxAttempts: 3, { _, _ in .json(503, #"{"type":"service_unavailable","message":"down"}"#) }) {
            client, server in
            let error = await expectDevRevError { () throws(DevRevError) in _ = try await client.getIncident(id: "INC-1") }
            return (error, server.requests.count)
        }
        #expect(count == 3)
        #expect(error?.attempts == 3)
        #expect(error?.description.contains("after 3 attempts") == true)
    }

    @Test func theTotalDeadlineEndsTheSequence() async throws {
        let error = try await withServer(
            // The first answer has seconds to arrive on a loaded machine; the wait it asks for ends
            // far past the total deadline.
            maxAttempts: 100, timeouts: .init(connect: .seconds(3), attempt: .seconds(3), total: .seconds(3)),
            { _, _ in .json(429, #"{"message":"slow","retry_after":30}"#, headers: [("Retry-After", "30")]) }
        ) { client, server in
            let error = await expectDevRevError { () throws(DevRevError) in _ = try await client.getIncident(id: "INC-1") }
            #expect(server.requests.count == 1, "a wait past the deadline is not started")
            return error
        }
        #expect(error?.status == 429)
    }

    /// A 429 the call could not wait out (its Retry-After ends past the deadline) still holds
    /// back every later call of the client, in either form of the header and however large.
    @Test(arguments: ["30", "HTTP-DATE", "99999999999999999999999"])
    func aFinal429sRetryAfterHoldsBackTheNextCall(_ header: String) async throws {
        let value: String
        if header == "HTTP-DATE" {
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = TimeZone(identifier: "GMT")
            formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
            value = formatter.string(from: Date().addingTimeInterval(30))
        } else {
            value = header
        }
        let (first, second, count) = try await withServer(
            maxAttempts: 4, timeouts: .init(connect: .seconds(2), attempt: .seconds(3), total: .seconds(3)),
            { _, index in index == 0 ? .json(429, #"{"message":"slow down"}"#, headers: [("Retry-After", value)]) : .json(200, incidentJSON) }
        ) { client, server in
            let first = await expectDevRevError { () throws(DevRevError) in _ = try await client.getIncident(id: "INC-1") }
            let second = await expectDevRevError { () throws(DevRevError) in _ = try await client.getIncident(id: "INC-2") }
            return (first, second, server.requests.count)
        }
        #expect(first?.status == 429)
        #expect(second?.kind == .rateLimited, "the pause outlasts the second call's deadline: \(String(describing: second))")
        #expect(count == 1, "no request went out during the pause")
    }

    @Test func retryAfterIsReadInBothForms() {
        let now = Date(timeIntervalSince1970: 1_795_694_400)
        #expect(DevRevClient.retryAfter("120", now: now) == .seconds(120))
        #expect(DevRevClient.retryAfter(" 5 ", now: now) == .seconds(5))
        #expect(DevRevClient.retryAfter("Thu, 26 Nov 2026 12:00:30 GMT", now: now) == .seconds(30))
        #expect(DevRevClient.retryAfter("Thu, 26 Nov 2026 11:00:00 GMT", now: now) == .zero)
        #expect(DevRevClient.retryAfter("99999999999999999999999", now: now) == DevRevClient.longestRetryAfter)
        #expect(DevRevClient.retryAfter("soon", now: now) == nil)
        #expect(DevRevClient.retryAfter("-5", now: now) == nil)
    }

    @Test func anExhaustedQuotaWaitsForTheResetInsteadOfSpendingA429() async throws {
        let requests = try await withServer({ _, index in
            let reset = Int(Date().timeIntervalSince1970) + 2
            return .json(200, incidentJSON, headers: [
                ("X-Ratelimit-Limit", "100"), ("X-Ratelimit-Remaining", index == 0 ? "0" : "99"), ("X-Ratelimit-Reset", "\(reset)"),
            ])
        }) { client, server in
            _ = try await client.getIncident(id: "INC-1")
            _ = try await client.getIncident(id: "INC-2")
            return server.requests
        }
        #expect(requests.count == 2)
        #expect(requests[1].receivedAt - requests[0].receivedAt >= .seconds(1))
    }

    @Test func backoffIsFullJitterUnderAGrowingCap() throws {
        let client = DevRevClient(configuration: DevRevConfiguration(
            baseURL: try BaseURL("https://api.devrev.ai"), token: try DevRevToken("t"),
            retry: .init(maxAttempts: 5, initialBackoff: .milliseconds(100), maxBackoff: .milliseconds(300))))
        defer { try? client.http.syncShutdown() }
        for _ in 0..<200 {
            #expect(client.backoff(attempt: 1) <= .milliseconds(100))
            #expect(client.backoff(attempt: 2) <= .milliseconds(200))
            #expect(client.backoff(attempt: 6) <= .milliseconds(300))
        }
        let samples = (0..<200).map { _ in client.backoff(attempt: 3) }
        #expect(Set(samples).count > 100, "the waits are spread, not fixed")
    }
}

@Suite("Pagination")
struct PaginationTests {
    private static func page(_ ids: [String], next: String?) -> TestHTTPServer.Response {
        let items = ids.map { #"{"id": "\#($0)", "display_id": "\#($0)"}"# }.joined(separator: ",")
        let cursor = next.map { #", "next_cursor": "\#($0)""# } ?? ""
        return .json(200, #"{"incidents": [\#(items)]\#(cursor)}"#)
    }

    @Test func threePagesAreFollowedInOrder() async throws {
        let (ids, requests) = try await withServer({ request, _ in
            if request.bodyText.contains("\"cursor\":\"c2\"") { return Self.page(["INC-5"], next: nil) }
            if request.bodyText.contains("\"cursor\":\"c1\"") { return Self.page(["INC-3", "INC-4"], next: "c2") }
            return Self.page(["INC-1", "INC-2"], next: "c1")
        }) { client, server in
            var ids: [String] = []
            for try await incident in client.incidents(matching: IncidentsListRequest(limit: 2, severity: [1])) {
                ids.append(incident.displayId ?? "?")
            }
            return (ids, server.requests)
        }
        #expect(ids == ["INC-1", "INC-2", "INC-3", "INC-4", "INC-5"])
        #expect(requests.map(\.bodyText) == [
            #"{"limit":2,"severity":[1]}"#, #"{"cursor":"c1","limit":2,"severity":[1]}"#, #"{"cursor":"c2","limit":2,"severity":[1]}"#,
        ])
    }

    @Test func breakingEarlyFetchesNoMorePages() async throws {
        let count = try await withServer({ _, index in Self.page(["INC-\(index)"], next: "c\(index + 1)") }) { client, server in
            for try await _ in client.incidents(matching: IncidentsListRequest()) { break }
            return server.requests.count
        }
        #expect(count == 1)
    }

    @Test func anEmptyCursorEndsTheWalk() async throws {
        let ids = try await withServer({ _, _ in .json(200, #"{"incidents": [{"id": "a"}], "next_cursor": ""}"#) }) { client, _ in
            var ids: [String] = []
            for try await incident in client.incidents(matching: IncidentsListRequest()) { ids.append(incident.id ?? "") }
            return ids
        }
        #expect(ids == ["a"])
    }

    @Test func aRepeatedCursorFailsLoudly() async throws {
        let (error, count) = try await withServer({ _, index in Self.page(["INC-\(index)"], next: index == 0 ? "c1" : "c2") }) {
            client, server in
            var failure: DevRevError?
            do {
                for try await _ in client.incidents(matching: IncidentsListRequest()) {}
            } catch let error as DevRevError {
                failure = error
            }
            return (failure, server.requests.count)
        }
        #expect(error?.kind == .repeatedCursor)
        #expect(count == 3)
    }

    @Test func aWalkWhoseCursorsNeverEndStopsAtThePageCap() throws {
        var walk = CursorWalk(operation: "incidents.list")
        for page in 1..<CursorWalk.maximumPages { try walk.advance(to: "cursor-\(page)") }
        #expect(walk.pages == CursorWalk.maximumPages - 1 && !walk.finished)
        #expect(throws: DevRevError.self) { try walk.advance(to: "cursor-\(CursorWalk.maximumPages)") }
        #expect(walk.finished)
        do {
            var fresh = CursorWalk(operation: "incidents.list")
            for page in 1...CursorWalk.maximumPages { try fresh.advance(to: "c\(page)") }
        } catch {
            #expect(error.kind == .tooManyPages)
            #expect(error.typeName == "too_many_pages")
        }
    }

    @Test func groupsPaginateToo() async throws {
        let keys = try await withServer({ request, _ in
            request.bodyText.contains("\"cursor\"")
                ? .json(200, #"{"groups": [{"key": {"type": "string", "value": "2"}, "incidents": []}]}"#)
                : .json(200, #"{"groups": [{"key": {"type": "string", "value": "1"}, "incidents": [{"id": "a"}]}], "next_cursor": "g1"}"#)
        }) { client, _ in
            var count = 0
            for try await _ in client.incidentGroups(IncidentsGroupRequest(groupBy: "severity")) { count += 1 }
            return count
        }
        #expect(keys == 2)
    }
}

@Suite("Secrets")
struct SecretTests {
    @Test func theTokenAppearsNowhereInLogsAtTraceLevel() async throws {
        let handler = CapturingLogHandler()
        try await withServer(maxAttempts: 2, handler: handler, { request, index in
            switch index {
            case 0: .json(503, #"{"message":"echo \#(request.header("Authorization") ?? "")"}"#)
            case 1: .json(200, incidentJSON)
            default: .reply(status: 500, headers: [], body: "<html>\(request.header("Authorization") ?? "")</html>")
            }
        }) { client, _ in
            _ = try await client.getIncident(id: "INC-42")
            let error = await expectDevRevError { () throws(DevRevError) in _ = try await client.getIncident(id: "INC-42") }
            #expect(error != nil)
            #expect(error.map { "\($0)" }?.contains(testToken) == false)
            #expect(error?.bodyExcerpt?.contains(testToken) == false)
            #expect(error?.bodyExcerpt?.contains("Bearer ***") == true)
        }
        let lines = handler.lines.withLock { $0 }
        #expect(lines.contains { $0.contains("request body") }, "trace-level lines were captured")
        #expect(lines.contains { $0.contains("response") && $0.contains("status") })
        for line in lines {
            #expect(!line.contains(testToken), "\(line)")
        }
    }
}
