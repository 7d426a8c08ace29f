import CLua
import CLuaBridge

/// Reads Lua values from the stack into `LuaValue`s with the conversion rules of docs/lua-runtime.md.
///
/// Uses only API functions that cannot raise: `lua_type`, `lua_toboolean`, `lua_tointegerx`,
/// `lua_tonumberx`, `lua_tolstring` on values that already are strings, `lua_next` with keys it
/// got from `lua_next`, `lua_checkstack`, `lua_topointer`, `lua_touserdata`, `lua_getmetatable`.
struct LuaStackReader {
    /// Tables nested deeper than this are refused.
    static let maximumDepth = 64

    /// What one value is counted as against the memory limit, besides a string's bytes: about
    /// what its `LuaValue` and the container slot holding it take.
    static let valueCost = 48

    let state: OpaquePointer
    /// The tables being read, outermost first: at most `maximumDepth`, so a scan is cheaper than hashing.
    private var ancestors: [UnsafeRawPointer] = []
    private var components: [LuaValuePath.Component] = []
    private let root: String
    /// Tables the value being read sits inside, outside this reader's walk.
    private var outerDepth = 0
    /// Bytes the converted value may still take; nil when the conversion is not counted.
    private(set) var budget: Int?

    /// - Parameter countsAgainstMemoryLimit: the conversion is work done for the script: the
    ///   value it produces may take no more than the VM has left under its memory limit (the
    ///   same value read through shared tables counts each time it is reached). Past that, the
    ///   memory limit trips and the conversion fails.
    init(state: OpaquePointer, root: String, countsAgainstMemoryLimit: Bool = false) {
        self.state = state
        self.root = root
        if countsAgainstMemoryLimit {
            budget = Int(clamping: rb_memory_headroom(state))
        }
    }

    /// A reader of a value found `depth` tables deep inside the one a host is walking itself,
    /// whose conversion may take at most `budget` bytes (nil: not counted): the rest of the
    /// budget that walk has drawn from. Tables count against `maximumDepth` from that depth.
    init(state: OpaquePointer, root: String, depth: Int, budget: Int?) {
        self.state = state
        self.root = root
        self.outerDepth = depth
        self.budget = budget
    }

    private mutating func charge(_ bytes: Int) throws(LuaConversionError) {
        guard let left = budget else { return }
        budget = left - bytes
        if left < bytes {
            rb_trip_memory_from_host(state)
            throw failure("converting the value takes more memory than is left under the memory limit")
        }
    }

    private func failure(_ problem: String) -> LuaConversionError {
        LuaConversionError(path: LuaValuePath(root: root, components: components), problem: problem)
    }

    /// The value on top of the stack, a table's entry during `lua_next` (key below it), read at
    /// `component` of the path; on failure both are popped, as the caller's loop ends.
    private mutating func readValueOnTop(under component: LuaValuePath.Component) throws(LuaConversionError) -> LuaValue {
        components.append(component)
        defer { components.removeLast() }
        do {
            return try read(at: -1)
        } catch {
            rb_pop(state, 2)
            throw error
        }
    }

    mutating func read(at index: Int32) throws(LuaConversionError) -> LuaValue {
        let index = lua_absindex(state, index)
        try charge(Self.valueCost)
        switch lua_type(state, index) {
        case LUA_TNONE, LUA_TNIL:
            return .nil
        case LUA_TBOOLEAN:
            return .boolean(lua_toboolean(state, index) != 0)
        case LUA_TNUMBER:
            if lua_isinteger(state, index) != 0 { return .integer(lua_tointegerx(state, index, nil)) }
            let number = lua_tonumberx(state, index, nil)
            guard number.isFinite else {
                throw failure("\(number.isNaN ? "NaN" : "an infinite number") is not allowed (JSON has no such number)")
            }
            return .number(number)
        case LUA_TSTRING:
            var length = 0
            guard let pointer = rb_tolstring_raw(state, index, &length) else { return .nil }
            try charge(length)
            return .string(LuaString(bytes: Array(UnsafeRawBufferPointer(start: pointer, count: length))))
        case LUA_TLIGHTUSERDATA where lua_touserdata(state, index) == rb_null_sentinel():
            return .null
        case LUA_TTABLE:
            return try readTable(at: index)
        case let type:
            throw failure("a \(String(cString: lua_typename(state, type))) value cannot be converted")
        }
    }

