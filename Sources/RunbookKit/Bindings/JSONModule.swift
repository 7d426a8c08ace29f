import DevRevAPI
import LuaRuntime

/// `json.encode`, `json.decode`, `json.null`, `json.array`.
enum JSONModule {
    static func make() -> LuaModule {
        let encode = LuaFunction(name: "encode") { call in
            let value: LuaValue
            do {
                value = try call.value(at: 1, named: "json.encode")
            } catch {
                throw ScriptFailure.validation("json.encode", field: nil, "\(error)")
            }
            do {
                let bytes = try LuaJSON.encode(try LuaJSON.json(from: value))
                return [.string(LuaString(bytes: bytes))]
            } catch let failure as LuaJSON.Failure {
                throw ScriptFailure.validation("json.encode", field: failure.path.isEmpty ? nil : failure.path, failure.problem)
            }
        }
        let decode = LuaFunction(name: "decode") { call in
            guard case .string(let text) = try call.value(at: 1) else {
                throw ScriptFailure.validation("json.decode", field: nil, "expected a string, got \(call.typeName(at: 1))")
            }
            do {
                return [LuaJSON.lua(from: try LuaJSON.decode(text.bytes))]
            } catch {
                throw ScriptFailure.validation("json.decode", field: nil, "not valid JSON")
            }
        }
        let array = LuaFunction(name: "array") { call in
            guard call.argumentCount > 0 else { return [.array([])] }
            switch try call.value(at: 1, named: "json.array") {
            case .array(let items): return [.array(items)]
            case .emptyTable, .nil: return [.array([])]
            default: throw ScriptFailure.validation("json.array", field: nil, "expected an array or nothing, got \(call.typeName(at: 1))")
            }
        }
        return LuaModule(name: "json", functions: [encode, decode, array], values: ["null": .null])
    }
}
