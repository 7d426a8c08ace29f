import CLua
import CLuaBridge

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One Lua 5.4 VM with runbook's script environment and limits. Knows nothing about DevRev.
///
/// A `LuaRuntime` is confined to the thread that created it (Lua states are single-threaded);
/// run it on a thread of its own with `LuaThread`. Every Lua call that can raise runs in
/// protected mode, and Swift functions reach Lua through a C trampoline, so no Lua error ever
/// unwinds through a Swift frame.
public final class LuaRuntime {
    let state: OpaquePointer
    private let vm: UnsafeMutablePointer<rb_vm>
    private let options: LuaRuntimeOptions
    private let output: ((UnsafeRawBufferPointer) -> Void)?
    /// Lets other threads stop the script; invalidated when the runtime goes away.
    public let interruptHandle: LuaInterruptHandle

    /// Creates a VM with the script environment: the allow-listed standard library.
    /// - Parameter output: receives what `print` writes; nil writes to standard output.
    public init(options: LuaRuntimeOptions = LuaRuntimeOptions(), output: ((UnsafeRawBufferPointer) -> Void)? = nil)
        throws(LuaScriptError)
    {
        self.options = options
        self.output = output
        vm = .allocate(capacity: 1)
        vm.initialize(to: rb_vm())
        interruptHandle = LuaInterruptHandle(vm: vm)
        guard let state = rb_newstate(vm) else {
            vm.deallocate()
            throw LuaScriptError(kind: .memoryLimit, message: "cannot create a Lua state: out of memory")
        }
        self.state = state

        vm.pointee.dispatch = { _, state, function in
            guard let state, let function else { return RB_CALL_NOSTACK }
            return Unmanaged<LuaFunction>.fromOpaque(function).takeUnretainedValue().invoke(state)
        }
        vm.pointee.release = { function in
            guard let function else { return }
            Unmanaged<LuaFunction>.fromOpaque(function).release()
        }
        if output != nil {
            vm.pointee.output = { host, bytes, length in
                guard let host else { return }
                let runtime = Unmanaged<LuaRuntime>.fromOpaque(host).takeUnretainedValue()
                runtime.output?(UnsafeRawBufferPointer(start: bytes, count: length))
            }
        }
        vm.pointee.host = Unmanaged.passUnretained(self).toOpaque()

        Self.copy(options.timeoutMessage ?? Self.defaultTimeoutMessage(options.timeout), into: &vm.pointee.timeout_text)
        Self.copy(
            options.memoryLimitMessage ?? Self.defaultMemoryMessage(options.memoryLimit), into: &vm.pointee.memory_text)
        Self.copy("interrupted", into: &vm.pointee.interrupt_text)

        if rb_cpcall(state, rb_open_environment, nil, 0) != LUA_OK {
            let message = LuaStackReader(state: state, root: "error").messageOnTop()
            lua_close(state)
            vm.deallocate()
            throw LuaScriptError(kind: .runtime, message: "cannot open the Lua libraries: \(message)")
        }
        for name in options.allowedEnvironmentVariables {
            rb_allow_environment_variable(state, name)
        }
        setSearchPaths(options.searchPaths)
        if let limit = options.memoryLimit, limit > 0 {
            vm.pointee.cap = limit
            let (ceiling, overflow) = limit.addingReportingOverflow(max(limit / 8, 1 << 20))
            vm.pointee.ceiling = overflow ? Int.max : ceiling
        }
    }

    deinit {
        interruptHandle.invalidate()
        lua_close(state)
        vm.deinitialize(count: 1)
        vm.deallocate()
    }

    // MARK: registering Swift code

    /// Makes `module` available to scripts: as a global (when `isGlobal`) and through `require`.
    /// The table is strict: reading a name it does not hold (`incident.updaet`) is an error that
    /// names the closest member, instead of a nil that fails later as "attempt to call a nil value".
    /// Members added afterwards from Lua (with `rawset`) count as members too.
    public func register(_ module: LuaModule) {
        let writer = LuaStackWriter(state: state)
        precondition(lua_checkstack(state, 8) != 0, "Lua stack exhausted while registering \(module.name)")
        lua_createtable(state, 0, Int32(clamping: module.functions.count + module.values.count))
        for function in module.functions {
            writer.pushString(function.name)
            rb_push_swift_function(state, Unmanaged.passRetained(function).toOpaque())
            lua_rawset(state, -3)
        }
        for (key, value) in module.values {
            writer.pushString(key)
            if writer.push(value) {
                lua_rawset(state, -3)
            } else {
                rb_pop(state, 1)
            }
        }
        lua_createtable(state, 0, 2)
        writer.pushString("__index")
        rb_push_swift_function(state, Unmanaged.passRetained(Self.unknownMember(of: module.name)).toOpaque())
        lua_rawset(state, -3)
        writer.pushString("__metatable")
        writer.pushString("the \(module.name) module")
        lua_rawset(state, -3)
        lua_setmetatable(state, -2)
        rb_install_module(state, module.name, module.isGlobal ? 1 : 0)
    }

