import DevRevAPI
import Foundation
import LuaRuntime

/// `log.debug/info/warn/error(message, fields?)`: to standard error as text, or as JSON lines
/// with `--output json`; below `--log-level` nothing is written.
enum LogModule {
    static func make(log: RunLog) -> LuaModule {
        let functions = LogLevel.allCases.map { level in
            LuaFunction(name: level.rawValue) { call in
                guard level >= log.threshold else { return [] }
                let message: String
                switch try call.argument(1, named: "message", in: "log.\(level.rawValue)") {
                case .string(let text): message = text.description
                case .nil: message = ""
                case let other: message = "\(LuaJSON.lua(from: (try? LuaJSON.json(from: other)) ?? .null))"
                }
                var fields: [String: JSONValue] = [:]
                switch try call.argument(2, named: "fields", in: "log.\(level.rawValue)") {
                case .object(let given):
                    for (key, value) in given {
                        do throws(LuaJSON.Failure) {
                            fields[key] = try LuaJSON.json(from: Self.readable(value))
                        } catch {
                            throw ScriptFailure.validation("log.\(level.rawValue)", field: key, error.problem)
                        }
                    }
                case .nil, .emptyTable: break
                default: throw ScriptFailure.validation("log.\(level.rawValue)", field: nil, "fields must be a table with named fields")
                }
                log.emit(level, message, fields: fields)
                return []
            }
        }
        return LuaModule(name: "log", functions: functions)
    }

    /// Strings as a log can show them: invalid UTF-8 is replaced (U+FFFD) in fields as it is in
    /// the message, instead of failing the call.
    static func readable(_ value: LuaValue) -> LuaValue {
        switch value {
        case .string(let text) where text.text == nil: .string(LuaString(text.description))
        case .array(let items): .array(items.map(readable))
        case .object(let fields): .object(fields.mapValues(readable))
        default: value
        }
    }
}
