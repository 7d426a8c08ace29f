import DevRevAPI
import DevRevSandbox
import Foundation
import Testing

/// Two hosts never act twice: `--- @claim` and `incident.claim`, through the binary against one
/// sandbox. The claim is a private timeline entry whose external_ref DevRev keeps unique on the
/// incident's timeline; the run that gets 409 skips the incident and says so.
@Suite("Claims")
struct ClaimTests {
    static let token = "claim-tests-token-5e2a"
    static let escalate = """
        --- @name escalate
        --- @claim 30m
        for inc in incident.list{ severity = {2} } do
          local updated, why = incident.update{ id = inc.display_id, severity = 1 }
          if updated then
            incident.comment(inc.display_id, "escalated by runbook")
            print("escalated " .. inc.display_id)
          else
            print("skipped " .. inc.display_id .. ": " .. why)
          end
        end
        """

    private func withSandbox(
        _ faults: SandboxConfiguration.Faults = .init(), clock: @escaping @Sendable () -> Date = { Date() }, _ body: (Sandbox) async throws -> Void
    ) async throws {
        let sandbox = try await Sandbox.start(SandboxConfiguration(token: Self.token, faults: faults, clock: clock))
        do {
            try await body(sandbox)
        } catch {
            await sandbox.stop()
            throw error
        }
        await sandbox.stop()
    }

    private func run(_ arguments: [String], _ sandbox: Sandbox, at directory: URL) async throws -> RunbookBinary.Result {
        try await RunbookBinary.run(arguments + ["--base-url", sandbox.baseURL, "--no-lock"], environment: ["DEVREV_TOKEN": Self.token],
                                    directory: directory)
    }

