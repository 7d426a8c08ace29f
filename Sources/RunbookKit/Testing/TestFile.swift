import DevRevAPI
import Foundation
import LuaRuntime

/// A test file, run in fresh VMs: one that lists its cases, and one per case that loads the file
/// again and runs that case's `before_each` hooks, its body and its `after_each` hooks.
struct TestFile: Sendable {
    let path: String
    let source: [UInt8]

    struct Listed: Sendable {
        var name: String
        var line: Int
        var pending: Bool
    }

    /// How a test file or a case went wrong: the message, and where (`file:line`) when known.
    struct Failure: Error, Sendable {
        var message: String
        var location: String?
    }

    struct Settings: Sendable {
        var timeout: Duration
        var updateGolden: Bool
        var memoryLimit = LuaRuntimeOptions.defaultMemoryLimit
    }

    init(path: String) throws(Failure) {
        self.path = path
        do throws(LuaScriptError) {
            source = try LuaRuntime.read(file: path)
        } catch {
            throw Failure(message: error.message)
        }
    }

    /// The cases the file declares, in order. On a VM thread.
    func list(settings: Settings) throws(Failure) -> [Listed] {
        let context = TestCaseContext(testFile: path, workDirectory: "", deadline: ContinuousClock.now + settings.timeout, updateGolden: false)
        let runtime = try load(context: context, settings: settings, deadline: context.deadline)
        let listed: [LuaValue]
        do throws(LuaScriptError) {
            listed = try runtime.run(source: Array("return require('\(TestPrelude.hostModule)').list()".utf8), chunkName: TestPrelude.chunkName)
        } catch {
            throw failure(error)
        }
        guard case .array(let items)? = listed.first else { return [] }
        return items.compactMap { item in
            guard case .object(let fields) = item, let name = fields["name"]?.stringValue else { return nil }
            return Listed(name: name, line: Int(fields["line"]?.integerValue ?? 0), pending: fields["pending"] == .boolean(true))
        }
    }

    /// Runs case `index` (1-based) in a VM and a sandbox of its own. On a VM thread.
    func run(case index: Int, named name: String, settings: Settings) -> (failure: Failure?, goldenWritten: [String], output: String) {
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("runbook-test-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: work) }
        do {
            try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            return (Failure(message: "cannot make the case's directory \(work): \(error)"), [], "")
        }
        let deadline = ContinuousClock.now + settings.timeout
        let context = TestCaseContext(testFile: path, workDirectory: work, deadline: deadline, updateGolden: settings.updateGolden)
        defer { context.close() }
        let printed = PrintedText()
        do throws(Failure) {
            let runtime = try load(context: context, settings: settings, deadline: deadline, print: printed)
            let listed: [LuaValue]
            do throws(LuaScriptError) {
                listed = try runtime.run(source: Array("return require('\(TestPrelude.hostModule)').list()".utf8), chunkName: TestPrelude.chunkName)
            } catch {
                throw failure(error)
            }
            guard case .array(let items)? = listed.first, index <= items.count, case .object(let fields) = items[index - 1],
                  fields["name"]?.stringValue == name
            else {
                return (Failure(message: "the file declared other cases when loaded again (does it depend on something outside it?)"), [], printed.text)
            }
            context.collecting = false
            var failure: Failure?
            for phase in ["before", "body"] where failure == nil {
                failure = phaseFailure(runtime, index: index, phase: phase)
            }
            if let after = phaseFailure(runtime, index: index, phase: "after"), failure == nil { failure = after }
            return (failure, context.goldenWritten, printed.text)
        } catch {
            return (error, [], printed.text)
        }
    }

    private func phaseFailure(_ runtime: LuaRuntime, index: Int, phase: String) -> Failure? {
        do throws(LuaScriptError) {
            try runtime.run(source: Array("return require('\(TestPrelude.hostModule)').phase(\(index), '\(phase)')".utf8),
                            chunkName: TestPrelude.chunkName)
            return nil
        } catch {
            return failure(error)
        }
    }

    /// A VM with the test API that has run the file (so its cases are declared).
    private func load(context: TestCaseContext, settings: Settings, deadline: ContinuousClock.Instant, print: PrintedText? = nil) throws(Failure) -> LuaRuntime {
        let options = LuaRuntimeOptions(
            deadline: deadline, memoryLimit: settings.memoryLimit,
            timeoutMessage: "timeout: the case ran past --timeout \(DurationArgument.format(settings.timeout))",
            memoryLimitMessage: "memory limit: the test used more than \(ByteSizeArgument.format(settings.memoryLimit))")
        do throws(LuaScriptError) {
            let runtime = try LuaRuntime(options: options, output: { bytes in print?.append(bytes) })
            Self.install(into: runtime, context: context)
            try runtime.run(source: Array(TestPrelude.source.utf8), chunkName: TestPrelude.chunkName)
            try runtime.run(source: source, file: path)
            return runtime
        } catch {
            throw failure(error)
        }
    }

    /// The Swift half of a test file's environment: `json`, `sandbox` and the host module the prelude uses.
    static func install(into runtime: LuaRuntime, context: TestCaseContext) {
        runtime.register(JSONModule.make())
        runtime.register(TestHost.module(context: context))
        runtime.register(TestHost.sandboxModule(context: context))
    }

    /// The error of a Lua chunk, located in the test file: where its message says, else the
    /// innermost line of the file in its traceback.
    func failure(_ error: LuaScriptError) -> Failure {
        var message = error.message
        var location: String?
        let prefix = path + ":"
        if message.hasPrefix(prefix) {
            let rest = message.dropFirst(prefix.count)
            let digits = rest.prefix { $0.isNumber }
            if !digits.isEmpty, rest.dropFirst(digits.count).hasPrefix(": ") {
                location = path + ":" + digits
                message = String(rest.dropFirst(digits.count + 2))
            }
        }
        if location == nil, let traceback = error.traceback {
            for line in traceback.split(separator: "\n") {
                let trimmed = line.trimmingWhitespace()
                guard trimmed.hasPrefix(prefix) else { continue }
                let digits = trimmed.dropFirst(prefix.count).prefix { $0.isNumber }
                if !digits.isEmpty {
                    location = path + ":" + digits
                    break
                }
            }
        }
        return Failure(message: message, location: location)
    }
}

/// What a test file printed: shown with a failing case.
final class PrintedText {
    private var bytes: [UInt8] = []

    func append(_ chunk: UnsafeRawBufferPointer) {
        if bytes.count < 64 * 1024 { bytes += chunk }
    }

    var text: String { String(decoding: bytes, as: UTF8.self) }
}
