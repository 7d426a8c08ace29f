import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Files an attacker or an accident can put in runbook's way: scripts that are not files, modules
/// that lead elsewhere, journals another user chose, journals a stopped run left torn.
@Suite("Hostile and damaged files")
struct HostileFilesTests {
    @Test(arguments: ["/dev/zero", "/dev/null", "/tmp"])
    func aScriptThatIsNotARegularFileIsRefused(_ path: String) async throws {
        for command in [["run", path], ["check", path], ["describe", path]] {
            let result = try await RunbookBinary.run(command)
            #expect(result.status == 64, "\(command): \(result.standardError)")
            #expect(result.standardError.contains("cannot read \(path): "), "\(command): \(result.standardError)")
        }
    }

    @Test func aFIFOIsRefusedWithoutWaitingForAWriter() async throws {
        let scripts = try ScriptDirectory()
        let fifo = scripts.url.appendingPathComponent("pipe.lua").path
        #expect(mkfifo(fifo, 0o600) == 0)
        let result = try await RunbookBinary.run(["run", fifo])
        #expect(result.status == 64)
        #expect(result.standardError.contains("not a regular file"))
    }

    @Test func scriptsAndModulesLargerThan4MiBAreRefused() async throws {
        let scripts = try ScriptDirectory()
        let big = "-- " + String(repeating: "x", count: 4 * 1024 * 1024) + "\n"
        try scripts.write("big.lua", big)
        try scripts.write("uses_big.lua", "require('big')")
        let direct = try await RunbookBinary.run(["run", "big.lua"], directory: scripts.url)
        #expect(direct.status == 64)
        #expect(direct.standardError.contains("larger than 4 MiB"))
        let required = try await RunbookBinary.run(["run", "uses_big.lua"], directory: scripts.url)
        #expect(required.status == 1)
        #expect(required.standardError.contains("module 'big'"))
        #expect(required.standardError.contains("larger than 4 MiB"))
    }

    @Test func requireNeverFollowsALinkOutOfItsDirectory() async throws {
        let scripts = try ScriptDirectory()
        let outside = try ScriptDirectory()
        try outside.write("secret.lua", "return 'the secret itself'")
        try FileManager.default.createSymbolicLink(
            atPath: scripts.url.appendingPathComponent("leak.lua").path, withDestinationPath: outside.url.appendingPathComponent("secret.lua").path)
        try FileManager.default.createSymbolicLink(atPath: scripts.url.appendingPathComponent("environ.lua").path, withDestinationPath: "/proc/self/environ")
        try FileManager.default.createDirectory(at: scripts.url.appendingPathComponent("lib"), withIntermediateDirectories: true)
        try scripts.write("lib/real.lua", "return 'inside'")
        try FileManager.default.createSymbolicLink(
            atPath: scripts.url.appendingPathComponent("alias.lua").path, withDestinationPath: scripts.url.appendingPathComponent("lib/real.lua").path)
        try scripts.write("main.lua", """
            print((require('alias')))
            print(pcall(require, 'leak'))
            print(pcall(require, 'environ'))
            """)
        let token = "devrev-token-not-for-modules"
        let result = try await RunbookBinary.run(["run", "main.lua"], environment: ["DEVREV_TOKEN": token], directory: scripts.url)
        #expect(result.status == 0, "\(result.standardError)")
        let lines = result.standardOutput.split(separator: "\n").map(String.init)
        #expect(lines.first == "inside", "a link that stays inside is fine")
        #expect(lines.count == 3)
        #expect(lines.dropFirst().allSatisfy { $0.hasPrefix("false\t") && $0.contains("leads outside its directory") }, "\(lines)")
        #expect(!result.standardOutput.contains("the secret itself"))
        #expect(!(result.standardOutput + result.standardError).contains(token))
    }

    /// A journal path another user prepared must not decide where runbook appends.
    @Test func aJournalThatIsASymlinkOrInADirectoryOthersWriteIsRefused() async throws {
        let scripts = try ScriptDirectory()
        try scripts.write("change.lua", "incident.update{ id = 'INC-1', severity = 1 }")
        let state = try ScriptDirectory()
        let victim = state.url.appendingPathComponent("victim.txt").path
        try "untouched\n".write(toFile: victim, atomically: true, encoding: .utf8)
        let link = state.url.appendingPathComponent("audit.jsonl").path
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: victim)
        let linked = try await RunbookBinary.run(["run", "change.lua", "--sandbox", "--audit-log", link], directory: scripts.url)
        #expect(linked.status == 78, "\(linked.standardError)")
        #expect(linked.standardError.contains("it is a symbolic link"))
        #expect(!linked.standardError.contains("(choose another with --audit-log)"), "the path was chosen with --audit-log")
        #expect(try String(contentsOfFile: victim, encoding: .utf8) == "untouched\n")

        let open = state.url.appendingPathComponent("shared")
        try FileManager.default.createDirectory(at: open, withIntermediateDirectories: true)
        chmod(open.path, 0o777)
        let shared = try await RunbookBinary.run(
            ["run", "change.lua", "--sandbox", "--audit-log", open.appendingPathComponent("audit.jsonl").path], directory: scripts.url)
        #expect(shared.status == 78)
        #expect(shared.standardError.contains("is writable by other users"))

        chmod(open.path, 0o1777)
        let sticky = try await RunbookBinary.run(
            ["run", "change.lua", "--sandbox", "--audit-log", open.appendingPathComponent("audit.jsonl").path], directory: scripts.url)
        #expect(sticky.status == 0, "a sticky directory of this user's is fine: \(sticky.standardError)")
    }

    @Test func aTornLastRecordIsReportedAndTheNextRunStartsANewLine() async throws {
        let scripts = try ScriptDirectory()
        try scripts.write("change.lua", "incident.update{ id = 'INC-1', severity = 1 }")
        let state = try ScriptDirectory()
        let journal = state.url.appendingPathComponent("audit.jsonl").path
        let torn = #"{"event":"intent","operation":"incidents.up"#
        try (#"{"event":"outcome"}"# + "\n" + torn).write(toFile: journal, atomically: true, encoding: .utf8)
        chmod(journal, 0o600)
        let result = try await RunbookBinary.run(["run", "change.lua", "--sandbox", "--audit-log", journal], directory: scripts.url)
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.standardError.contains("ended in an unfinished record"))
        let lines = try String(contentsOfFile: journal, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines[1] == Substring(torn), "the torn record is left as it was")
        let appended = lines.dropFirst(2).filter { !$0.isEmpty }
        #expect(appended.count == 2)
        for line in appended { #expect((try? JSONSerialization.jsonObject(with: Data(line.utf8))) != nil, "\(line)") }
        let again = try await RunbookBinary.run(["run", "change.lua", "--sandbox", "--audit-log", journal], directory: scripts.url)
        #expect(!again.standardError.contains("unfinished record"), "reported once, when it was found")
    }
}
