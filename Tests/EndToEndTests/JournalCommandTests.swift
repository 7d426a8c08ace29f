import DevRevAPI
import DevRevSandbox
import Foundation
import Testing

/// `runbook journal`: "what did runbook change last night, and did it all succeed?", answered
/// from real runs: successes, errors, a killed run, rotated files; and `journal verify`.
@Suite("runbook journal")
struct JournalCommandTests {
    static let token = "journal-command-token-5e2b"

    @Test func theJournalAnswersWhatChangedWithBeforeAfterOutcomeRunAndDigest() async throws {
        let sandbox = try await Sandbox.start(SandboxConfiguration(token: Self.token, faults: .init(
            rules: [.init(kind: .internalError, operation: "incidents.update", after: 1)])))
        let scripts = try ScriptDirectory()
        let state = try ScriptDirectory()
        let journal = state.url.appendingPathComponent("audit.jsonl").path
        try scripts.write("bump.lua", """
            --- @changes severity
            for inc in incident.list{ stage = { "reported" } } do
              local ok = pcall(incident.update, { id = inc.display_id, severity = 0 })
              print(inc.display_id, ok)
            end
            """)
        let first = try await RunbookBinary.run(["run", "bump.lua", "--audit-log", journal], against: sandbox, token: Self.token, directory: scripts)
        #expect(first.status == 0, "\(first.standardError)")
        // A second run, killed while its update is in flight: an intent without an outcome.
        sandbox.reconfigure(rateLimit: .init(), faults: .init(latency: .seconds(4)))
        try scripts.write("slow.lua", "--- @changes title\nincident.update{ id = 'INC-9', title = 'renamed' }\n")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: RunbookBinary.path)
        process.arguments = ["run", "slow.lua", "--audit-log", journal, "--base-url", sandbox.baseURL]
        process.environment = ProcessInfo.processInfo.environment.merging(["DEVREV_TOKEN": Self.token, "XDG_RUNTIME_DIR": state.url.path]) { $1 }
        process.currentDirectoryURL = scripts.url
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        for _ in 0..<200 where !((try? String(contentsOfFile: journal, encoding: .utf8)) ?? "").contains("\"INC-9\"") {
            try await Task.sleep(for: .milliseconds(50))
        }
        kill(process.processIdentifier, SIGKILL)
        await offPool { process.waitUntilExit() }
        await sandbox.stop()

        let all = try await RunbookBinary.run(["journal", "--audit-log", journal])
        #expect(all.status == 0, "\(all.standardError)")
        let lines = all.standardOutput.split(separator: "\n")
        #expect(lines.contains { $0.contains("  ok      INC-1  incidents.update 200  severity Sev1 -> Sev0  bump.lua  run ") }, "\(all.standardOutput)")
        #expect(lines.contains { $0.contains("  error   INC-2  incidents.update 500 internal_error  severity=0  bump.lua") })
        #expect(lines.contains { $0.contains("  unknown INC-9  incidents.update no answer recorded  title=renamed  slow.lua") })
        #expect(all.standardOutput.contains("changes: 1 ok, "), "\(all.standardOutput)")
        #expect(all.standardOutput.contains("unknown: sent, but the run stopped before DevRev's answer was recorded"))

        let unknown = try await RunbookBinary.run(["journal", "--audit-log", journal, "--outcome", "unknown"])
        #expect(unknown.standardOutput.hasPrefix(String(lines.first { $0.contains("INC-9") } ?? "")), "\(unknown.standardOutput)")
        #expect(unknown.standardOutput.contains("1 change: 0 ok, 0 error, 1 unknown"))
        let one = try await RunbookBinary.run(["journal", "--audit-log", journal, "--incident", "INC-1", "--script", "bump"])
        #expect(one.standardOutput.contains("1 change: 1 ok, 0 error, 0 unknown"), "\(one.standardOutput)")
        let recent = try await RunbookBinary.run(["journal", "--audit-log", journal, "--since", "1h"])
        #expect(recent.standardOutput == all.standardOutput)
        let future = try await RunbookBinary.run(["journal", "--audit-log", journal, "--since", "2099-01-01T00:00:00Z"])
        #expect(future.standardOutput.hasPrefix("0 changes"))
        let badSince = try await RunbookBinary.run(["journal", "--audit-log", journal, "--since", "yesterday"])
        #expect(badSince.status == 64 && badSince.standardError.contains("--since 'yesterday' is neither a duration"))