    private mutating func readTable(at index: Int32) throws(LuaConversionError) -> LuaValue {
        guard outerDepth + components.count < Self.maximumDepth else {
            throw failure("tables nested deeper than \(Self.maximumDepth) levels")
        }
        guard let identity = lua_topointer(state, index) else { return .emptyTable }
        guard !ancestors.contains(identity) else {
            throw failure("the table contains itself (a cycle)")
        }
        ancestors.append(identity)
        defer { ancestors.removeLast() }
        guard lua_checkstack(state, 3) != 0 else { throw failure("the Lua stack is exhausted") }

        let length = Int(lua_rawlen(state, index))
        if length > 0, let array = try readSequence(at: index, length: length) { return .array(array) }

        // Sized up front: growing a dictionary one rehash at a time dominated reading small tables.
        var items = [Int64: LuaValue](minimumCapacity: length)
        var fields = [String: LuaValue](minimumCapacity: length > 0 ? 0 : 8)
        var firstField: String?

        lua_pushnil(state)
        while lua_next(state, index) != 0 {
            // stack: key, value
            switch lua_type(state, -2) {
            case LUA_TNUMBER:
                // Lua normalizes float keys with integral values to integers.
                guard lua_isinteger(state, -2) != 0 else {
                    let number = lua_tonumberx(state, -2, nil)
                    rb_pop(state, 2)
                    throw failure("has the non-integer number key \(number); keys must be strings or array indexes")
                }
                let key = lua_tointegerx(state, -2, nil)
                items[key] = try readValueOnTop(under: .index(Int(truncatingIfNeeded: key)))
            case LUA_TSTRING:
                var length = 0
                let pointer = rb_tolstring_raw(state, -2, &length)
                let bytes = UnsafeRawBufferPointer(start: pointer, count: length)
                do {
                    try charge(length)
                } catch {
                    rb_pop(state, 2)
                    throw error
                }
                // ASCII keys (nearly all) are valid UTF-8 as they are.
                let ascii = bytes.allSatisfy { $0 < 0x80 }
                guard let key = ascii ? String(decoding: bytes, as: UTF8.self) : String(validating: bytes, as: UTF8.self) else {
                    rb_pop(state, 2)
                    throw failure("has a key that is not valid UTF-8")
                }
                fields[key] = try readValueOnTop(under: .field(key))
                if firstField == nil { firstField = key }
            case let type:
                let name = String(cString: lua_typename(state, type))
                rb_pop(state, 2)
                throw failure("has a key of type \(name); keys must be strings or array indexes")
            }
            rb_pop(state, 1)
        }

        if !items.isEmpty, let field = firstField {
            let index = items.keys.min() ?? 1
            throw failure("mixes array items ([\(index)]) and named fields ('\(field)'); use one or the other")
        }
        if !fields.isEmpty { return .object(fields) }
        if items.isEmpty { return rb_has_array_marker(state, index) != 0 ? .array([]) : .emptyTable }

        var array: [LuaValue] = []
        array.reserveCapacity(items.count)
        for position in 1...Int64(items.count) {
            guard let value = items[position] else {
                let stray = items.keys.filter { $0 < 1 || $0 > Int64(items.count) }.min() ?? position
                if stray < 1 {
                    throw failure("has the index [\(stray)]; arrays start at [1]")
                }
                throw failure("has a hole at [\(position)]; arrays need every index from 1 to \(items.keys.max() ?? position)")
            }
            array.append(value)
        }
        return .array(array)
    }

    /// The common array: exactly the keys 1...length, read by index without a dictionary. Nil
    /// (nothing read) when the table has any other key; the general reader then says what is wrong.
    private mutating func readSequence(at index: Int32, length: Int) throws(LuaConversionError) -> [LuaValue]? {
        var keys = 0
        lua_pushnil(state)
        while lua_next(state, index) != 0 {
            keys += 1
            guard keys <= length, lua_type(state, -2) == LUA_TNUMBER, lua_isinteger(state, -2) != 0 else {
                rb_pop(state, 2)
                return nil
            }
            rb_pop(state, 1)
        }
        guard keys == length else { return nil }
        var array: [LuaValue] = []
        array.reserveCapacity(length)
        for position in 1...length {
            // A hole with as many integer keys as the length: some key lies outside 1...length.
            guard lua_rawgeti(state, index, Int64(position)) != LUA_TNIL else {
                rb_pop(state, 1)
                return nil
            }
            // readValueOnTop pops the value and a key below it on failure; give it a key to pop.
            lua_pushnil(state)
            lua_rotate(state, -2, 1)
            array.append(try readValueOnTop(under: .index(position)))
            rb_pop(state, 2)
        }
        return array
    }
}
