import Foundation
import Testing

/// Every Lua block of the README and of docs/ runs against `--sandbox` as it is (with
/// `RUNBOOK_PATH=examples`, so the README's abridged examples find their modules), unless the
/// line before it says `<!-- not runnable: reason -->`. A block after `<!-- runbook test: NAME -->`
/// is a test file: it must pass `runbook test` (after `--update`, for its golden plans) as
/// `NAME_test.lua`, beside the block marked `<!-- runbook: NAME -->` of the same file as `NAME.lua`.
/// Docs cannot drift from the product.
@Suite("Documentation examples")
struct DocumentationExampleTests {
    struct Block: CustomStringConvertible, Sendable {
        var file: String
        var line: Int
        var source: String
        var notRunnable: String?
        /// `<!-- runbook: NAME -->`: the runbook a test block of the same file tests.
        var runbook: String?
        /// `<!-- runbook test: NAME -->`: a test file of the runbook NAME.
        var testOf: String?
        var description: String { "\(file):\(line)" }
    }

    static func blocks() throws -> [Block] {
        let repository = RunbookBinary.repository
        let docs = try FileManager.default.contentsOfDirectory(atPath: repository.appendingPathComponent("docs").path)
            .filter { $0.hasSuffix(".md") }.sorted().map { "docs/" + $0 }
        var blocks: [Block] = []
        for file in ["README.md"] + docs {
            let text = try String(contentsOf: repository.appendingPathComponent(file), encoding: .utf8)
            let lines = text.components(separatedBy: "\n")
            var index = 0
            while index < lines.count {
                guard lines[index].trimmingCharacters(in: .whitespaces) == "```lua" else {
                    index += 1
                    continue
                }
                let start = index
                var body: [String] = []
                index += 1
                while index < lines.count, lines[index].trimmingCharacters(in: .whitespaces) != "```" {
                    body.append(lines[index])
                    index += 1
                }
                var block = Block(file: file, line: start + 1, source: body.joined(separator: "\n") + "\n")
                let marker = start > 0 ? lines[start - 1] : ""
                if let match = marker.firstMatch(of: #/<!-- not runnable: (.+) -->/#) { block.notRunnable = String(match.1) }
                if let match = marker.firstMatch(of: #/<!-- runbook: ([\w-]+) -->/#) { block.runbook = String(match.1) }
                if let match = marker.firstMatch(of: #/<!-- runbook test: ([\w-]+) -->/#) { block.testOf = String(match.1) }
                blocks.append(block)
                index += 1
            }
        }
        return blocks
    }

    @Test func theDocsHaveLuaExamples() throws {
        let blocks = try Self.blocks()
        #expect(blocks.count >= 15, "the extraction finds the examples: \(blocks.count)")
        #expect(blocks.contains { $0.file == "README.md" } && blocks.contains { $0.file == "docs/lua-api.md" })
    }

    @Test(arguments: try DocumentationExampleTests.blocks())
    func everyExampleRunsAgainstTheSandbox(_ block: Block) async throws {
        if let reason = block.notRunnable {
            #expect(!reason.trimmingCharacters(in: .whitespaces).isEmpty)
            return
        }
        let scripts = try ScriptDirectory()
        if let name = block.testOf {
            let runbook = try #require(try Self.blocks().first { $0.file == block.file && $0.runbook == name },
                                       "\(block): no block marked <!-- runbook: \(name) --> in \(block.file)")
            try scripts.write("\(name).lua", runbook.source)
            try scripts.write("\(name)_test.lua", block.source)
            for arguments in [["test", "--update"], ["test"]] {
                let result = try await RunbookBinary.run(arguments + ["\(name)_test.lua"], directory: scripts.url)
                #expect(result.status == 0, "\(block): runbook \(arguments.joined(separator: " ")) exits \(result.status): \(result.standardOutput)")
            }
            return
        }
        let name = block.file.replacingOccurrences(of: "/", with: "-") + "-\(block.line).lua"
        try scripts.write(name, block.source)
        let result = try await RunbookBinary.run(
            ["run", name, "--sandbox"], environment: ["RUNBOOK_PATH": RunbookBinary.repository.appendingPathComponent("examples").path],
            directory: scripts.url)
        #expect(result.status == 0, "\(block) exits \(result.status): \(result.standardError)")
    }
}
