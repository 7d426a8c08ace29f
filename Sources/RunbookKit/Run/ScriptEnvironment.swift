import DevRevAPI
import LuaRuntime

/// The host's part of what a script sees: the `runbook`, `json`, `log`, `incident` and `devrev`
/// tables, with the prelude that adds the iterators. One place installs them, for runs and for
/// the descriptions editors and linters get of the environment (`LuacheckStandard`).
struct ScriptEnvironment {
    var args: [String: LuaValue] = [:]
    var clock = RunClock(frozen: nil)
    var runID = "run"
    var dryRun = false
    var log: RunLog
    var connection: DevRevConnection
    var scope = MutationScope(declared: nil)

    func install(into runtime: LuaRuntime) throws(LuaScriptError) {
        runtime.register(RunbookModule.make(args: args, clock: clock, runID: runID, dryRun: dryRun))
        runtime.register(JSONModule.make())
        runtime.register(LogModule.make(log: log))
        for module in IncidentModule.make(connection: connection, scope: scope, runID: runID) { runtime.register(module) }
        runtime.register(DevRevModule.make(connection: connection, scope: scope))
        try runtime.run(source: Array(IncidentModule.prelude.utf8), chunkName: "=runbook prelude")
        runtime.unregister(IncidentModule.internalModule)
    }
}