    /// Takes a module out of `require`'s reach (one that only the host's own Lua, run before the
    /// script, needed). A global of that name stays.
    public func unregister(_ name: String) {
        rb_remove_module(state, name)
    }

    /// The `__index` of a module table: called only for names the table does not hold.
    private static func unknownMember(of module: String) -> LuaFunction {
        LuaFunction(name: "\(module).__index") { call in
            var members: [String] = []
            let key = try call.value(at: 2)
            if call.typeName(at: 1) == "table" { members = call.stringKeys(at: 1) }
            guard case .string(let name) = key, let text = name.text else {
                throw LuaModuleMemberError(message: "\(module) has no member \(key.typeName) (modules are indexed by name)")
            }
            var message = "\(module).\(text) does not exist"
            if let nearest = EditDistance.nearest(text, among: members) {
                message += "; did you mean \(module).\(nearest)?"
            } else if !members.isEmpty {
                message += " (\(module) has \(members.sorted().joined(separator: ", ")))"
            }
            throw LuaModuleMemberError(message: message)
        }
    }

    // MARK: running code

    /// Compiles a chunk without running it; throws its syntax error.
    public func check(source: [UInt8], chunkName: String) throws(LuaScriptError) {
        try load(source: source, chunkName: chunkName)
        rb_pop(state, 1)
    }

    /// Compiles and runs a chunk with `arguments` (its `...`), returning what it returns.
    /// The timeout counts from here.
    @discardableResult
    public func run(source: [UInt8], chunkName: String, arguments: [LuaValue] = []) throws(LuaScriptError) -> [LuaValue] {
        let base = lua_gettop(state)
        defer { lua_settop(state, base) }
        try load(source: source, chunkName: chunkName)
        guard lua_checkstack(state, Int32(clamping: arguments.count + 4)) != 0 else {
            throw LuaScriptError(kind: .runtime, message: "\(chunkName): too many arguments")
        }
        let writer = LuaStackWriter(state: state)
        for argument in arguments where !writer.push(argument) {
            throw LuaScriptError(kind: .runtime, message: "\(chunkName): an argument is nested too deeply")
        }
        if let deadline = options.deadline {
            let remaining = max(.zero, deadline - ContinuousClock.now - .milliseconds(1))
            vm.pointee.deadline_ns = Self.deadline(after: remaining)
        } else if let timeout = options.timeout {
            vm.pointee.deadline_ns = Self.deadline(after: timeout)
        }
        let status = rb_pcall_script(state, Int32(arguments.count), LUA_MULTRET)
        guard status == LUA_OK else { throw scriptError(status: status) }
        var results: [LuaValue] = []
        let top = lua_gettop(state)
        if top > base {
            for index in (base + 1)...top {
                var reader = LuaStackReader(state: state, root: "result #\(index - base)")
                do {
                    results.append(try reader.read(at: index))
                } catch {
                    throw LuaScriptError(kind: .runtime, message: "\(chunkName): \(error)")
                }
            }
        }
        return results
    }

    /// Runs the Lua file at `path` (`-`: standard input); `require` searches its directory first
    /// (the current one for standard input), then `searchPaths`.
    @discardableResult
    public func run(file path: String, arguments: [LuaValue] = []) throws(LuaScriptError) -> [LuaValue] {
        try run(source: Self.read(file: path), file: path, arguments: arguments)
    }

    /// Runs `source`, already read from the file at `path` (a script is read once: a pipe cannot
    /// be read twice), as `run(file:)` would.
    @discardableResult
    public func run(source: [UInt8], file path: String, arguments: [LuaValue] = []) throws(LuaScriptError) -> [LuaValue] {
        setSearchPaths([Self.directory(of: path)] + options.searchPaths)
        return try run(source: source, chunkName: path == "-" ? "stdin" : path, arguments: arguments)
    }

