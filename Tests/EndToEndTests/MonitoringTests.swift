import Foundation
import HTTPTestSupport
import Testing

/// What `run` tells the machines watching it, through the binary: the textfile metrics (read by
/// prometheus-client's own parser), the Pushgateway push and the dead-man's-switch pings (recorded
/// by a loopback server), --jitter, and the journal on standard error. None of them ever changes
/// the run's exit status.
@Suite("Monitoring")
struct MonitoringTests {
    static let succeeds = """
        --- @name watched
        incident.update{ id = "INC-2", title = "watched by prometheus" }
        """
    static let fails = """
        --- @name watched
        local inc = incident.get("INC-2")
        error("gave up on " .. inc.display_id)
        """

    @Test func theMetricsFileAfterASuccessAndAfterAFailure() async throws {
        let scripts = try ScriptDirectory()
        try scripts.write("ok.lua", Self.succeeds)
        try scripts.write("bad.lua", Self.fails)
        try scripts.write("other.lua", "--- @name other\nprint('hi')\n")
        let file = scripts.url.appendingPathComponent("textfile/runbook.prom").path
        try FileManager.default.createDirectory(atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)

        let other = try await RunbookBinary.run(["run", "other.lua", "--metrics-file", file], directory: scripts.url)
        #expect(other.status == 0, "\(other.standardError)")
        let before = Date().timeIntervalSince1970
        let ok = try await RunbookBinary.run(["run", "--sandbox", "ok.lua", "--metrics-file", file], directory: scripts.url)
        #expect(ok.status == 0, "\(ok.standardError)")
        let first = try await PythonTools.prometheusSamples(try String(contentsOfFile: file, encoding: .utf8))
        let watched = ["script": "watched"]
        #expect(first.types["runbook_last_run_timestamp_seconds"] == "gauge")
        let success = try #require(first.samples.value("runbook_last_success_timestamp_seconds", watched))
        #expect(success >= before.rounded(.down) && success <= Date().timeIntervalSince1970 + 1)
        #expect(first.samples.value("runbook_last_run_timestamp_seconds", watched) == success)
        #expect(first.samples.value("runbook_last_run_exit_code", watched) == 0)
        #expect(first.samples.value("runbook_last_run_changes", ["script": "watched", "operation": "incidents.update"]) == 1)
        #expect(first.samples.value("runbook_last_run_changes", ["script": "watched", "operation": "incidents.delete"]) == 0)
        #expect(first.samples.value("runbook_last_run_api_requests", ["script": "watched", "status": "200"]) == 1)
        #expect(first.samples.value("runbook_last_run_rate_limit_wait_seconds", watched) == 0)
        #expect((first.samples.value("runbook_last_run_duration_seconds", watched) ?? -1) >= 0)
        #expect(first.samples.value("runbook_last_run_exit_code", ["script": "other"]) == 0, "another script's series stay")

        let bad = try await RunbookBinary.run(["run", "--sandbox", "bad.lua", "--metrics-file", file], directory: scripts.url)
        #expect(bad.status == 1, "\(bad.standardError)")
        let second = try await PythonTools.prometheusSamples(try String(contentsOfFile: file, encoding: .utf8))
        #expect(second.samples.value("runbook_last_run_exit_code", watched) == 1)
        #expect(second.samples.value("runbook_last_success_timestamp_seconds", watched) == success, "a failure keeps the last success")
        #expect((second.samples.value("runbook_last_run_timestamp_seconds", watched) ?? 0) >= success)
        #expect(second.samples.value("runbook_last_run_changes", ["script": "watched", "operation": "incidents.update"]) == 0)
        #expect(second.samples.value("runbook_last_run_exit_code", ["script": "other"]) == 0)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: (file as NSString).deletingLastPathComponent)
        #expect(leftovers.sorted() == ["runbook.prom", "runbook.prom.lock"], "no temporary file is left behind: \(leftovers)")
    }

