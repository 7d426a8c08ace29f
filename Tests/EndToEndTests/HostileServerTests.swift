import Foundation
import HTTPTestSupport
import Testing

/// Servers that answer badly on purpose, through the binary: each answer is bounded by a cap,
/// the run's --timeout or its retry budget, and ends in a clear error and the documented exit code.
@Suite("Hostile servers")
struct HostileServerTests {
    static let token = "hostile-test-token-7d1f"
    static let incident = #"{"id":"don:core:dvrv-us-1:devo/1:incident/1","display_id":"INC-1","title":"Checkout down"}"#
    static let get = "print(incident.get('INC-1').title)\n"
    static let walk = "local n = 0\nfor _ in incident.list{} do n = n + 1 end\nprint(n)\n"

    private func run(_ script: String, _ extra: [String] = [], responder: @escaping TestHTTPServer.Responder)
        async throws -> (RunbookBinary.Result, [TestHTTPServer.Request])
    {
        let scripts = try ScriptDirectory()
        try scripts.write("hostile.lua", script)
        return try await TestHTTPServer.serving(responder) { server in
            let result = try await RunbookBinary.run(
                ["run", "hostile.lua", "--base-url", server.baseURL] + extra, environment: ["DEVREV_TOKEN": Self.token],
                directory: scripts.url)
            return (result, server.requests)
        }
    }

    @Test func aHundredMegabyteAnswerStopsAtTheSizeCap() async throws {
        let (result, _) = try await run(Self.get) { _, _ in
            .stream(status: 200, chunk: String(repeating: " ", count: 1 << 20), count: 100, interval: .zero)
        }
        #expect(result.status == 1, "\(result.standardError)")
        #expect(result.standardError.contains("malformed_response"), "\(result.standardError)")
        #expect(result.standardError.contains("32 MiB"), "\(result.standardError)")
    }

    @Test func anAnswerTrickledAByteASecondEndsAtTheRunsTimeout() async throws {
        let (result, _) = try await run(Self.get, ["--timeout", "3s"]) { _, _ in
            .stream(status: 200, chunk: " ", count: 3600, interval: .seconds(1))
        }
        #expect(result.status == 124, "\(result.standardError)")
        #expect(result.standardError.contains("timeout"))
    }

    @Test(arguments: ["31536000", "Wed, 21 Oct 2099 07:28:00 GMT"])
    func aRetryAfterOfAYearIsARateLimitNotAWait(_ retryAfter: String) async throws {
        let (result, requests) = try await run(Self.get, ["--timeout", "60s"]) { _, _ in
            .json(429, #"{"type":"too_many_requests","message":"slow down"}"#, headers: [("Retry-After", retryAfter)])
        }
        #expect(result.status == 75, "the retry budget gives up at once, long before --timeout: \(result.standardError)")
        #expect(result.standardError.contains("too_many_requests"), "\(result.standardError)")
        #expect(requests.count == 1, "no second request inside the day it would wait")
    }

    @Test func aNegativeRetryAfterIsIgnoredForTheUsualBackoff() async throws {
        let (result, requests) = try await run(Self.get) { _, index in
            index == 0
                ? .json(429, #"{"type":"too_many_requests","message":"slow down"}"#, headers: [("Retry-After", "-5")])
                : .json(200, #"{"incident":\#(HostileServerTests.incident)}"#)
        }
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.standardOutput == "Checkout down\n")
        #expect(requests.count == 2)
    }

    @Test func cursorsThatNeverRepeatAndNeverEndStopAtTheRunsTimeout() async throws {
        let (result, requests) = try await run(Self.walk, ["--timeout", "3s"]) { _, index in
            .json(200, #"{"incidents":[\#(HostileServerTests.incident)],"next_cursor":"page-\#(index + 1)"}"#)
        }
        #expect(result.status == 124, "\(result.standardError)")
        #expect(requests.count > 10, "the walk went on until the deadline: \(requests.count) pages")
    }

    @Test(arguments: [
        ("nested 100 000 deep", #"{"incident":"# + String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000) + "}"),
        ("a duplicate key", #"{"incident":{"id":"a","id":"b","display_id":"INC-1","title":"t"}}"#),
        ("a number past int64", #"{"incident":{"id":"a","display_id":"INC-1","title":"t","severity":{"id":99999999999999999999,"label":"x"}}}"#),
        ("a number past any double", #"{"incident":{"id":"a","display_id":"INC-1","title":"t","severity":{"id":1e999,"label":"x"}}}"#),
    ])
    func anAnswerNoParserShouldTakeIsAMalformedResponse(_ name: String, _ body: String) async throws {
        let (result, _) = try await run(Self.get) { _, _ in .json(200, body) }
        #expect(result.status == 1, "\(name): \(result.standardError)")
        #expect(result.standardError.contains("malformed_response"), "\(name): \(result.standardError)")
    }
}
