import LuaRuntime

/// The `runbook` table scripts see: the run's parameters and facts about the run.
enum RunbookModule {
    static func make(arguments: [ScriptArgument]) -> LuaModule {
        var args: [String: LuaValue] = [:]
        for argument in arguments {
            args[argument.key] = .string(LuaString(argument.value))
        }
        return LuaModule(name: "runbook", values: ["args": args.isEmpty ? .emptyTable : .object(args)])
    }
}
