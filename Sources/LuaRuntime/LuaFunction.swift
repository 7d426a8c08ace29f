import CLua
import CLuaBridge

/// A Swift function callable from Lua.
///
/// The body receives the call's arguments and returns its results. An error it throws becomes a
/// Lua error raised at the calling line, catchable with `pcall`: a `LuaRaisableError` becomes
/// its table (with `__tostring` giving its description), any other error its description.
public final class LuaFunction {
    public typealias Body = (inout LuaCall) throws -> [LuaValue]
    /// A body that pushes its results as it makes them (see `LuaResults`).
    public typealias ResultsBody = (inout LuaCall, inout LuaResults) throws -> Void

    let name: String
    let body: ResultsBody

    public init(name: String, _ body: @escaping Body) {
        self.name = name
        self.body = { call, results in
            for value in try body(&call) { try results.push(value) }
        }
    }

    public init(name: String, results body: @escaping ResultsBody) {
        self.name = name
        self.body = body
    }

    /// Runs the body for a call from Lua. Returns the number of results pushed, or one of the
    /// RB_CALL_* codes for the trampoline.
    func invoke(_ state: OpaquePointer) -> Int32 {
        var call = LuaCall(state: state, functionName: name)
        var results = LuaResults(state: state)
        let writer = LuaStackWriter(state: state)
        do {
            try body(&call, &results)
            return results.count
        } catch {
            lua_settop(state, results.base)
            guard lua_checkstack(state, 4) != 0 else { return RB_CALL_NOSTACK }
            switch error {
            case LuaResultError.noStack:
                return RB_CALL_NOSTACK
            case LuaResultError.nestedTooDeeply:
                writer.pushString("\(name): a result could not be passed to Lua (nested too deeply)")
            case let raisable as LuaRaisableError where writer.push(raisable.luaErrorValue):
                if lua_type(state, -1) == LUA_TTABLE {
                    writer.pushString(raisable.luaErrorDescription)
                    rb_set_error_description(state)
                }
            default:
                writer.pushString(String(describing: error))
            }
            return RB_CALL_ERROR
        }
    }
}

/// Reading a name a module table does not hold: `incident.updaet does not exist; did you mean
/// incident.update?`.
struct LuaModuleMemberError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}

/// An error that reaches Lua as a value (usually a table) rather than as a message string.
public protocol LuaRaisableError: Error {
    /// The value `pcall` returns as the error.
    var luaErrorValue: LuaValue { get }
    /// What `tostring` of that value says.
    var luaErrorDescription: String { get }
}

/// The arguments of one call from Lua into Swift. Valid only during that call.
public struct LuaCall {
    let state: OpaquePointer
    public let functionName: String

    init(state: OpaquePointer, functionName: String) {
        self.state = state
        self.functionName = functionName
    }

    /// How many arguments the call passed.
    public var argumentCount: Int { Int(lua_gettop(state)) }

    /// The Lua type name of argument `position` (1-based); "no value" past the last one.
    public func typeName(at position: Int) -> String {
        let type = lua_type(state, Int32(position))
        return type == LUA_TNONE ? "no value" : String(cString: lua_typename(state, type))
    }

    /// Argument `position` (1-based) converted to a `LuaValue`; `.nil` when absent.
    /// Errors name the argument (`root`, or "argument #N") and the path inside it.
    public func value(at position: Int, named root: String? = nil) throws(LuaConversionError) -> LuaValue {
        var reader = LuaStackReader(state: state, root: root ?? "argument #\(position)", countsAgainstMemoryLimit: true)
        return try reader.read(at: Int32(position))
    }

    /// The chunk and line the Lua code `level` calls up is at: level 1 is the function that
    /// called this Swift function, 2 its caller. Nil past the top of the stack, or for a C function.
    public func location(level: Int) -> (chunk: String, line: Int)? {
        var record = lua_Debug()
        guard lua_getstack(state, Int32(clamping: level), &record) != 0, lua_getinfo(state, "Sl", &record) != 0,
              record.currentline > 0, let source = record.source
        else { return nil }
        var chunk = String(cString: source)
        if chunk.hasPrefix("@") || chunk.hasPrefix("=") { chunk.removeFirst() }
        return (chunk, Int(record.currentline))
    }

    /// Bytes the VM may still allocate before its memory limit trips; nil without a limit. Host
    /// work for the script that grows with its input (decoding a text it passed) stays within it.
    public var memoryHeadroom: Int? {
        let headroom = rb_memory_headroom(state)
        return headroom == UInt.max ? nil : Int(clamping: headroom)
    }

    /// Trips the memory limit: host work for the script needed more than `memoryHeadroom`. The
    /// script stops with the memory limit's error as soon as the call returns; it cannot catch it.
    public func exceedMemoryLimit() {
        rb_trip_memory_from_host(state)
    }

    /// The string keys of the table at argument `position`, read raw (no metamethods run).
    public func stringKeys(at position: Int) -> [String] {
        var keys: [String] = []
        let index = Int32(position)
        guard lua_type(state, index) == LUA_TTABLE, lua_checkstack(state, 3) != 0 else { return keys }
        lua_pushnil(state)
        while lua_next(state, index) != 0 {
            var length = 0
            if lua_type(state, -2) == LUA_TSTRING, let pointer = rb_tolstring_raw(state, -2, &length) {
                keys.append(String(decoding: UnsafeRawBufferPointer(start: pointer, count: length), as: UTF8.self))
            }
            rb_pop(state, 1)
        }
        return keys
    }

    /// All arguments converted.
    public func values() throws(LuaConversionError) -> [LuaValue] {
        var values: [LuaValue] = []
        for position in 0..<argumentCount {
            values.append(try value(at: position + 1))
        }
        return values
    }
}
