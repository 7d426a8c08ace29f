import CLua
import CLuaBridge

/// The results of a Swift function called from Lua, pushed onto the Lua stack as they are made.
///
/// A result is either a whole `LuaValue`, or a table built in place: `beginTable`, then for each
/// field its key (`pushString`) and its value followed by `setField()`, or for each item its value
/// followed by `setItem(_:)`, then `endTable()`. Building in place lets a host value that is not a
/// `LuaValue` (a decoded JSON document, say) reach Lua without a second tree in between.
///
/// Every push happens while the host has control, so none can raise (see `LuaStackWriter`). A
/// body that throws leaves whatever it pushed behind: the call's results are reset before its
/// error is raised.
public struct LuaResults {
    let state: OpaquePointer
    let base: Int32
    private var openTables = 0

    init(state: OpaquePointer) {
        self.state = state
        self.base = lua_gettop(state)
    }

    /// Results pushed so far (a table being built counts once it is begun).
    var count: Int32 { lua_gettop(state) - base }

    /// Pushes `value` as one result, or as the value of the field or item being built.
    public mutating func push(_ value: LuaValue) throws(LuaResultError) {
        try reserve()
        guard LuaStackWriter(state: state).push(value, depth: openTables) else { throw .nestedTooDeeply }
    }

    public mutating func pushNil() throws(LuaResultError) {
        try reserve()
        lua_pushnil(state)
    }

    public mutating func pushBoolean(_ flag: Bool) throws(LuaResultError) {
        try reserve()
        lua_pushboolean(state, flag ? 1 : 0)
    }

    public mutating func pushInteger(_ integer: Int64) throws(LuaResultError) {
        try reserve()
        lua_pushinteger(state, integer)
    }

    public mutating func pushNumber(_ number: Double) throws(LuaResultError) {
        try reserve()
        lua_pushnumber(state, number)
    }

    /// `json.null`.
    public mutating func pushNull() throws(LuaResultError) {
        try reserve()
        lua_pushlightuserdata(state, rb_null_sentinel())
    }

    /// A string, from the text's UTF-8 bytes (not copied on the Swift side when the string is native).
    public mutating func pushString(_ text: String) throws(LuaResultError) {
        try reserve()
        var text = text
        text.withUTF8 { bytes in
            bytes.withMemoryRebound(to: CChar.self) { chars in
                _ = lua_pushlstring(state, chars.baseAddress, chars.count)
            }
        }
    }

    /// A string of bytes (any bytes: Lua strings are not text).
    public mutating func pushString(bytes: UnsafeRawBufferPointer) throws(LuaResultError) {
        try reserve()
        _ = lua_pushlstring(state, bytes.baseAddress?.assumingMemoryBound(to: CChar.self), bytes.count)
    }

    /// Where the results stand: `discard(since:)` comes back to it.
    public struct Mark {
        fileprivate let top: Int32
        fileprivate let openTables: Int
    }

    public var mark: Mark { Mark(top: lua_gettop(state), openTables: openTables) }

    /// Drops everything pushed since `mark`, tables being built included: a host that gave up
    /// building results one way makes them another.
    public mutating func discard(since mark: Mark) {
        lua_settop(state, mark.top)
        openTables = mark.openTables
    }

    /// Begins a table with room for `items` array items and `fields` other fields. `emptyArray`
    /// marks it as an empty array (as `json.array()` does), so that it encodes as `[]`.
    public mutating func beginTable(items: Int = 0, fields: Int = 0, emptyArray: Bool = false) throws(LuaResultError) {
        guard openTables + 1 < LuaStackWriter.maximumDepth else { throw .nestedTooDeeply }
        try reserve()
        lua_createtable(state, Int32(clamping: items), Int32(clamping: fields))
        if emptyArray {
            rb_push_array_marker(state)
            lua_setmetatable(state, -2)
        }
        openTables += 1
    }

    /// Sets the field whose key and value were pushed last, in that order, in the table being built.
    public mutating func setField() {
        lua_rawset(state, -3)
    }

    /// Sets item `index` (1-based) of the table being built to the value pushed last.
    public mutating func setItem(_ index: Int) {
        lua_rawseti(state, -2, Int64(index))
    }

    /// Ends the table being built; it is now a result, or the value of a field or item.
    public mutating func endTable() {
        openTables -= 1
    }

    /// Room for one more value, plus a key and a table's working slot.
    private func reserve() throws(LuaResultError) {
        guard lua_checkstack(state, 3) != 0 else { throw .noStack }
    }
}

/// Why a result could not be passed to Lua.
public enum LuaResultError: Error {
    /// Tables nested deeper than the host allows.
    case nestedTooDeeply
    /// The Lua stack cannot grow.
    case noStack
}
