import DevRevAPI
import DevRevSandbox
import Foundation
import Testing

/// The examples and the error classes, run by the built binary against a sandbox this test
/// starts, with the sandbox's state checked afterwards.
@Suite("Runbooks against the sandbox")
struct ExampleTests {
    static let token = "e2e-sandbox-token"

    private func withSandbox(
        _ configuration: SandboxConfiguration = SandboxConfiguration(token: ExampleTests.token),
        _ body: (Sandbox, DevRevClient) async throws -> Void
    ) async throws {
        try await withTestSandbox(configuration, body)
    }

    private func run(_ sandbox: Sandbox, _ arguments: [String], token: String = ExampleTests.token) async throws -> RunbookBinary.Result {
        try await RunbookBinary.run(["run"] + arguments + ["--base-url", sandbox.baseURL], environment: ["DEVREV_TOKEN": token])
    }

    @Test func escalateUnacknowledged() async throws {
        try await withSandbox { sandbox, client in
            let result = try await run(sandbox, ["examples/escalate-unacknowledged.lua", "--arg", "minutes=30", "--log-level", "info"])
            #expect(result.status == 0, "\(result.standardError)")
            #expect(result.standardOutput == "INC-2  severity Sev2 -> Sev1  Payments API latency above 2 s\n")
            #expect(result.standardError.contains("info: escalation done escalated=1 minutes=30"))
            let escalated = try await client.getIncident(id: "INC-2")
            #expect(escalated.severity?.id == 1)
            #expect(escalated.stage?.stage?.name == "acknowledged")
            // Reported 10 minutes ago: not yet.
            #expect(try await client.getIncident(id: "INC-3").severity?.id == 2)
        }
    }

    @Test func stampTargetCloseDate() async throws {
        try await withSandbox { sandbox, client in
            let result = try await run(sandbox, ["examples/stamp-target-close.lua", "--arg", "hours=24"])
            #expect(result.status == 0, "\(result.standardError)")
            #expect(result.standardError.isEmpty, "a successful run is quiet at the default log level")
            let stamped = try await client.getIncident(id: "INC-1")
            let created = try #require(stamped.createdDate.flatMap { try? Date($0, strategy: .iso8601) })
            let target = try #require(stamped.targetCloseDate.flatMap { try? Date($0, strategy: .iso8601) })
            #expect(abs(target.timeIntervalSince(created) - 86_400) < 1)
            // Closed sev-1s are left alone.
            #expect(try await client.getIncident(id: "INC-10").targetCloseDate == nil)
        }
    }

    @Test func closeMitigated() async throws {
        try await withSandbox { sandbox, client in
            let result = try await run(sandbox, ["examples/close-mitigated.lua", "--arg", "hours=24"])
            #expect(result.status == 0, "\(result.standardError)")
            #expect(result.standardOutput.contains("INC-7  stage mitigated -> resolved"))
            #expect(result.standardOutput.contains("INC-9  stage mitigated -> resolved"))
            let closed = try await client.getIncident(id: "INC-7")
            #expect(closed.stage?.stage?.name == "resolved")
            #expect(closed.actualCloseDate != nil)
            // Mitigated 2 hours ago: stays.
            #expect(try await client.getIncident(id: "INC-8").stage?.stage?.name == "mitigated")
        }
    }

    @Test func reassignOwner() async throws {
        try await withSandbox { sandbox, client in
            let result = try await run(sandbox, ["examples/reassign-owner.lua", "--arg", "from=DEVU-1", "--arg", "to=DEVU-3"])
            #expect(result.status == 0, "\(result.standardError)")
            let remaining = try await client.listIncidents(IncidentsListRequest(ownedBy: ["DEVU-1"]))
            #expect(remaining.incidents?.isEmpty == true)
            let shared = try await client.getIncident(id: "INC-4")
            #expect(shared.ownedBy?.map(\.displayId) == ["DEVU-4", "DEVU-3"])
        }
    }

    @Test func tagPartIncidents() async throws {
        try await withSandbox { sandbox, client in
            let result = try await run(sandbox, ["examples/tag-part-incidents.lua", "--arg", "part=PROD-2", "--arg", "tag=database"])
            #expect(result.status == 0, "\(result.standardError)")
            let tagged = try await client.getIncident(id: "INC-2")
            #expect(tagged.tags?.map { $0.tag?.name } == ["network", "database"])
            let second = try await run(sandbox, ["examples/tag-part-incidents.lua", "--arg", "part=PROD-2", "--arg", "tag=database"])
            #expect(second.standardOutput.isEmpty, "a second run changes nothing")
        }
    }

