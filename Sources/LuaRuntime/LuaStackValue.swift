import CLua
import CLuaBridge

/// A value on the Lua stack during a Swift function's call, read where it is: nothing is copied
/// until the reader asks for it. The counterpart of `LuaResults` for arguments: a host that turns
/// a script's table into something other than a `LuaValue` (JSON bytes, say) walks it in place,
/// without a tree in between.
///
/// Valid only inside the call, or the closure, that handed it out: a table's entries and items
/// sit in stack slots that are reused as soon as the closure returns. Every read uses API
/// functions that cannot raise (the same as `LuaStackReader`), and no metamethod runs.
public struct LuaStackValue {
    public enum Kind: Equatable {
        case none
        case `nil`
        case boolean
        case integer
        case number
        case string
        case table
        /// `json.null`.
        case null
        /// A function, a userdata, a thread: nothing a host can convert.
        case other
    }

    let state: OpaquePointer
    /// Absolute.
    let index: Int32

    init(state: OpaquePointer, index: Int32) {
        self.state = state
        self.index = lua_absindex(state, index)
    }

    public var kind: Kind {
        switch lua_type(state, index) {
        case LUA_TNONE: .none
        case LUA_TNIL: .nil
        case LUA_TBOOLEAN: .boolean
        case LUA_TNUMBER: lua_isinteger(state, index) != 0 ? .integer : .number
        case LUA_TSTRING: .string
        case LUA_TTABLE: .table
        case LUA_TLIGHTUSERDATA where lua_touserdata(state, index) == rb_null_sentinel(): .null
        default: .other
        }
    }

    /// The value read as `LuaStackReader` converts a boolean (false for anything else).
    public var boolean: Bool { lua_toboolean(state, index) != 0 }

    /// An integer's value (0 for anything else).
    public var integer: Int64 { lua_tointegerx(state, index, nil) }

    /// A number's value, integers included (0 for anything else).
    public var number: Double { lua_tonumberx(state, index, nil) }

    /// A string's bytes, valid while the value is on the stack; nil for anything but a string
    /// (a number is never converted in place).
    public var bytes: UnsafeRawBufferPointer? {
        guard lua_type(state, index) == LUA_TSTRING else { return nil }
        var length = 0
        guard let pointer = rb_tolstring_raw(state, index, &length) else { return nil }
        return UnsafeRawBufferPointer(start: pointer, count: length)
    }

    /// A table's border (`#t` without metamethods); 0 for anything but a table.
    public var length: Int {
        lua_type(state, index) == LUA_TTABLE ? Int(lua_rawlen(state, index)) : 0
    }

    /// Whether a table is marked as an empty array (`json.array()`).
    public var isMarkedArray: Bool {
        lua_type(state, index) == LUA_TTABLE && rb_has_array_marker(state, index) != 0
    }

    /// Whether this is a table without a single entry (false for anything else, and when the
    /// stack cannot grow).
    public var isEmptyTable: Bool {
        guard lua_type(state, index) == LUA_TTABLE, lua_checkstack(state, 2) != 0 else { return false }
        lua_pushnil(state)
        guard lua_next(state, index) != 0 else { return true }
        rb_pop(state, 2)
        return false
    }

    /// Calls `body` with each key and value of a table, in table order (raw: no `__pairs`).
    /// False when the stack cannot grow (nothing was read); true for anything but a table
    /// (nothing to read). A body that throws ends the walk with the stack as it was.
    public func forEachEntry<Failure: Error>(_ body: (_ key: LuaStackValue, _ value: LuaStackValue) throws(Failure) -> Void) throws(Failure) -> Bool {
        guard lua_type(state, index) == LUA_TTABLE else { return true }
        guard lua_checkstack(state, 3) != 0 else { return false }
        lua_pushnil(state)
        while lua_next(state, index) != 0 {
            let top = lua_gettop(state)
            do {
                try body(LuaStackValue(state: state, index: top - 1), LuaStackValue(state: state, index: top))
            } catch {
                lua_settop(state, top - 2)
                throw error
            }
            lua_settop(state, top - 1)
        }
        return true
    }

    /// Calls `body` with item `position` of a table (raw: no `__index`); nil when the stack
    /// cannot grow or this is no table.
    public func withItem<Result, Failure: Error>(_ position: Int, _ body: (LuaStackValue) throws(Failure) -> Result) throws(Failure) -> Result? {
        guard lua_type(state, index) == LUA_TTABLE, lua_checkstack(state, 2) != 0 else { return nil }
        lua_rawgeti(state, index, Int64(position))
        defer { rb_pop(state, 1) }
        return try body(LuaStackValue(state: state, index: -1))
    }

    /// What `LuaCall.value(at:)` counts one value as against the memory limit, besides the bytes
    /// of a string and of a table's string keys: a host walking a value itself counts the same.
    public static let conversionCost = LuaStackReader.valueCost

    /// How deep `LuaCall.value(at:)` reads nested tables; deeper ones are refused.
    public static let maximumDepth = LuaStackReader.maximumDepth

    /// The value converted to a `LuaValue` as `LuaCall.value(at:)` converts an argument, for a
    /// value found `depth` tables deep in an argument the host is walking: tables nested past
    /// `LuaStackReader.maximumDepth` from the argument are refused. The memory it may take is drawn
    /// from `budget` (nil: not counted); past it, the VM's memory limit trips and the conversion
    /// fails, as it does for an argument.
    public func read(root: String, depth: Int, budget: inout Int?) throws(LuaConversionError) -> LuaValue {
        var reader = LuaStackReader(state: state, root: root, depth: depth, budget: budget)
        defer { budget = reader.budget }
        return try reader.read(at: index)
    }
}

extension LuaCall {
    /// Argument `position` (1-based), to be read in place; its kind is `.none` when absent.
    public func stackValue(at position: Int) -> LuaStackValue {
        LuaStackValue(state: state, index: Int32(position))
    }
}
