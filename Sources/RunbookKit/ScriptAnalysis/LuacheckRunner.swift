import Foundation
import LuaRuntime

/// Runs luacheck (when it is on PATH) over scripts with the runbook standard, for `runbook check`.
/// Its findings come back as lines in check's own format: `escalate.lua:12: accessing undefined
/// field 'updte' of global 'incident' (luacheck W143)`. Reads of undefined globals are left out:
/// check reports those itself.
struct LuacheckRunner {
    let executable: String
    /// The `.luacheckrc` text with the runbook standard.
    let configuration: String

    /// The luacheck executable on PATH, if any.
    static var executable: String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for directory in path.split(separator: ":") where !directory.isEmpty {
            let candidate = "\(directory)/luacheck"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// A runner with the standard described; nil when luacheck is not installed.
    static func prepare() async -> LuacheckRunner? {
        guard let executable, let configuration = try? await LuacheckStandard.configuration() else { return nil }
        return LuacheckRunner(executable: executable, configuration: configuration)
    }

    /// Findings, one line each: runbooks with the runbook standard, test files (`*_test.lua`)
    /// with the test standard. Runs on a thread of its own.
    func findings(in paths: [String]) async -> [String] {
        let tests = paths.filter(GlobalLint.isTestFile)
        let scripts = paths.filter { !GlobalLint.isTestFile($0) }
        return await findings(in: scripts, standard: "runbook") + findings(in: tests, standard: "runbook_test")
    }

    private func findings(in paths: [String], standard: String) async -> [String] {
        guard !paths.isEmpty else { return [] }
        let (executable, configuration) = (executable, configuration)
        return await LuaThread.run { () -> [String] in
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("runbook-luacheck-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: directory) }
            let config = directory.appendingPathComponent("luacheckrc")
            do {
                try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
                try Data(configuration.utf8).write(to: config)
            } catch {
                return ["runbook: cannot write luacheck's configuration: \(error.localizedDescription)"]
            }
            let process = Process()
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = ["--config", config.path, "--std", standard, "--formatter", "plain", "--codes", "--no-color", "--"] + paths
            let output = Pipe()
            process.standardOutput = output
            process.standardError = FileHandle.nullDevice
            process.standardInput = FileHandle.nullDevice
            do {
                try process.run()
            } catch {
                return ["runbook: cannot run luacheck: \(error.localizedDescription)"]
            }
            let data = output.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return String(decoding: data, as: UTF8.self).split(separator: "\n").compactMap(Self.line)
        }
    }

    /// `file:line:col: (W143) message` as check writes it; nil for a finding check makes itself.
    static func line(_ text: Substring) -> String? {
        guard let match = text.firstMatch(of: #/^(.+?):(\d+):(\d+): \(([EW]\d+)\) (.*)$/#) else { return String(text) }
        let code = match.4
        guard code != "W113" else { return nil }
        return "\(match.1):\(match.2): \(match.5) (luacheck \(code))"
    }
}
