import LuaRuntime
import PropertyBased
import Testing

/// Builds nested values from generated leaves and a seed for the shape.
private struct ValueBuilder {
    var seed: UInt64
    let integer: Int64
    let number: Double
    let bytes: [UInt8]

    mutating func next(_ bound: UInt64) -> UInt64 {
        seed = seed &* 6364136223846793005 &+ 1442695040888963407
        return (seed >> 33) % bound
    }

    mutating func make(depth: Int) -> LuaValue {
        let choice = depth >= 4 ? next(5) : next(8)
        switch choice {
        case 0: return .integer(integer &+ Int64(next(1000)))
        case 1:
            // Integral floats included: they must come back as floats, not integers.
            return .number(next(2) == 0 ? number + Double(next(7)) / 8 : Double(integer % 1_000_000))
        case 2: return .string(LuaString(bytes: bytes + [UInt8(next(256))]))
        case 3: return .boolean(next(2) == 0)
        case 4: return .null
        case 5: return .array((0..<Int(next(4))).map { _ in make(depth: depth + 1) })
        case 6:
            var fields: [String: LuaValue] = [:]
            for index in 0...Int(next(3)) { fields["k\(index)_\(next(100))"] = make(depth: depth + 1) }
            return .object(fields)
        default: return .emptyTable
        }
    }
}

@Suite("Round trips")
struct RoundTripPropertyTests {
    @Test func valuesSurviveSwiftToLuaToSwift() async {
        await propertyCheck(
            count: 200,
            input: Gen.int64(in: -(1 << 60)...(1 << 60)), Gen.double(in: -1e12...1e12), Gen.uint8().array(of: 0...12),
            Gen.uint64()
        ) { integer, number, bytes, seed in
            var builder = ValueBuilder(seed: seed, integer: integer, number: number, bytes: bytes)
            let values = (0..<3).map { _ in builder.make(depth: 0) }
            let outcome = await Lua.run(
                "return t.echo(table.unpack(input.values, 1, #input.values))",
                modules: { [Lua.testModule(), LuaModule(name: "input", values: ["values": .array(values)])] })
            #expect(outcome.error == nil)
            #expect(outcome.results == values)
        }
    }
}
