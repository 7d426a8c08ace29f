import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing

/// `runbook test` through the built binary: suites that pass and fail, JUnit, golden plans,
/// faults, the walls around a test, and the examples' own tests.
@Suite("runbook test")
struct TestCommandTests {
    static let script = """
        --- @name bump
        --- @changes severity
        --- @param to integer = 1  the new severity
        for inc in incident.list{ stage = {"reported"} } do
          local ok, err = pcall(incident.update, { id = inc.display_id, severity = runbook.args.to })
          if ok then print("bumped " .. inc.display_id) else print("failed " .. inc.display_id .. " " .. err.type) end
        end
        """

    static let fixture = """
        before_each(function()
          given{ incidents = { { title = "A", severity = 2, stage = "reported" }, { title = "B", severity = 3, stage = "resolved" } } }
        end)

        """

    private func suite(_ test: String, script: String = TestCommandTests.script) throws -> ScriptDirectory {
        let directory = try ScriptDirectory()
        try directory.write("bump.lua", script)
        try directory.write("bump_test.lua", test)
        return directory
    }

    private func run(_ arguments: [String], in directory: ScriptDirectory, environment: [String: String] = [:]) async throws -> RunbookBinary.Result {
        try await RunbookBinary.run(["test"] + arguments, environment: environment, directory: directory.url)
    }