    /// The largest script or module file loaded (4 MiB): runbooks are small, and a path such as
    /// `/dev/zero` must not fill memory.
    public static let maximumSourceSize = Int(RB_MAX_SOURCE_SIZE)

    /// Reads a script file, with an error that names it, once. A regular file of at most
    /// `maximumSourceSize` bytes; a FIFO, a device or a directory is refused without waiting on it.
    /// Standard input (`-`, `/dev/stdin`) and an open descriptor (`/dev/fd/N`, what `<(...)`
    /// passes) are read to their end, whatever they are, within the same bound.
    public static func read(file path: String) throws(LuaScriptError) -> [UInt8] {
        func failure(_ reason: String) -> LuaScriptError {
            LuaScriptError(kind: .unreadable, message: "cannot read \(path == "-" ? "standard input" : path): \(reason)")
        }
        let isDescriptor = path == "-" || path == "/dev/stdin" || path.hasPrefix("/dev/fd/") || path.hasPrefix("/proc/self/fd/")
        let descriptor = path == "-" ? dup(STDIN_FILENO) : open(path, O_RDONLY | O_CLOEXEC | (isDescriptor ? 0 : O_NONBLOCK))
        guard descriptor >= 0 else { throw failure(String(cString: strerror(errno))) }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw failure(String(cString: strerror(errno))) }
        guard info.st_mode & S_IFMT == S_IFREG || (isDescriptor && info.st_mode & S_IFMT != S_IFDIR) else {
            throw failure("not a regular file")
        }
        guard info.st_size <= off_t(maximumSourceSize) else { throw failure("larger than \(maximumSourceSize >> 20) MiB") }
        var bytes = [UInt8](repeating: 0, count: Int(info.st_size))
        var filled = 0
        // Reads until the end, in case the file grew; never past the cap.
        while true {
            if filled == bytes.count {
                guard bytes.count < maximumSourceSize else {
                    var extra: UInt8 = 0
                    if systemRead(descriptor, &extra, 1) > 0 { throw failure("larger than \(maximumSourceSize >> 20) MiB") }
                    break
                }
                bytes += [UInt8](repeating: 0, count: min(64 * 1024, maximumSourceSize - bytes.count))
            }
            let count = bytes.withUnsafeMutableBytes { systemRead(descriptor, $0.baseAddress! + filled, $0.count - filled) }
            if count < 0 {
                if errno == EINTR { continue }
                throw failure(String(cString: strerror(errno)))
            }
            if count == 0 { break }
            filled += count
        }
        return Array(bytes[0..<filled])
    }

    // MARK: inspection

    /// Bytes the VM holds now.
    public var memoryInUse: Int { vm.pointee.used }
    /// The most bytes the VM has held at once.
    public var peakMemory: Int { vm.pointee.peak }
    /// Entries in the Lua registry (for leak checks).
    public var registrySize: Int { Int(rb_registry_size(state)) }

    /// Runs a full garbage collection.
    public func collectGarbage() {
        rb_gc_collect(state)
    }

    // MARK: internals

    private func setSearchPaths(_ directories: [String]) {
        rb_set_search_path(state, directories.filter { !$0.isEmpty && !$0.contains(";") }.joined(separator: ";"))
    }

    private func load(source: [UInt8], chunkName: String) throws(LuaScriptError) {
        let status = source.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { chars in
                rb_load_text(state, chars.baseAddress, chars.count, "@" + chunkName)
            }
        }
        guard status == LUA_OK else {
            let message = LuaStackReader(state: state, root: "error").messageOnTop()
            rb_pop(state, 1)
            throw LuaScriptError(kind: status == LUA_ERRSYNTAX ? .syntax : .runtime, message: message)
        }
    }

    private func scriptError(status: Int32) -> LuaScriptError {
        rb_push_last_traceback(state)
        let traceback = LuaStackReader(state: state, root: "traceback").stringOnTop()
        rb_pop(state, 1)
        rb_push_last_where(state)
        let location = LuaStackReader(state: state, root: "where").stringOnTop() ?? ""
        rb_pop(state, 1)

        var reader = LuaStackReader(state: state, root: "error")
        let value = try? reader.read(at: -1)
        // An error value that is not a string is shown through its __tostring, which is script
        // code: a limit can trip inside it, and then that limit is how the run ended.
        var display: String?
        if lua_type(state, -1) == LUA_TSTRING {
            display = reader.stringOnTop()
        } else if vm.pointee.tripped == RB_TRIP_NONE {
            rb_push_display_string(state, -1)
            display = reader.stringOnTop().map { location.isEmpty ? $0 : "\(location) \($0)" } ?? "(error object)"
            rb_pop(state, 1)
        }
        rb_pop(state, 1)

        let kind: LuaScriptError.Kind
        switch vm.pointee.tripped {
        case RB_TRIP_TIMEOUT: kind = .timeout
        case RB_TRIP_MEMORY: kind = .memoryLimit
        case RB_TRIP_INTERRUPT: kind = .interrupted
        default: kind = status == LUA_ERRERR ? .errorHandling : .runtime
        }
        let message: String
        switch kind {
        case .timeout, .memoryLimit, .interrupted:
            let fatal = Self.string(from: &vm.pointee.fatal)
            let text: String
            switch kind {
            case .timeout: text = Self.string(from: &vm.pointee.timeout_text)
            case .interrupted: text = Self.string(from: &vm.pointee.interrupt_text)
            default: text = Self.string(from: &vm.pointee.memory_text)
            }
            message = fatal.isEmpty ? text : fatal
        default:
            message = display ?? ""
        }
        return LuaScriptError(kind: kind, message: message, value: value, traceback: traceback)
    }

    /// The VM's deadline `duration` from now. Saturating: a timeout of centuries means "no deadline
    /// in practice", never one in the past.
    private static func deadline(after duration: Duration) -> Int64 {
        let (deadline, overflow) = rb_monotonic_ns().addingReportingOverflow(max(1, duration.nanosecondsClamped))
        return overflow ? Int64.max : deadline
    }

    private static func defaultTimeoutMessage(_ timeout: Duration?) -> String {
        guard let timeout else { return "the script ran past its time limit" }
        return "the script ran past its time limit of \(timeout)"
    }

    private static func defaultMemoryMessage(_ limit: Int?) -> String {
        guard let limit else { return "the script ran out of memory" }
        return "the script used more than its memory limit of \(limit) bytes"
    }

    /// The directory `require` searches first for a script at `path` (`-`, standard input: the
    /// current directory).
    public static func directory(of path: String) -> String {
        guard path != "-", let slash = path.lastIndex(of: "/") else { return "." }
        let directory = String(path[..<slash])
        return directory.isEmpty ? "/" : directory
    }

    /// Copies text into a fixed C char array, truncated, NUL-terminated.
    private static func copy<T>(_ text: String, into storage: inout T) {
        withUnsafeMutableBytes(of: &storage) { raw in
            let bytes = Array(text.utf8.prefix(raw.count - 1))
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
    }

    private static func string<T>(from storage: inout T) -> String {
        withUnsafeBytes(of: &storage) { raw in
            let end = raw.firstIndex(of: 0) ?? raw.count
            return String(decoding: raw[..<end], as: UTF8.self)
        }
    }
}

extension LuaStackReader {
    /// The string on top of the stack, if it is one.
    func stringOnTop() -> String? {
        var length = 0
        guard let pointer = rb_tolstring_raw(state, -1, &length) else { return nil }
        return String(decoding: UnsafeRawBufferPointer(start: pointer, count: length), as: UTF8.self)
    }

    /// The error on top of the stack as a message.
    func messageOnTop() -> String {
        stringOnTop() ?? "(error object is a \(String(cString: luaL_typename_shim(state, -1))) value)"
    }
}

/// read(2), under either C library's module name.
private func systemRead(_ descriptor: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int {
    #if canImport(Glibc)
    Glibc.read(descriptor, buffer, count)
    #else
    Darwin.read(descriptor, buffer, count)
    #endif
}

private func luaL_typename_shim(_ state: OpaquePointer, _ index: Int32) -> UnsafePointer<CChar> {
    lua_typename(state, lua_type(state, index))
}

extension LuaRuntime {
    /// The embedded Lua's release, e.g. "Lua 5.4".
    public static var luaVersion: String {
        "Lua \(LUA_VERSION_NUM / 100).\(LUA_VERSION_NUM % 100)"
    }
}
