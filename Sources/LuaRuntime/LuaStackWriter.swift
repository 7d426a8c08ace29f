import CLua
import CLuaBridge

/// Pushes `LuaValue`s onto the Lua stack.
///
/// Call only while the host has control (outside a running script or inside a Swift function
/// called from Lua): then the allocator never fails, and the functions used here
/// (`lua_createtable`, `lua_pushlstring`, `lua_rawset`, `lua_rawseti`, `lua_setmetatable`) cannot
/// raise. Keys are never nil or NaN, the only other reasons `lua_rawset` raises.
struct LuaStackWriter {
    /// Nesting beyond this is refused rather than recursing without bound.
    static let maximumDepth = 200

    let state: OpaquePointer

    /// Pushes `value`; false when the Lua stack cannot grow enough or nesting is too deep
    /// (nothing is left pushed then).
    @discardableResult
    func push(_ value: LuaValue, depth: Int = 0) -> Bool {
        guard depth < Self.maximumDepth, lua_checkstack(state, 3) != 0 else { return false }
        switch value {
        case .nil:
            lua_pushnil(state)
        case .boolean(let flag):
            lua_pushboolean(state, flag ? 1 : 0)
        case .integer(let integer):
            lua_pushinteger(state, integer)
        case .number(let number):
            lua_pushnumber(state, number)
        case .string(let string):
            pushBytes(string.bytes)
        case .null:
            lua_pushlightuserdata(state, rb_null_sentinel())
        case .emptyTable:
            lua_createtable(state, 0, 0)
        case .array(let items):
            lua_createtable(state, Int32(clamping: items.count), 0)
            if items.isEmpty {
                rb_push_array_marker(state)
                lua_setmetatable(state, -2)
            }
            for (offset, item) in items.enumerated() {
                guard push(item, depth: depth + 1) else {
                    rb_pop(state, 1)
                    return false
                }
                lua_rawseti(state, -2, Int64(offset + 1))
            }
        case .object(let fields):
            lua_createtable(state, 0, Int32(clamping: fields.count))
            for (key, item) in fields {
                pushBytes(Array(key.utf8))
                guard push(item, depth: depth + 1) else {
                    rb_pop(state, 2)
                    return false
                }
                lua_rawset(state, -3)
            }
        }
        return true
    }

    func pushBytes(_ bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { chars in
                _ = lua_pushlstring(state, chars.baseAddress, chars.count)
            }
        }
    }

    func pushString(_ text: String) {
        pushBytes(Array(text.utf8))
    }
}
