import DevRevAPI
import DevRevSandbox
import Foundation
import Testing

/// A journal that cannot be written: a full device or a directory nobody can create files in
/// stops the run before any request; a journal that fills up mid-run stops every change after it,
/// and says what it could not record.
@Suite("Journal failures")
struct JournalFailureTests {
    static let token = "journal-failure-token-3a7c"

    static func tenant(count: Int) -> Tenant {
        var tenant = Tenant.demo()
        tenant.incidents = (1...count).map { Tenant.SeedIncident(title: "Incident \($0)", severity: 2, stage: "reported") }
        return tenant
    }

    @Test(arguments: ["/dev/full", "/proc/runbook-cannot-be-here/audit.jsonl"])
    func aJournalThatCannotBeWrittenStopsTheRunBeforeAnyRequest(_ path: String) async throws {
        let sandbox = try await Sandbox.start(SandboxConfiguration(token: Self.token))
        let scripts = try ScriptDirectory()
        try scripts.write("change.lua", "print(incident.get('INC-1').title)\nincident.update{ id = 'INC-1', severity = 1 }\n")
        let result = try await RunbookBinary.run(
            ["run", "change.lua", "--audit-log", path], against: sandbox, token: Self.token, directory: scripts)
        let requests = sandbox.statistics.snapshot.requests
        await sandbox.stop()
        #expect(result.status == 78, "\(result.standardError)")
        #expect(result.standardError.contains("cannot write the audit journal \(path)"), "\(result.standardError)")
        #expect(requests == 0, "not even a read goes out without a journal")
    }

    /// `ulimit -f` makes the journal's writes fail once it has grown past a few records (EFBIG,
    /// with SIGXFSZ ignored, as a full disk would with ENOSPC). The script catches every error
    /// and goes on: still no change is sent after the first record that could not be written.
    @Test func aJournalThatFillsUpMidRunStopsEveryChangeAfterItAndSaysWhatItLost() async throws {
        let sandbox = try await Sandbox.start(SandboxConfiguration(seed: Self.tenant(count: 20), token: Self.token))
        let scripts = try ScriptDirectory()
        let state = try ScriptDirectory()
        try scripts.write("many.lua", """
            --- @changes severity
            for i = 1, 20 do
              local ok, err = pcall(incident.update, { id = "INC-" .. i, severity = 1 })
              if not ok then print("INC-" .. i .. " " .. err.type) end
            end
            """)
        let journal = state.url.appendingPathComponent("audit.jsonl").path
        let command = "ulimit -f 6; trap '' XFSZ; exec \"$0\" \"$@\""
        let result = try await RunbookBinary.run(
            ["-c", command, RunbookBinary.path, "run", "many.lua", "--audit-log", journal, "--base-url", sandbox.baseURL],
            environment: ["DEVREV_TOKEN": Self.token], directory: scripts.url, executable: "/bin/bash")
        let changed = sandbox.changes().count
        await sandbox.stop()

        #expect(result.status == 78, "\(result.standardOutput)\n\(result.standardError)")
        #expect(result.standardError.contains("runbook: the audit journal \(journal) stopped accepting records during the run"),
                "\(result.standardError)")
        #expect(result.standardError.contains("no change was sent after that. What the journal could not record:"))
        #expect(result.standardError.contains("File too large"), "the cause is named: \(result.standardError)")
        #expect(result.standardOutput.contains("configuration"), "the script saw configuration errors: \(result.standardOutput)")
        let lines = try String(contentsOfFile: journal, encoding: .utf8).split(separator: "\n")
        let records = lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(records.count >= lines.count - 1, "every line parses but a torn last one")
        let intents = records.filter { $0["event"] as? String == "intent" }
        #expect(changed > 0 && changed < 20, "the journal filled up part way: \(changed) changes")
        #expect(intents.count == changed,
                "every change the sandbox received has its intent, and none was sent after the failure: \(intents.count) intents, \(changed) changes")
        // The write that failed was either the last change's outcome (told as sent and answered)
        // or the next change's intent (told as not sent).
        let lostOutcome = result.standardError.contains("incidents.update INC-\(changed): sent, answered status 200 (request")
        let refusedIntent = result.standardError.contains("incidents.update INC-\(changed + 1): not sent")
        #expect(lostOutcome || refusedIntent, "the first record lost is told: \(result.standardError)")
    }
}