        let json = try await RunbookBinary.run(["journal", "--audit-log", journal, "--output", "json", "--incident", "INC-1"])
        let report = try #require(try JSONSerialization.jsonObject(with: Data(json.standardOutput.utf8)) as? [String: Any])
        let change = try #require((report["changes"] as? [[String: Any]])?.first)
        #expect(change["outcome"] as? String == "ok")
        #expect((change["script_sha256"] as? String)?.count == 64)
        let fields = try #require(change["changes"] as? [[String: Any]])
        #expect(fields.first?["field"] as? String == "severity" && fields.first?["before"] as? String == "Sev1" && fields.first?["after"] as? String == "Sev0")

        let verify = try await RunbookBinary.run(["journal", "verify", "--audit-log", journal])
        #expect(verify.status == 0, "\(verify.standardOutput)")
        #expect(verify.standardOutput.contains("0 problems, 1 change without an outcome"))
    }

    @Test func verifyReportsTornAndOutOfOrderRecordsAndOrphanOutcomes() async throws {
        let state = try ScriptDirectory()
        let journal = try state.write("audit.jsonl", """
            {"event":"intent","operation":"incidents.update","incident":"INC-1","run_id":"r1","time":"2026-11-29T02:00:02.000Z","fields":{"id":"INC-1","severity":1}}
            {"event":"outcome","operation":"incidents.update","incident":"INC-1","run_id":"r1","time":"2026-11-29T02:00:01.000Z","status":200}
            {"event":"outcome","operation":"incidents.update","incident":"INC-2","run_id":"r1","time":"2026-11-29T02:00:03.000Z","status":200}
            {"event":"intent","operation":"incidents.upd
            {"event":"intent","operation":"incidents.update","incident":"INC-3","run_id":"r2","time":"2026-11-29T03:00:00.000Z"}
            {"event":"intent","operation":"incidents.update","incident":"INC-4","run_id":"r2","time":"2026-11-29T03:00:
            """)
        let verify = try await RunbookBinary.run(["journal", "verify", "--audit-log", journal])
        #expect(verify.status == 65, "\(verify.standardOutput)")
        let text = verify.standardOutput
        #expect(text.contains("\(journal): 4 records, 4 problems, 1 change without an outcome"), "\(text)")
        #expect(text.contains("\(journal):2: out of order: earlier than its run's record at \(journal):1"))
        #expect(text.contains("\(journal):3: an outcome of incidents.update INC-2 with no intent before it in its run"))
        #expect(text.contains("\(journal):4: not a JSON record: a torn record"))
        #expect(text.contains("\(journal):6: an unfinished record at the end of the file"))
        let missing = try await RunbookBinary.run(["journal", "verify", "--audit-log", state.url.appendingPathComponent("none.jsonl").path])
        #expect(missing.status == 64 && missing.standardError.contains("no journal at"))
    }

    @Test func aFullJournalIsRotatedAndReadWithItsRotatedFiles() async throws {
        let sandbox = try await Sandbox.start(SandboxConfiguration(token: Self.token))
        let scripts = try ScriptDirectory()
        let state = try ScriptDirectory()
        let journal = state.url.appendingPathComponent("audit.jsonl").path
        try scripts.write("bump.lua", "--- @changes severity\nfor i = 1, 3 do incident.update{ id = 'INC-' .. i, severity = 1 } end\n")
        for _ in 0..<3 {
            let result = try await RunbookBinary.run(
                ["run", "bump.lua", "--audit-log", journal, "--audit-log-max-size", "1K"], against: sandbox, token: Self.token, directory: scripts)
            #expect(result.status == 0, "\(result.standardError)")
        }
        await sandbox.stop()
        let files = try FileManager.default.contentsOfDirectory(atPath: state.url.path).sorted()
        #expect(files.count == 3, "two rotated files and the current one: \(files)")
        #expect(files.filter { $0.hasPrefix("audit.jsonl.") }.allSatisfy { $0.firstMatch(of: #/^audit\.jsonl\.\d{8}T\d{6}Z(-\d+)?$/#) != nil })
        let all = try await RunbookBinary.run(["journal", "--audit-log", journal])
        #expect(all.standardOutput.contains("9 changes: 9 ok, 0 error, 0 unknown"), "\(all.standardOutput)")
        let verify = try await RunbookBinary.run(["journal", "verify", "--audit-log", journal])
        #expect(verify.status == 0 && verify.standardOutput.contains("18 records, 0 problems"), "\(verify.standardOutput)")
    }
}
