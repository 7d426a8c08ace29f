import DevRevAPI
import LuaRuntime

/// `json.encode`, `json.decode`, `json.null`, `json.array`.
enum JSONModule {
    static func make() -> LuaModule {
        let encode = LuaFunction(name: "encode") { call in
            let value = try call.argument(1, in: "json.encode")
            do {
                let bytes = try LuaJSON.encode(try LuaJSON.json(from: value))
                return [.string(LuaString(bytes: bytes))]
            } catch let failure as LuaJSON.Failure {
                throw ScriptFailure.validation("json.encode", field: failure.path.isEmpty ? nil : failure.path, failure.problem)
            }
        }
        let decode = LuaFunction(name: "decode") { call, results in
            guard call.typeName(at: 1) == "string", case .string(let text) = try call.argument(1, in: "json.decode") else {
                throw ScriptFailure.validation("json.decode", field: nil, "expected a string, got \(call.typeName(at: 1))")
            }
            // The text is already in the VM; its decoded form may take what the VM has left.
            let parser = JSONParser(maximumDepth: LuaJSON.maximumDepth, byteBudget: call.memoryHeadroom.map { $0 / 2 } ?? .max)
            let value: JSONValue
            do throws(JSONParseError) {
                value = try parser.parse(text.bytes)
            } catch {
                if error.overBudget { call.exceedMemoryLimit() }
                throw ScriptFailure.validation("json.decode", field: nil, "not valid JSON: \(error)")
            }
            try LuaJSON.push(value, to: &results)
        }
        let array = LuaFunction(name: "array") { call in
            guard call.argumentCount > 0 else { return [.array([])] }
            switch try call.argument(1, in: "json.array") {
            case .array(let items): return [.array(items)]
            case .emptyTable, .nil: return [.array([])]
            default: throw ScriptFailure.validation("json.array", field: nil, "expected an array or nothing, got \(call.typeName(at: 1))")
            }
        }
        return LuaModule(name: "json", functions: [encode, decode, array], values: ["null": .null])
    }
}
