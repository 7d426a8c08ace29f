import DevRevSandbox
import Foundation
import HTTPTestSupport
import Testing

/// The token is found nowhere: every command and every failure path, with a distinctive token,
/// and a search of everything they wrote (standard output and error, reports, journals, plans)
/// for the token and for its first and last 8 characters.
@Suite("Secrets sweep")
struct SecretsSweepTests {
    static let token = "sweepTOK-4f9a8c2e7b1d6053a9e4c8f2b7d1e6a0-zq8end"
    static var needles: [String] { [token, String(token.prefix(8)), String(token.suffix(8))] }

    /// Everything a run produced, by where it came from.
    final class Evidence {
        var texts: [(String, String)] = []
        func add(_ what: String, _ result: RunbookBinary.Result) {
            texts.append(("\(what): standard output", result.standardOutput))
            texts.append(("\(what): standard error", result.standardError))
        }
        func add(file url: URL, as what: String) throws {
            texts.append((what, String(decoding: try Data(contentsOf: url), as: UTF8.self)))
        }
    }

    @Test func theTokenAppearsInNoOutputReportJournalPlanOrLogOfAnyCommand() async throws {
        let evidence = Evidence()
        let scripts = try ScriptDirectory()
        let state = try ScriptDirectory()
        try scripts.write("change.lua", """
            --- @changes severity, comment
            local inc = incident.update{ id = "INC-3", severity = 1 }
            incident.comment(inc.display_id, "escalated")
            log.debug("done", { incident = inc.display_id })
            """)
        try scripts.write("fail.lua", "incident.update{ id = 'INC-3', severity = 1 }\nlocal t = nil\nprint(t.field)\n")
        try scripts.write("read.lua", "print(incident.get('INC-1').title)\n")
        let tokenFile = try scripts.write("token", Self.token + "\n")
        chmod(tokenFile, 0o600)
        let environment = ["DEVREV_TOKEN": Self.token, "XDG_STATE_HOME": state.url.path]

        // Against a sandbox that takes the token: runs, dry runs, plans, apply, doctor, debug logs, reports.
        let sandbox = try await Sandbox.start(SandboxConfiguration(token: Self.token))
        do {
            let url = sandbox.baseURL
            let commands: [(String, [String])] = [
                ("run --log-level debug --output json", ["run", "change.lua", "--log-level", "debug", "--output", "json"]),
                ("run --dry-run --log-level debug", ["run", "change.lua", "--dry-run", "--log-level", "debug"]),
                ("run --max-changes", ["run", "change.lua", "--max-changes", "5", "--log-level", "debug", "--output", "json"]),
                ("plan -o", ["plan", "change.lua", "-o", "plan.json", "--log-level", "debug"]),
                ("apply", ["apply", "plan.json", "--log-level", "debug", "--output", "json"]),
                ("a traceback", ["run", "fail.lua", "--log-level", "debug", "--output", "json"]),
                ("doctor", ["doctor", "--output", "json"]),
                ("doctor text", ["doctor"]),
            ]
            for (name, arguments) in commands {
                evidence.add(name, try await RunbookBinary.run(arguments + ["--base-url", url], environment: environment, directory: scripts.url))
            }
            evidence.add("--token-file", try await RunbookBinary.run(
                ["run", "read.lua", "--token-file", tokenFile, "--base-url", url, "--log-level", "debug"],
                environment: ["XDG_STATE_HOME": state.url.path], directory: scripts.url))
            evidence.add("the token file run as a script", try await RunbookBinary.run(
                ["run", "token", "--base-url", url], environment: environment, directory: scripts.url))
            evidence.add("--allow-env DEVREV_TOKEN", try await RunbookBinary.run(
                ["run", "read.lua", "--allow-env", "DEVREV_TOKEN", "--base-url", url], environment: environment, directory: scripts.url))
            try evidence.add(file: scripts.url.appendingPathComponent("plan.json"), as: "the plan file")
        } catch {
            await sandbox.stop()
            throw error
        }
        await sandbox.stop()

        // A sandbox that wants another token: 401.
        let other = try await Sandbox.start(SandboxConfiguration(token: "another-token-entirely"))
        evidence.add("401", try await RunbookBinary.run(
            ["run", "read.lua", "--base-url", other.baseURL, "--log-level", "debug", "--output", "json"], environment: environment,
            directory: scripts.url))
        evidence.add("doctor 401", try await RunbookBinary.run(["doctor", "--base-url", other.baseURL], environment: environment))
        await other.stop()

        // Servers that echo the request back: 403 and 500 with the Authorization header and the body in their answers.
        for status in [403, 500] {
            let server = try await TestHTTPServer { request, _ in
                let echoed = (request.header("Authorization") ?? "") + " " + request.bodyText
                return .json(status, #"{"type":"\#(status == 403 ? "forbidden" : "internal_error")","message":"you sent \#(echoed)"}"#,
                             headers: [("X-Echo", request.header("Authorization") ?? "")])
            }
            evidence.add("\(status) echoing the request", try await RunbookBinary.run(
                ["run", "change.lua", "--base-url", server.baseURL, "--log-level", "debug", "--output", "json"], environment: environment,
                directory: scripts.url))
            try await server.shutdown()
        }

        // Nobody listening: a transport error.
        evidence.add("connection refused", try await RunbookBinary.run(
            ["run", "read.lua", "--base-url", "http://127.0.0.1:1", "--log-level", "debug", "--output", "json"], environment: environment,
            directory: scripts.url))

        // The journals every run above wrote.
        let journals = FileManager.default.enumerator(at: state.url, includingPropertiesForKeys: nil)?
            .compactMap { $0 as? URL }.filter { $0.pathExtension == "jsonl" } ?? []
        #expect(!journals.isEmpty, "the runs wrote journals")
        for journal in journals { try evidence.add(file: journal, as: "journal \(journal.lastPathComponent)") }

        #expect(evidence.texts.count > 30)
        #expect(evidence.texts.contains { $0.1.contains("forbidden") }, "the 403 path was taken")
        #expect(evidence.texts.contains { $0.1.contains("unauthenticated") }, "the 401 path was taken")
        #expect(evidence.texts.contains { $0.1.contains("attempt to index a nil value") }, "the traceback path was taken")
        for (what, text) in evidence.texts {
            for needle in Self.needles {
                #expect(!text.contains(needle), "\(what) holds '\(needle)':\n\(text)")
            }
        }
    }
}
