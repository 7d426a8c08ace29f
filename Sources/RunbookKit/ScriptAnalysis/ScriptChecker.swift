import Foundation
import LuaRuntime

/// `runbook check`: compiles scripts without running them.
public enum ScriptChecker {
    /// Checks every script: it compiles, its declarations parse, it reads no global that nothing
    /// defines, and the same for every module it requires by a literal name (found as `require`
    /// finds it: the script's directory, then `searchPaths`). Reports each problem on standard
    /// error and each success on standard output. Returns 0 when all pass, 65 when any does not,
    /// 64 when a script cannot be read.
    public static func check(_ paths: [String], searchPaths: [String] = [], output: RunnerOutput = .process) async -> ExitStatus {
        var status = ExitStatus.success
        // The standard is the same for every script: described once (it starts a VM).
        let luacheck = await LuacheckRunner.prepare()
        for path in paths {
            let (problems, files) = await LuaThread.run { () -> ([LuaScriptError], [String]) in
                var checker = Checker(searchPaths: searchPaths)
                checker.check(script: path)
                return (checker.problems, checker.compiled)
            }
            // luacheck, when installed, with the runbook standard: what the VM would only find
            // when the line runs (an undefined field of a module, a write to a global).
            let lint = await luacheck?.findings(in: files) ?? []
            if problems.isEmpty && lint.isEmpty {
                output.write("\(path): ok\n")
                continue
            }
            for problem in problems {
                output.standardError("\(problem.kind == .unreadable ? "runbook: " : "")\(problem.message)\n")
                let failure = ScriptRunner.exitStatus(for: problem)
                if status == .success || failure == .usage { status = failure }
            }
            for finding in lint {
                output.standardError(finding + "\n")
                if status == .success { status = .dataError }
            }
        }
        return status
    }

    private struct Checker {
        let searchPaths: [String]
        var problems: [LuaScriptError] = []
        var visited: Set<String> = []
        /// The files that compiled (the script and the modules it requires), for luacheck.
        var compiled: [String] = []

        init(searchPaths: [String]) {
            self.searchPaths = searchPaths
        }

        mutating func check(script path: String) {
            guard let source = read(path) else { return }
            guard compile(source, path: path) else { return }
            do throws(ScriptDeclarations.Failure) {
                _ = try ScriptDeclarations.parse(source, path: path)
            } catch {
                problems.append(LuaScriptError(kind: .syntax, message: error.description))
            }
            lint(source, path: path)
            follow(source, from: path, roots: [LuaRuntime.directory(of: path)] + searchPaths)
        }

        private mutating func read(_ path: String) -> [UInt8]? {
            do throws(LuaScriptError) {
                return try LuaRuntime.read(file: path)
            } catch {
                problems.append(error)
                return nil
            }
        }

        private mutating func compile(_ source: [UInt8], path: String) -> Bool {
            do throws(LuaScriptError) {
                try LuaRuntime(options: LuaRuntimeOptions()).check(source: source, chunkName: path)
                if path != "-" { compiled.append(path) }
                return true
            } catch {
                problems.append(error)
                return false
            }
        }

        private mutating func lint(_ source: [UInt8], path: String) {
            for finding in GlobalLint.findings(in: source, testFile: GlobalLint.isTestFile(path)) {
                problems.append(LuaScriptError(kind: .syntax, message: "\(path):\(finding.line): reads the undefined global '\(finding.name)'"))
            }
        }

        private static func realPath(_ path: String) -> String {
            guard let resolved = realpath(path, nil) else { return path }
            defer { free(resolved) }
            return String(cString: resolved)
        }

        /// Checks the modules `source` requires, depth first, each file once.
        private mutating func follow(_ source: [UInt8], from path: String, roots: [String]) {
            for (name, line) in GlobalLint.requiredModules(in: source) where !GlobalLint.knownGlobals.contains(name) {
                let relative = name.replacingOccurrences(of: ".", with: "/") + ".lua"
                let candidates = roots.map { $0.hasSuffix("/") ? $0 + relative : $0 + "/" + relative }
                guard let module = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) else {
                    problems.append(LuaScriptError(
                        kind: .syntax,
                        message: "\(path):\(line): require('\(name)') finds no module: tried \(candidates.joined(separator: ", "))"))
                    continue
                }
                guard visited.insert(Self.realPath(module)).inserted else { continue }
                let moduleSource: [UInt8]
                do throws(LuaScriptError) {
                    moduleSource = try LuaRuntime.read(file: module)
                } catch {
                    // A bad module is a bad script (65): the script itself was readable.
                    problems.append(LuaScriptError(kind: .syntax, message: "\(path):\(line): \(error.message)"))
                    continue
                }
                guard compile(moduleSource, path: module) else { continue }
                lint(moduleSource, path: module)
                follow(moduleSource, from: module, roots: roots)
            }
        }
    }
}