    private func journal(_ path: String) throws -> [[String: Any]] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").compactMap {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
    }

    private func report(_ result: RunbookBinary.Result) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any], "\(result.standardOutput)")
    }

    @Test func twoRacingRunsChangeEveryIncidentExactlyOnce() async throws {
        // Latency makes the two runs overlap: each list page, claim, update and comment takes
        // 100 ms, so a run takes about two seconds and both work on the same incidents at once.
        try await withSandbox(.init(latency: .milliseconds(100))) { sandbox in
            let directory = try ScriptDirectory()
            try directory.write("escalate.lua", Self.escalate)
            let targets = Set(sandbox.incidents().filter { $0.severity?.id == 2 }.compactMap(\.displayId))
            #expect(targets.count >= 3, "the demo tenant has several Sev2 incidents: \(targets)")
            let paths = ["a", "b"].map { directory.url.appendingPathComponent("audit-\($0).jsonl").path }
            let url = directory.url
            // One claim window for both whatever the clock says (`--now`).
            async let first = run(["run", "escalate.lua", "--output", "json", "--audit-log", paths[0], "--now", "2029-06-01T12:00:00Z"], sandbox, at: url)
            async let second = run(["run", "escalate.lua", "--output", "json", "--audit-log", paths[1], "--now", "2029-06-01T12:00:00Z"], sandbox, at: url)
            let results = try await [first, second]
            for result in results { #expect(result.status == 0, "\(result.standardError)") }

            let updates = sandbox.changes().filter { $0.operation == .update }
            #expect(updates.map(\.incident).sorted() == targets.sorted(), "every Sev2 incident updated exactly once")
            let comments = sandbox.changes().filter { $0.operation == .comment }
            for id in targets {
                let posted = comments.filter { $0.incident == id }.compactMap { change -> String? in
                    guard case .object(let entry)? = change.comment, case .string(let body)? = entry["body"] else { return nil }
                    return body
                }
                #expect(posted.filter { $0 == "escalated by runbook" }.count == 1, "\(id): one comment, from the run that holds the claim")
                #expect(posted.filter { $0.hasPrefix("runbook claim: escalate acts on this incident") }.count == 1, "\(id): one claim")
            }

            var escalated: [[String]] = []
            var skipped: [[String]] = []
            for (result, path) in zip(results, paths) {
                let lines = result.standardError.split(separator: "\n")
                escalated.append(lines.filter { $0.hasPrefix("escalated ") }.map { String($0.dropFirst("escalated ".count)) })
                let mine = lines.filter { $0.hasPrefix("skipped ") }.map { String($0.dropFirst("skipped ".count).prefix { $0 != ":" }) }
                skipped.append(mine)
                let report = try report(result)
                let elsewhere = (report["claimed_elsewhere"] as? [[String: Any]] ?? []).compactMap { $0["incident"] as? String }
                #expect(elsewhere == mine, "the report lists each skip")
                if !mine.isEmpty {
                    #expect(result.standardError.contains("claimed elsewhere: \(mine.count) incident"), "\(result.standardError)")
                }
                let notSent = try journal(path).filter { $0["event"] as? String == "not_sent" }
                #expect(Set(notSent.compactMap { $0["incident"] as? String }) == Set(mine), "the journal records each skipped change")
                #expect(notSent.allSatisfy { ($0["note"] as? String)?.contains("holds the incident's claim") == true })
            }
            #expect(escalated.joined().sorted() == targets.sorted(), "between them the runs escalated each incident once")
            // A run skips what the other claimed first; an incident the other had already
            // escalated before this run listed it is no longer a Sev2, so never met at all.
            #expect(Set(skipped[0]).isSubset(of: escalated[1]) && Set(skipped[1]).isSubset(of: escalated[0]))
            #expect(!skipped.joined().isEmpty, "the runs overlapped: at least one incident was claimed elsewhere")
        }
    }

    @Test func aClaimIsPrivateLabelledExpiresAndStaysOutOfTheCommentsIterator() async throws {
        // The sandbox's clock and the runs' (--now) agree, on a day of their own.
        let now = try #require(RFC3339.parse("2030-01-01T10:50:00Z"))
        try await withSandbox(clock: { now }) { sandbox in
            let directory = try ScriptDirectory()
            try directory.write("claim.lua", """
                --- @name watcher
                assert(incident.claim("INC-2", { window = "1h" }) == true)
                assert(incident.claim("INC-2", { window = "1h" }) == true, "the run still holds it")
                local n = 0
                for _ in incident.comments("INC-2") do n = n + 1 end
                print(n)
                """)
            let audit = directory.url.appendingPathComponent("audit.jsonl").path
            let result = try await run(["run", "claim.lua", "--now", "2030-01-01T10:50:00Z", "--audit-log", audit], sandbox, at: directory.url)
            #expect(result.status == 0, "\(result.standardError)")
            let claims = sandbox.comments(on: "INC-2").filter {
                guard case .object(let entry) = $0, case .string(let reference)? = entry["external_ref"] else { return false }
                return reference.hasPrefix("runbook-claim:")
            }
            try #require(claims.count == 1, "claimed once: \(sandbox.comments(on: "INC-2"))")
            guard case .object(let entry) = claims[0] else { return }
            #expect(entry["external_ref"] == .string("runbook-claim:watcher:2030-01-01T11:00:00Z/1h"), "the nearest hour to 10:50")
            #expect(entry["visibility"] == .string("private"))
            #expect(entry["labels"] == .array([.string("runbook-claim")]))
            let intent = try #require(try journal(audit).first { $0["event"] as? String == "intent" })
            let sent = try #require(intent["fields"] as? [String: Any])
            #expect(sent["expires_at"] as? String == "2030-01-01T12:30:00.000Z", "a window (1h) after its window ends (11:30)")
            let shown = try #require(Int(result.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)))
            #expect(shown == sandbox.comments(on: "INC-2").count - 1, "every comment but the claim")

            let other = try await run(["run", "claim.lua", "--now", "2030-01-01T11:20:00Z"], sandbox, at: directory.url)
            #expect(other.status == 1, "a second run in the same window does not hold the claim: \(other.standardError)")
            let later = try await run(["run", "claim.lua", "--now", "2030-01-01T11:40:00Z"], sandbox, at: directory.url)
            #expect(later.status == 0, "the next window is a new claim: \(later.standardError)")
        }
    }

    @Test func aLostAnswerToTheClaimIsTheRunsOwnClaim() async throws {
        // The first claim is committed, then its connection closes without an answer: the retry
        // meets 409, reads the entry, and finds this run's name in it.
        let faults = SandboxConfiguration.Faults(rate: 1, kinds: [.lost], operations: ["timeline-entries.create"], limit: 1)
        try await withSandbox(faults) { sandbox in
            let directory = try ScriptDirectory()
            try directory.write("one.lua", """
                --- @claim 15m
                local updated, why = incident.update{ id = "INC-2", title = "claimed after a lost answer" }
                print(updated and updated.title or why)
                """)
            let result = try await run(["run", "one.lua"], sandbox, at: directory.url)
            #expect(result.status == 0, "\(result.standardError)")
            #expect(result.standardOutput == "claimed after a lost answer\n")
        }
    }

    @Test func aDryRunPlansTheClaimsAndSeesAnotherRunsClaims() async throws {
        try await withSandbox { sandbox in
            let directory = try ScriptDirectory()
            try directory.write("escalate.lua", """
                --- @name retitle
                --- @claim 30m
                for inc in incident.list{ severity = {2} } do
                  if incident.update{ id = inc.display_id, title = inc.title .. " (seen)" } then
                    incident.comment(inc.display_id, "retitled")
                  end
                end
                """)
            let targets = sandbox.incidents().filter { $0.severity?.id == 2 }.count
            let before = sandbox.changeCount
            // One claim window for the three runs whatever the clock says (`--now`).
            let dry = try await run(["run", "escalate.lua", "--dry-run", "--now", "2029-06-01T12:00:00Z"], sandbox, at: directory.url)
            #expect(dry.status == 0, "\(dry.standardError)")
            #expect(sandbox.changeCount == before, "nothing sent")
            #expect(dry.standardOutput.components(separatedBy: "claim for this run's window (runbook-claim:retitle:").count - 1 == targets)
            #expect(dry.standardOutput.contains("dry run: \(2 * targets) changes planned, nothing sent"), "claims are not counted: \(dry.standardOutput)")

            let real = try await run(["run", "escalate.lua", "--now", "2029-06-01T12:00:01Z"], sandbox, at: directory.url)
            #expect(real.status == 0, "\(real.standardError)")
            let again = try await run(["run", "escalate.lua", "--dry-run", "--now", "2029-06-01T12:00:02Z"], sandbox, at: directory.url)
            #expect(again.status == 0, "\(again.standardError)")
            #expect(again.standardOutput.contains("claimed elsewhere: \(targets) incidents skipped, another run holds their claim"), "\(again.standardOutput)")
            #expect(again.standardOutput.contains("dry run: 0 changes planned"), "\(again.standardOutput)")
        }
    }

    @Test func maxChangesCountsTheChangesNotTheClaimsAndAnApplyFindsThemClaimedElsewhere() async throws {
        try await withSandbox { sandbox in
            let directory = try ScriptDirectory()
            try directory.write("close.lua", """
                --- @name close-one
                --- @claim 1h
                incident.update{ id = "INC-2", title = "closing at " .. runbook.date(runbook.now()) }
                incident.update{ id = "INC-3", title = "closing at " .. runbook.date(runbook.now()) }
                """)
            // Both runs in one window whatever the clock says (a window boundary between them
            // would give the second run claims of its own).
            let first = try await run(["run", "close.lua", "--max-changes", "2", "--output", "json", "--now", "2029-06-01T12:00:00Z"], sandbox, at: directory.url)
            #expect(first.status == 0, "\(first.standardError)")
            let applied = try #require(try report(first)["applied"] as? [String: Any])
            #expect(applied["summary"] as? String == "applied 2 of 2 planned changes; 2 claims taken")
            let second = try await run(["run", "close.lua", "--max-changes", "2", "--output", "json", "--now", "2029-06-01T12:00:05Z"], sandbox, at: directory.url)
            #expect(second.status == 0, "a claim held elsewhere is not a failure: \(second.standardError)")
            #expect(try report(second)["claimed_elsewhere"] as? [[String: Any]] != nil)
            #expect(second.standardError.contains("claimed elsewhere: 2 incidents skipped"), "\(second.standardError)")

            // A plan made in the next window, then another run that takes its claims first: the
            // apply sends neither claim nor change, and that is not a failure.
            let plan = directory.url.appendingPathComponent("close.plan.json").path
            let planned = try await run(["plan", "close.lua", "-o", plan, "--now", "2030-01-01T12:00:00Z"], sandbox, at: directory.url)
            #expect(planned.status == 0, "\(planned.standardError)")
            let racer = try await run(["run", "close.lua", "--now", "2030-01-01T12:10:00Z"], sandbox, at: directory.url)
            #expect(racer.status == 0, "\(racer.standardError)")
            let apply = try await run(["apply", plan], sandbox, at: directory.url)
            #expect(apply.status == 0, "\(apply.standardError)")
            #expect(apply.standardOutput.contains("applied 0 of 2 planned changes; 2 claimed elsewhere"), "\(apply.standardOutput)")
            #expect(sandbox.changes().filter { $0.operation == .update }.count == 4, "updated once in each window, by its first run")
        }
    }

    @Test func badClaimsEndWithAClearMessage() async throws {
        try await withSandbox { sandbox in
            let directory = try ScriptDirectory()
            try directory.write("window.lua", "--- @claim soon\nprint('never')\n")
            try directory.write("short.lua", "--- @claim 10s\nprint('never')\n")
            try directory.write("option.lua", "incident.claim('INC-2', { window = 'later' })\n")
            try directory.write("none.lua", "incident.claim('INC-2')\n")
            try directory.write("missing.lua", "incident.claim('INC-999', { window = '30m' })\n")
            let window = try await run(["run", "window.lua"], sandbox, at: directory.url)
            #expect(window.status == 65)
            #expect(window.standardError.contains("window.lua:1: @claim 'soon' is not a claim window: use a duration of at least 1m"), "\(window.standardError)")
            let short = try await run(["run", "short.lua"], sandbox, at: directory.url)
            #expect(short.status == 65, "\(short.standardError)")
            let option = try await run(["run", "option.lua"], sandbox, at: directory.url)
            #expect(option.status == 65, "\(option.standardError)")
            #expect(option.standardError.contains("'later' is not a claim window"), "\(option.standardError)")
            let none = try await run(["run", "none.lua"], sandbox, at: directory.url)
            #expect(none.status == 65, "\(none.standardError)")
            #expect(none.standardError.contains("no window: declare --- @claim WINDOW"), "\(none.standardError)")
            let missing = try await run(["run", "missing.lua"], sandbox, at: directory.url)
            #expect(missing.status == 1, "\(missing.standardError)")
            #expect(missing.standardError.contains("INC-999"), "\(missing.standardError)")
        }
    }
}
