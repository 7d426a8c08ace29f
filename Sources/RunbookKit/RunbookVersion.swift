import LuaRuntime

/// The version of this build of runbook.
public enum RunbookVersion {
    public static let number = "0.1.0"
    public static var description: String { "runbook \(number) (\(LuaRuntime.luaVersion))" }
}