    @Test func theExamplesPassTheirOwnTestsWithAMainPathANothingToDoPathAndAFault() async throws {
        let result = try await RunbookBinary.run(["test", "examples/", "--output", "json"])
        #expect(result.status == 0, "\(result.standardOutput)\n\(result.standardError)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any])
        let summary = try #require(report["summary"] as? [String: Int])
        #expect(summary["failed"] == 0 && summary["load_errors"] == 0)
        let files = try #require(report["files"] as? [[String: Any]])
        let scripts = try FileManager.default.contentsOfDirectory(atPath: RunbookBinary.repository.appendingPathComponent("examples").path)
            .filter { $0.hasSuffix(".lua") && !$0.hasSuffix("_test.lua") }
        #expect(Set(files.compactMap { $0["path"] as? String }) == Set(scripts.map { "examples/" + $0.replacingOccurrences(of: ".lua", with: "_test.lua") }),
                "every example has a test file")
        for file in files {
            let cases = file["cases"] as? [[String: Any]] ?? []
            #expect(cases.count >= 3, "\(file["path"] ?? ""): a main path, a nothing-to-do path and a fault")
        }
    }

    @Test func aFailingCaseExitsOneWithItsLineAndTheDifferenceAndJUnitSaysWhich() async throws {
        let directory = try suite(Self.fixture + """
            describe("bump", function()
              it("bumps the reported incident", function()
                local result = run{ args = { to = 1 } }
                assert.exit(result, 0)
                assert.changes(result, { { incident = "INC-1", field = "severity", before = "Sev2", after = "Sev1" } })
              end)

              it("is wrong about the severity", function()
                local result = run{ args = { to = 1 } }
                assert.same({ { operation = "update", incident = "INC-1", field = "severity", before = "Sev2", after = "Sev0" } }, result.changes)
              end)
            end)
            """)
        let junit = directory.url.appendingPathComponent("junit.xml").path
        let result = try await run(["--junit", junit], in: directory)
        #expect(result.status == 1, "\(result.standardOutput)\n\(result.standardError)")
        #expect(result.standardOutput.contains("PASS  bump_test.lua:5  bump > bumps the reported incident"), "\(result.standardOutput)")
        #expect(result.standardOutput.contains("FAIL  bump_test.lua:11  bump > is wrong about the severity"))
        #expect(result.standardOutput.contains("bump_test.lua:13: expected and actual differ:"))
        #expect(result.standardOutput.contains(#"[1].after: expected "Sev0", got "Sev1""#))
        #expect(result.standardOutput.contains("1 passed, 1 failed (1 file,"))

        let filtered = try await run(["--filter", "bumps the"], in: directory)
        #expect(filtered.status == 0 && filtered.standardOutput.contains("1 passed, 0 failed"), "\(filtered.standardOutput)")
        let none = try await run(["--filter", "no such case"], in: directory)
        #expect(none.status == 64 && none.standardError.contains("no case's name matches --filter 'no such case'"))

        let cases = try JUnitCases(contentsOf: URL(fileURLWithPath: junit))
        #expect(cases.suites == ["bump_test.lua"])
        #expect(cases.names == ["bump > bumps the reported incident", "bump > is wrong about the severity"])
        #expect(cases.failures == ["bump > is wrong about the severity"])
        #expect(cases.failureText.first?.contains("bump_test.lua:13: expected and actual differ") == true)
    }

    @Test func aFileThatDoesNotLoadExits65WhileTheOtherFilesStillRun() async throws {
        let directory = try suite(Self.fixture + "it('bumps', function() assert.exit(run{}, 0) end)\n")
        try directory.write("broken_test.lua", "describe('x', function()\n  it('y', function() end\n")
        try directory.write("nested/more_test.lua", "it('passes', function() assert.equal(2, 1 + 1) end)\n")
        let result = try await run([], in: directory)
        #expect(result.status == 65, "\(result.standardOutput)\n\(result.standardError)")
        #expect(result.standardOutput.contains("ERROR broken_test.lua"))
        #expect(result.standardOutput.contains("broken_test.lua:3:"), "the syntax error names its line: \(result.standardOutput)")
        #expect(result.standardOutput.contains("PASS  bump_test.lua:4  bumps"))
        #expect(result.standardOutput.contains("PASS  nested/more_test.lua:1  passes"))
        #expect(result.standardOutput.contains("2 passed, 0 failed, 1 file did not load (3 files,"))
    }

    @Test func updateWritesAGoldenPlanThatThenPassesAndCatchesAChangedPlan() async throws {
        let directory = try suite(Self.fixture + """
            it("plans the bump", function()
              assert.plan(run{ args = { to = 1 }, dry_run = true }, "golden/bump.plan.json")
            end)
            """)
        let missing = try await run([], in: directory)
        #expect(missing.status == 1)
        #expect(missing.standardOutput.contains("the golden plan golden/bump.plan.json does not exist; write it with: runbook test --update"),
                "\(missing.standardOutput)")

        let update = try await run(["--update"], in: directory)
        #expect(update.status == 0, "\(update.standardOutput)")
        #expect(update.standardOutput.contains("golden plan written: golden/bump.plan.json"))
        let golden = try Data(contentsOf: directory.url.appendingPathComponent("golden/bump.plan.json"))
        let plan = try #require(try JSONSerialization.jsonObject(with: golden) as? [String: Any])
        let changes = try #require(plan["changes"] as? [[String: Any]])
        #expect(changes.map { $0["incident"] as? String } == ["INC-1"])

        let again = try await run([], in: directory)
        #expect(again.status == 0, "\(again.standardOutput)")

        try directory.write("bump.lua", Self.script.replacingOccurrences(of: "severity = runbook.args.to", with: "severity = 0"))
        let changed = try await run([], in: directory)
        #expect(changed.status == 1)
        #expect(changed.standardOutput.contains("the plan differs from the golden plan golden/bump.plan.json"), "\(changed.standardOutput)")
        #expect(changed.standardOutput.contains("first difference: changes[1].body.severity: expected 1, got 0"))

        try directory.write("golden/bump.plan.json", #"{"incidents": []}"#)
        let notAPlan = try await run([], in: directory)
        #expect(notAPlan.status == 1)
        #expect(notAPlan.standardOutput.contains("golden/bump.plan.json is not a runbook plan"), "\(notAPlan.standardOutput)")
    }

    @Test func injectedFaultsReachTheScriptUnderTest() async throws {
        let directory = try suite(Self.fixture + """
            it("sees the 500 its update got", function()
              local result = run{ faults = { { fault = 500, operation = "incidents.update" } } }
              assert.exit(result, 0)
              assert.equal("failed INC-1 internal_error\\n", result.stdout)
              assert.equal(5, result.calls[2].attempts)
              assert.no_changes(result)
            end)

            it("gets through one 503", function()
              local result = run{ faults = { { fault = 503, operation = "incidents.update", times = 1 } } }
              assert.equal("bumped INC-1\\n", result.stdout)
              assert.has_record(result.journal, { event = "outcome", operation = "incidents.update", status = 200 })
            end)

            it("is refused past its quota, with DevRev's error type", function()
              local result = run{ rate_limit = { quota = 1, window = "1h" }, timeout = "5s" }
              assert.equal("failed INC-1 too_many_requests\\n", result.stdout)
            end)
            """)
        let result = try await run([], in: directory)
        #expect(result.status == 0, "\(result.standardOutput)\n\(result.standardError)")
        #expect(result.standardOutput.contains("3 passed, 0 failed"))
    }

    @Test func aTestReachesNoRealServerReadsNoTokenAndWritesOnlyInItsOwnDirectory() async throws {
        let directory = try suite(Self.fixture + """
            it("goes to its sandbox whatever the environment says", function()
              assert.exit(run{}, 0)
              assert.equal("Sev1", sandbox.incident("INC-1").severity.label)
            end)

            it("cannot name another server", function()
              run{ base_url = "https://api.devrev.ai" }
            end)
            """)
        let state = try ScriptDirectory()
        let temporary = try ScriptDirectory()
        let result = try await run([], in: directory, environment: [
            "DEVREV_BASE_URL": "https://127.0.0.1:9", "DEVREV_TOKEN": "secret-token-that-must-not-be-read",
            "XDG_STATE_HOME": state.url.path, "TMPDIR": temporary.url.path,
        ])
        #expect(result.status == 1, "\(result.standardOutput)\n\(result.standardError)")
        #expect(result.standardOutput.contains("PASS  bump_test.lua:4  goes to its sandbox whatever the environment says"), "\(result.standardOutput)")
        #expect(result.standardOutput.contains(
            "bump_test.lua:10: run: base_url is not an option of a test's run: a test runs only against its case's sandbox"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: state.url.path).isEmpty, "no journal outside the case")
        #expect(try FileManager.default.contentsOfDirectory(atPath: temporary.url.path).isEmpty, "the cases' directories are removed")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.url.path).sorted() == ["bump.lua", "bump_test.lua"])
    }

    @Test func fixturesTakeSeedFilesCommentsCustomFieldsAndOffsetsFromTheCaseClock() async throws {
        let directory = try suite(#"""
            it("sees what the fixture says", function()
              given{ seed = "fixtures/tenant.json", now = "2026-11-26T12:00:00Z" }
              given{
                users = { { display_id = "DEVU-9", display_name = "zoe" } },
                incidents = { {
                  title = "B", owned_by = { "DEVU-9" }, created_date = "-45m", modified_date = 1795694400,
                  custom_fields = { tnt__impact = "high" },
                  comments = { { body = "paged the DBA", created_by = "DEVU-9", created_date = "-30m", labels = { "page" } } },
                } },
              }
              assert.equal("A", sandbox.incident("INC-1").title, "the seed's incidents come first")
              local b = sandbox.incident("INC-2")
              assert.equal("zoe", b.owned_by[1].display_name)
              assert.equal(sandbox.date("-45m"), b.created_date)
              assert.equal("2026-11-26T12:00:00.000Z", b.modified_date)
              assert.same({ tnt__impact = "high" }, b.custom_fields)
              local comments = sandbox.comments("INC-2")
              assert.equal("paged the DBA", comments[1].body)
              assert.equal("2026-11-26T11:30:00.000Z", comments[1].created_date)
              assert.equal(1795694400, sandbox.now())
            end)

            it("moves its clock with a run's now", function()
              given{ now = "2026-11-26T12:00:00Z", incidents = { { title = "A", stage = "reported" } } }
              local result = run{ now = "+1h" }
              assert.exit(result, 0)
              assert.equal("2026-11-26T13:00:00.000Z", sandbox.incident("INC-1").modified_date)
            end)
            """#)
        try directory.write("fixtures/tenant.json", #"""
            {"current_user": "DEVU-1",
             "users": [{"id": "don:identity:dvrv-us-1:devo/x:devu/1", "display_id": "DEVU-1", "display_name": "ana"}],
             "parts": [], "tags": [],
             "stages": [{"id": "don:core:dvrv-us-1:devo/x:custom_stage/1", "name": "reported", "state": "open"}],
             "incidents": [{"title": "A", "owned_by": ["DEVU-1"]}]}
            """#)
        let result = try await run([], in: directory)
        #expect(result.status == 0, "\(result.standardOutput)\n\(result.standardError)")
        #expect(result.standardOutput.contains("2 passed, 0 failed"))
    }

    @Test func badFixturesAndRunawayCasesAreFailuresNamingTheirLine() async throws {
        let directory = try suite("""
            it("misspells a field", function()
              given{ incidents = { { titel = "A" } } }
            end)

            it("gives a severity DevRev would refuse", function()
              given{ incidents = { { title = "A", severity = "high" } } }
            end)

            it("names a user the tenant does not have", function()
              given{ incidents = { { title = "A", owned_by = { "DEVU-404" } } } }
            end)

            it("never ends", function()
              while true do end
            end)

            it("still runs", function()
              assert.exit(run{}, 0)
            end)
            """)
        let result = try await run(["--timeout", "2s"], in: directory)
        #expect(result.status == 1, "\(result.standardOutput)\n\(result.standardError)")
        let output = result.standardOutput
        #expect(output.contains("bump_test.lua:2: given: incidents[1]: unknown field 'titel'; did you mean 'title'?"), "\(output)")
        #expect(output.contains("bump_test.lua:6: given: incidents[1].severity: expected"))
        #expect(output.contains("bump_test.lua:10: given: invalid seed: incidents[1].owned_by: no user 'DEVU-404'"))
        #expect(output.contains("bump_test.lua:14: timeout: the case ran past --timeout 2s"))
        #expect(output.contains("PASS  bump_test.lua:17  still runs"))
        #expect(output.contains("1 passed, 4 failed"))
    }
}

/// The test cases of a JUnit XML file, read with an XML parser.
final class JUnitCases: NSObject, XMLParserDelegate {
    private(set) var suites: [String] = []
    private(set) var names: [String] = []
    private(set) var failures: [String] = []
    private(set) var failureText: [String] = []
    private var current: String?
    private var inFailure = false

    init(contentsOf url: URL) throws {
        super.init()
        let parser = XMLParser(data: try Data(contentsOf: url))
        parser.delegate = self
        guard parser.parse() else { throw parser.parserError ?? CocoaError(.fileReadCorruptFile) }
    }

    func parser(_ parser: XMLParser, didStartElement element: String, namespaceURI: String?, qualifiedName: String?,
                attributes: [String: String] = [:]) {
        switch element {
        case "testsuite": suites.append(attributes["name"] ?? "")
        case "testcase":
            current = attributes["name"]
            names.append(attributes["name"] ?? "")
        case "failure":
            failures.append(current ?? "")
            failureText.append("")
            inFailure = true
        default: break
        }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        if inFailure { failureText[failureText.count - 1] += string }
    }

    func parser(_ parser: XMLParser, didEndElement element: String, namespaceURI: String?, qualifiedName: String?) {
        if element == "failure" { inFailure = false }
    }
}