    /// A Pushgateway and a healthchecks-style endpoint on one loopback server, which records.
    private func monitored(_ script: String, extra: [String] = []) async throws -> (RunbookBinary.Result, [TestHTTPServer.Request]) {
        let scripts = try ScriptDirectory()
        try scripts.write("job.lua", script)
        return try await TestHTTPServer.serving({ _, _ in .reply(status: 200, body: "OK") }) { server in
            let result = try await RunbookBinary.run(
                ["run", "--sandbox", "job.lua", "--metrics-push", server.baseURL, "--ping-url", server.baseURL + "/ping/5f1c?create=1"] + extra,
                directory: scripts.url)
            return (result, server.requests)
        }
    }

    @Test func aSuccessPingsStartThenPushesThenPingsSuccess() async throws {
        let (result, requests) = try await monitored(Self.succeeds)
        #expect(result.status == 0, "\(result.standardError)")
        #expect(requests.map { "\($0.method) \($0.path)" } == [
            "POST /ping/5f1c/start?create=1", "PUT /metrics/job/runbook/script/watched", "POST /ping/5f1c?create=1",
        ])
        let push = try await PythonTools.prometheusSamples(requests[1].bodyText)
        #expect(push.samples.value("runbook_last_run_exit_code") == 0)
        #expect(push.samples.value("runbook_last_success_timestamp_seconds") != nil)
        #expect(push.samples.allSatisfy { $0.labels["script"] == nil }, "the grouping key carries the script")
        #expect(requests[1].header("Content-Type")?.hasPrefix("text/plain; version=0.0.4") == true)
        #expect(requests[2].bodyText.hasPrefix("exit 0 (success); run "))
        for request in requests {
            #expect(request.header("Authorization") == nil, "no credential of runbook's goes to a monitoring service")
        }
    }

    @Test func aFailurePushesWithoutTheLastSuccessAndPingsFail() async throws {
        let (result, requests) = try await monitored(Self.fails)
        #expect(result.status == 1, "\(result.standardError)")
        #expect(requests.map { "\($0.method) \($0.path)" } == [
            "POST /ping/5f1c/start?create=1", "POST /metrics/job/runbook/script/watched", "POST /ping/5f1c/fail?create=1",
        ])
        let push = try await PythonTools.prometheusSamples(requests[1].bodyText)
        #expect(push.samples.value("runbook_last_run_exit_code") == 1)
        #expect(push.samples.value("runbook_last_success_timestamp_seconds") == nil, "the Pushgateway keeps the last success's own")
        #expect(requests[2].bodyText.contains("exit 1 (script_error)"))
        #expect(requests[2].bodyText.contains("gave up on INC-2"), "\(requests[2].bodyText)")
    }

    @Test func aScriptNameThatAPathCannotHoldIsPushedBase64Encoded() async throws {
        let (result, requests) = try await monitored("--- @name nightly/close mitigated\nprint('ok')\n")
        #expect(result.status == 0, "\(result.standardError)")
        let encoded = Data("nightly/close mitigated".utf8).base64EncodedString().replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "=", with: "")
        #expect(requests.map(\.path).contains("/metrics/job/runbook/script@base64/\(encoded)"), "\(requests.map(\.path))")
    }

    @Test(arguments: [0, 1])
    func unreachableMonitoringWarnsAndLeavesTheExitStatusAlone(_ expected: Int32) async throws {
        let scripts = try ScriptDirectory()
        try scripts.write("job.lua", expected == 0 ? Self.succeeds : Self.fails)
        try scripts.write("not-a-directory", "")
        for metricsFile in ["missing/dir/runbook.prom", "not-a-directory/runbook.prom"] {
            let result = try await RunbookBinary.run(
                ["run", "--sandbox", "job.lua", "--metrics-file", metricsFile, "--metrics-push", "http://127.0.0.1:9",
                 "--ping-url", "http://127.0.0.1:9/ping/secret-uuid"],
                directory: scripts.url)
            #expect(result.status == expected, "\(result.standardError)")
            #expect(result.standardError.contains("runbook: warning: cannot write the metrics file \(metricsFile)"), "\(result.standardError)")
            #expect(result.standardError.contains("runbook: warning: the metrics push to http://127.0.0.1:9 could not be reached"))
            #expect(result.standardError.contains("runbook: warning: the start ping to http://127.0.0.1:9 could not be reached"))
            #expect(result.standardError.contains("ping to http://127.0.0.1:9 could not be reached"))
            #expect(!result.standardError.contains("secret-uuid"), "a ping URL's path is its secret")
        }
    }

    @Test(arguments: [
        (["--jitter", "soon"], "--jitter"), (["--ping-url", "ftp://example.com/x"], "--ping-url"),
        (["--metrics-push", "pushgateway:9091"], "--metrics-push"), (["--metrics-file", ""], "--metrics-file"),
    ])
    func badMonitoringOptionsAreUsageErrors(_ arguments: [String], _ option: String) async throws {
        let result = try await RunbookBinary.run(["run", "--sandbox", "examples/hello.lua"] + arguments)
        #expect(result.status == 64, "\(result.standardError)")
        #expect(result.standardError.contains(option), "\(result.standardError)")
    }

    @Test func aSignalDuringTheJitterEndsTheRunBeforeItStarts() async throws {
        let server = try await TestHTTPServer { _, _ in .reply(status: 200, body: "OK") }
        let scripts = try ScriptDirectory()
        try scripts.write("job.lua", Self.succeeds)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: RunbookBinary.path)
        process.arguments = ["run", "--sandbox", "job.lua", "--jitter", "10m", "--log-level", "info", "--ping-url", server.baseURL + "/hc"]
        process.currentDirectoryURL = scripts.url
        var environment = ProcessInfo.processInfo.environment
        environment["XDG_STATE_HOME"] = scripts.url.appendingPathComponent("state").path
        environment["XDG_RUNTIME_DIR"] = scripts.url.path
        process.environment = environment
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        // The signal goes once the run says it waits (its handlers are in place by then).
        let reader = errors.fileHandleForReading
        let waiting = await offPool { () -> String in
            var text = ""
            while !text.contains("(--jitter) before starting") {
                let chunk = reader.availableData
                if chunk.isEmpty { break }
                text += String(decoding: chunk, as: UTF8.self)
            }
            return text
        }
        #expect(waiting.contains("runbook: waiting "), "\(waiting)")
        process.terminate()
        let rest = await offPool { String(decoding: reader.readDataToEndOfFile(), as: UTF8.self) }
        await offPool { process.waitUntilExit() }
        let requests = server.requests
        try await server.shutdown()
        #expect(process.terminationStatus == 143, "\(waiting)\(rest)")
        #expect(rest.contains("stopped by a signal during --jitter; the script did not start"), "\(rest)")
        #expect(requests.map { "\($0.method) \($0.path)" } == ["POST /hc/fail"], "the switch hears the run failed, and no start")
    }

    @Test func theJournalOnStandardErrorIsJSONLines() async throws {
        let scripts = try ScriptDirectory()
        try scripts.write("job.lua", Self.succeeds)
        let state = try ScriptDirectory()
        let result = try await RunbookBinary.run(
            ["run", "--sandbox", "job.lua", "--audit-log", "-"], environment: ["XDG_STATE_HOME": state.url.path], directory: scripts.url)
        #expect(result.status == 0, "\(result.standardError)")
        let records = try result.standardError.split(separator: "\n").map {
            try #require(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any], "every line is a JSON object: \($0)")
        }
        #expect(records.map { $0["event"] as? String } == ["intent", "outcome"])
        #expect(records.allSatisfy { $0["operation"] as? String == "incidents.update" && $0["incident"] as? String == "INC-2" })
        #expect(!FileManager.default.fileExists(atPath: state.url.appendingPathComponent("runbook").path), "no journal file is written")
        let query = try await RunbookBinary.run(["journal", "--audit-log", "-"])
        #expect(query.status == 64, "\(query.standardError)")
    }

    @Test func aTokenFileOfMode0400IsAccepted() async throws {
        let scripts = try ScriptDirectory()
        try scripts.write("job.lua", "print(incident.get('INC-2').display_id)\n")
        let token = "token-file-0400-test-token"
        try await withTestSandbox(.init(token: token)) { sandbox, _ in
            let path = try scripts.write("secrets/token", token + "\n")
            chmod(path, 0o400)
            let result = try await RunbookBinary.run(["run", "job.lua", "--base-url", sandbox.baseURL, "--token-file", path], directory: scripts.url)
            #expect(result.status == 0, "\(result.standardError)")
            #expect(result.standardOutput == "INC-2\n")
        }
    }
}
