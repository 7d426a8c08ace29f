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
    static func globals() async throws(LuaScriptError) -> [(name: String, fields: [String: Bool]?)] {
        let outcome: Result<String, LuaScriptError> = await LuaThread.run {
            do throws(LuaScriptError) {
                let runtime = try LuaRuntime(options: LuaRuntimeOptions())
                // Never used: describing the environment calls nothing.
                let settings = DevRevConnection.Settings(
                    baseURL: try! BaseURL("http://127.0.0.1:9"), token: nil, logger: Logger(label: "runbook.luacheck"))
                let log = RunLog(runID: "luacheck", script: "luacheck", threshold: .error, json: false, write: { _ in })
                let environment = ScriptEnvironment(log: log, connection: DevRevConnection(settings: settings, deadline: nil, journal: nil))
                try environment.install(into: runtime)
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

    /// A `.luacheckrc` defining `stds.runbook` and making it the standard.
    public static func configuration() async throws(LuaScriptError) -> String {
        var text = """
            -- The luacheck standard of runbook \(RunbookVersion.number): the globals a runbook script gets, all read-only.
            -- Written by runbook from the runtime itself; do not edit (run the command that wrote it again instead).
            stds.runbook = {
              read_globals = {

            """
        for (name, fields) in try await globals() {
            guard let fields else {
                text += "    \(name) = {},\n"
                continue
            }
            let members = fields.keys.sorted().map { field in
                "\(field) = \(fields[field] == true ? "{ other_fields = true }" : "{}")"
            }
            text += "    \(name) = { fields = { \(members.joined(separator: ", ")) } },\n"
        }
        text += """
              },
            }
            std = "runbook"
            max_line_length = false

            """
        return text
    }
}
