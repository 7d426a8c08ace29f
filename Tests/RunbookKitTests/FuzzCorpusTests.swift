import Foundation
import LuaRuntime
@testable import RunbookKit
import Testing

/// The libFuzzer corpus (fuzz/corpus: the seeds, and what `scripts/fuzz` found worth keeping),
/// replayed through the same entry the fuzzer calls, on every `scripts/test`: an input that once
/// crashed stays a regression test.
@Suite("Fuzz corpus")
struct FuzzCorpusTests {
    static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("fuzz/corpus")

    @Test func everyCorpusInputRunsThroughTheBoundariesWithoutACrash() async throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: Self.corpus.path).sorted()
        #expect(names.count >= 14, "the corpus holds its seeds")
        #expect(names.contains { $0.hasPrefix("response-") } && names.contains { $0.hasPrefix("script-") })
        for name in names {
            let input = [UInt8](try Data(contentsOf: Self.corpus.appendingPathComponent(name)))
            await LuaThread.run { BoundaryFuzzing.run(input) }
        }
    }

    @Test func theEntryTakesBothPathsAllTheWay() async {
        let answer = Array(#"{"incident":{"id":"a","display_id":"INC-1","title":"t","n":[1,2.5,null]}}"#.utf8)
        #expect(await LuaThread.run { BoundaryFuzzing.run([0] + answer) }, "an answer is parsed, walked and encoded again")
        #expect(await LuaThread.run { !BoundaryFuzzing.run([0] + Array(#"{"a":1,"a":2}"#.utf8)) }, "the strict parser refuses it")
        #expect(await LuaThread.run { BoundaryFuzzing.run([1] + Array("return json.encode({1, 2})".utf8)) })
        #expect(await LuaThread.run { !BoundaryFuzzing.run([1] + Array("while true do end".utf8)) }, "the time limit stops it")
    }
}