    @Test func theDemoRunsWithTheInProcessSandbox() async throws {
        let result = try await RunbookBinary.run(["run", "examples/escalate-unacknowledged.lua", "--sandbox"])
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.standardOutput.contains("INC-2  severity Sev2 -> Sev1"))
    }

    // MARK: error classes

    private func script(_ source: String) throws -> (ScriptDirectory, String) {
        let directory = try ScriptDirectory()
        return (directory, try directory.write("chore.lua", source))
    }

    @Test func notFoundEndsWithExit1AndTheLine() async throws {
        try await withSandbox { sandbox, _ in
            let (directory, path) = try script("local x = 1\nincident.get('INC-404')\n")
            let result = try await run(sandbox, [path])
            _ = directory
            #expect(result.status == 1)
            #expect(result.standardError.contains("chore.lua:2: not_found (404): incident INC-404 does not exist"))
        }
    }

    @Test func aServerValidationErrorEndsWithExit1() async throws {
        try await withSandbox { sandbox, client in
            let (directory, path) = try script("incident.update{ id = 'INC-1', owned_by = {'DEVU-99'} }\n")
            let result = try await run(sandbox, [path])
            _ = directory
            #expect(result.status == 1)
            #expect(result.standardError.contains("invalid_id (400)"))
            #expect(try await client.getIncident(id: "INC-1").ownedBy?.first?.displayId == "DEVU-1")
        }
    }

    @Test func aClientValidationErrorEndsWithExit65() async throws {
        try await withSandbox { sandbox, _ in
            let (directory, path) = try script("incident.update{ id = 'INC-1', titel = 'x' }\n")
            let result = try await run(sandbox, [path])
            _ = directory
            #expect(result.status == 65)
            #expect(result.standardError.contains("chore.lua:1: validation: unknown field 'titel' in incident.update; did you mean 'title'?"))
        }
    }

    @Test func aWrongTokenEndsWithExit77() async throws {
        try await withSandbox { sandbox, _ in
            let (directory, path) = try script("incident.get('INC-1')\n")
            let result = try await run(sandbox, [path], token: "wrong-token-1234")
            _ = directory
            #expect(result.status == 77)
            #expect(result.standardError.contains("unauthenticated (401)"))
            #expect(!result.standardError.contains("wrong-token-1234"))
        }
    }

    @Test func aTooManyRequestsIsRetried() async throws {
        let configuration = SandboxConfiguration(token: Self.token, faults: .init(rate: 0.5, kinds: [.tooManyRequests], seed: 11))
        try await withSandbox(configuration) { sandbox, _ in
            let (directory, path) = try script("for i = 1, 3 do incident.get('INC-1') end\nprint('ok')\n")
            let result = try await run(sandbox, [path, "--output", "json"])
            _ = directory
            #expect(result.status == 0, "\(result.standardError)")
            let report = try #require(try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any])
            let calls = try #require(report["calls"] as? [[String: Any]])
            #expect(calls.count == 3)
            #expect(calls.contains { ($0["attempts"] as? Int ?? 1) > 1 }, "at least one call met a 429 and was retried")
        }
    }

    @Test func unavailableAfterRetriesEndsWithExit69() async throws {
        let configuration = SandboxConfiguration(token: Self.token, faults: .init(rate: 1, kinds: [.unavailable]))
        try await withSandbox(configuration) { sandbox, _ in
            let (directory, path) = try script("incident.get('INC-1')\n")
            let result = try await run(sandbox, [path])
            _ = directory
            #expect(result.status == 69)
            #expect(result.standardError.contains("service_unavailable (503)"))
            #expect(result.standardError.contains("after 5 attempts"))
        }
    }

    @Test func noTokenEndsWithExit78AndABadBaseURLToo() async throws {
        let (directory, path) = try script("incident.get('INC-1')\n")
        _ = directory
        let noToken = try await RunbookBinary.run(["run", path, "--base-url", "http://127.0.0.1:9"])
        #expect(noToken.status == 78)
        #expect(noToken.standardError.contains("no DevRev token"))
        let badURL = try await RunbookBinary.run(["run", path, "--base-url", "http://example.com"], environment: ["DEVREV_TOKEN": "x"])
        #expect(badURL.status == 78)
        #expect(badURL.standardError.contains("plain http is allowed only for loopback hosts"))
    }

    @Test func theRunReportListsCallsAndTheOutcome() async throws {
        try await withSandbox { sandbox, _ in
            let (directory, path) = try script("print('to stderr')\nincident.update{ id = 'INC-3', severity = 1 }\nincident.get('INC-404')\n")
            let result = try await run(sandbox, [path, "--output", "json", "--arg", "who=me"])
            _ = directory
            #expect(result.status == 1)
            #expect(result.standardError.contains("to stderr"))
            let report = try #require(try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any])
            #expect(report["exit_code"] as? Int == 1)
            #expect(report["outcome"] as? String == "error")
            #expect(report["error_type"] as? String == "not_found")
            #expect((report["arguments"] as? [String: String]) == ["who": "me"])
            let script = try #require(report["script"] as? [String: Any])
            #expect((script["sha256"] as? String)?.count == 64)
            let calls = try #require(report["calls"] as? [[String: Any]])
            #expect(calls.map { $0["operation"] as? String } == ["incidents.update", "incidents.get"])
            #expect(calls.map { $0["incident"] as? String } == ["INC-3", "INC-404"])
            #expect(calls.map { $0["status"] as? Int } == [200, 404])
        }
    }

    @Test func logsAreJSONLinesWithOutputJSONAndFilteredByLevel() async throws {
        let (directory, path) = try script("log.debug('hidden')\nlog.info('shown', {n = 1})\nlog.warn('careful')\n")
        _ = directory
        let json = try await RunbookBinary.run(["run", path, "--output", "json", "--log-level", "info"])
        let lines = json.standardError.split(separator: "\n").map(String.init)
        #expect(lines.count == 2, "\(json.standardError)")
        let first = try #require(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        #expect(first["level"] as? String == "info")
        #expect(first["message"] as? String == "shown")
        #expect(first["n"] as? Int == 1)
        let text = try await RunbookBinary.run(["run", path, "--log-level", "warn"])
        #expect(text.standardError.hasSuffix(" warn: careful\n"), "\(text.standardError)")
        #expect(text.standardError.split(separator: "\n").count == 1)
    }

    @Test func nowCanBeFrozen() async throws {
        let (directory, path) = try script("print(runbook.now(), runbook.date(runbook.now()), runbook.time('2026-01-02T03:04:05Z'))\n")
        _ = directory
        let result = try await RunbookBinary.run(["run", path, "--now", "2026-11-26T12:00:00Z"])
        #expect(result.standardOutput == "1795694400\t2026-11-26T12:00:00Z\t1767323045\n")
    }
}
