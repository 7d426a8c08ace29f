import DevRevAPI
import Logging
import LuaRuntime

/// A luacheck configuration for runbooks: the `runbook` standard, read from the environment a
/// script really gets (the allow-listed Lua library and runbook's tables, with their fields), so it
/// cannot drift from the runtime. With it, luacheck flags `incident.updte` (an undefined field of a
/// read-only global), a write to a global, and everything else it checks in plain Lua.
public enum LuacheckStandard {
    /// The globals of a script's environment, each with its fields when it is a table (nested
    /// tables of a module, such as `runbook.args`, hold fields of their own).
    /// Whose globals: a runbook's, or a test file's (`runbook test`).
    enum Environment: Sendable {
        case runbook, test
    }

    static func globals(of kind: Environment = .runbook) async throws(LuaScriptError) -> [(name: String, fields: [String: Bool]?)] {
        let outcome: Result<String, LuaScriptError> = await LuaThread.run {
            do throws(LuaScriptError) {
                let runtime = try LuaRuntime(options: LuaRuntimeOptions())
                switch kind {
                case .runbook:
                    // Never used: describing the environment calls nothing.
                    let settings = DevRevConnection.Settings(
                        baseURL: try! BaseURL("http://127.0.0.1:9"), token: nil, logger: Logger(label: "runbook.luacheck"))
                    let log = RunLog(runID: "luacheck", script: "luacheck", threshold: .error, json: false, write: { _ in })
                    let environment = ScriptEnvironment(log: log, connection: DevRevConnection(settings: settings, deadline: nil, journal: nil))
                    try environment.install(into: runtime)
                case .test:
                    TestFile.install(into: runtime, context: TestCaseContext(
                        testFile: "luacheck_test.lua", workDirectory: "", deadline: .now, updateGolden: false))
                    try runtime.run(source: Array(TestPrelude.source.utf8), chunkName: TestPrelude.chunkName)
                }
                let results = try runtime.run(source: Array(describeEnvironment.utf8), chunkName: "=runbook environment")
                return .success(results.first?.stringValue ?? "")
            } catch {
                return .failure(error)
            }
        }
        let description = try outcome.get()
        return description.split(separator: "\n").map { line in
            let parts = line.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2 else { return (String(line), nil) }
            var fields: [String: Bool] = [:]
            for field in parts[1].split(separator: ",") {
                let nested = field.hasSuffix("*")
                fields[String(nested ? field.dropLast() : field)] = nested
            }
            return (String(parts[0]), fields)
        }
    }

    /// Lists `_G` as `name` or `name:field,field*` (a `*` marks a field that is itself a table).
    private static let describeEnvironment = """
        local lines = {}
        for name, value in pairs(_G) do
          if type(name) == "string" then
            if type(value) == "table" and name ~= "_G" then
              local fields = {}
              for key, item in pairs(value) do
                if type(key) == "string" then fields[#fields + 1] = key .. (type(item) == "table" and "*" or "") end
              end
              -- A test file's assert is a callable table that finds its checks through __index.
              local found, host = pcall(require, "\(TestPrelude.hostModule)")
              if name == "assert" and found then
                for _, check in ipairs(host.assertion_names()) do fields[#fields + 1] = check end
              end
              table.sort(fields)
              lines[#lines + 1] = name .. ":" .. table.concat(fields, ",")
            else
              lines[#lines + 1] = name
            end
          end
        end
        table.sort(lines)
        return table.concat(lines, "\\n")
        """

    /// A `.luacheckrc` defining `stds.runbook` and `stds.runbook_test`, with the first the
    /// standard and the second that of test files (`*_test.lua`).
    public static func configuration() async throws(LuaScriptError) -> String {
        var text = """
            -- The luacheck standards of runbook \(RunbookVersion.number): the globals a runbook script gets, and those
            -- of a test file (runbook test), all read-only.
            -- Written by runbook from the runtime itself; do not edit (run the command that wrote it again instead).

            """
        text += try await standard(named: "runbook", of: .runbook)
        text += try await standard(named: "runbook_test", of: .test)
        text += """
            std = "runbook"
            files["**/*_test.lua"] = { std = "runbook_test" }
            exclude_files = { ".runbook/**" }
            max_line_length = false

            """
        return text
    }

    private static func standard(named name: String, of kind: Environment) async throws(LuaScriptError) -> String {
        var text = """
            stds.\(name) = {
              read_globals = {

            """
        for (name, fields) in try await globals(of: kind) {
            guard let fields else {
                text += "    \(name) = {},\n"
                continue
            }
            let members = fields.keys.sorted().map { field in
                "\(field) = \(fields[field] == true ? "{ other_fields = true }" : "{}")"
            }
            text += "    \(name) = { fields = { \(members.joined(separator: ", ")) } },\n"
        }
        return text + "  },\n}\n"
    }
}
