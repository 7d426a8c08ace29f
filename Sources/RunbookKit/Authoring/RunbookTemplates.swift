import Foundation
import LuaRuntime

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `runbook new NAME`: a new runbook from a template, its header filled in for its name, and its
/// test file (`NAME_test.lua`, for `runbook test`). The templates are the examples
/// (`RunbookTemplates.examples`, generated from examples/), each a runbook with its tests, and
/// `blank`, a header, a loop and three cases.
public enum RunbookTemplates {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
        /// The name, the template or an existing file (64), rather than the file system.
        public let isUsage: Bool
    }

    /// Template names, in the order `--help` lists them.
    public static var names: [String] { examples.map(\.name) + ["blank"] }

    static let blank = """
        --- @name NAME
        --- @description What this runbook does, in one line.
        --- @changes severity
        --- @param minutes integer = 30  a parameter, with its default and its help

        -- runbook.args holds the parameters; incident.list, incident.update and incident.comment do
        -- the work. See docs/lua-api.md.
        local cutoff = runbook.now() - runbook.args.minutes * 60
        for inc in incident.list{ stage = { "reported" } } do
          if runbook.time(inc.created_date) <= cutoff then
            print(inc.display_id, inc.title)
          end
        end

        """

    static let blankTest = """
        -- Tests of NAME.lua: runbook test NAME_test.lua (see docs/testing.md)
        describe("NAME", function()
          before_each(function()
            given{
              incidents = {
                { title = "Checkout returns 502 for EU customers", severity = 2, stage = "reported", created_date = "-45m" },
                { title = "Search index lagging", severity = 2, stage = "reported", created_date = "-10m" },
              },
            }
          end)

          it("lists what was reported more than 30 minutes ago", function()
            local result = run{ args = { minutes = 30 } }
            assert.exit(result, 0)
            assert.equal("INC-1\\tCheckout returns 502 for EU customers\\n", result.stdout)
            assert.no_changes(result)
          end)

          it("lists nothing when everything is newer", function()
            local result = run{ args = { minutes = 60 } }
            assert.exit(result, 0)
            assert.equal("", result.stdout)
          end)

          it("stops with exit 69 when DevRev keeps failing", function()
            local result = run{ faults = { { fault = 503, operation = "incidents.list" } } }
            assert.exit(result, 69)
          end)
        end)

        """

    /// The test file of template `template` for a runbook named `name`: the example's tests with
    /// the example's name (in `describe`, comments and golden plan paths) replaced by `name`.
    public static func testSource(template: String, name: String) throws(Failure) -> String {
        _ = try source(template: template, name: name)
        if template == "blank" { return blankTest.replacingOccurrences(of: "NAME", with: name) }
        guard let example = examples.first(where: { $0.name == template }) else { return "" }
        let stem = String(example.file.dropLast(".lua".count))
        return example.test.replacingOccurrences(of: stem, with: name) + "\n"
    }

    /// The source of template `template` for a runbook named `name`: the template's `@name` line
    /// names it; everything else is the template's.
    public static func source(template: String, name: String) throws(Failure) -> String {
        guard name.range(of: #"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"#, options: .regularExpression) != nil else {
            throw Failure(description: "'\(name)' is not a runbook name: use letters, digits, '-' and '_' (at most 64)", isUsage: true)
        }
        let text: String
        if template == "blank" {
            text = blank
        } else if let example = examples.first(where: { $0.name == template }) {
            text = example.source
        } else {
            let suggestion = EditDistance.nearest(template, among: names).map { "; did you mean '\($0)'?" } ?? ""
            throw Failure(description: "no template '\(template)'\(suggestion) (templates: \(names.joined(separator: ", ")))", isUsage: true)
        }
        var lines = text.components(separatedBy: "\n")
        if let index = lines.firstIndex(where: { $0.hasPrefix("--- @name ") }) {
            lines[index] = "--- @name \(name)"
        } else {
            lines.insert("--- @name \(name)", at: 0)
        }
        return lines.joined(separator: "\n")
    }

    /// Writes `NAME.lua` and `NAME_test.lua` into `directory` from `template`; never over an
    /// existing file (when either exists, neither is written). Returns their paths.
    public static func create(name: String, template: String, directory: String) throws(Failure) -> (script: String, test: String) {
        let text = try source(template: template, name: name)
        let test = try testSource(template: template, name: name)
        let base = (directory.hasSuffix("/") ? directory : directory + "/") + name
        let paths = (script: base + ".lua", test: base + "_test.lua")
        for path in [paths.script, paths.test] where access(path, F_OK) == 0 {
            throw Failure(description: "cannot write \(path): it exists; runbook new never overwrites a file", isUsage: true)
        }
        try write(text, to: paths.script)
        do throws(Failure) {
            try write(test, to: paths.test)
        } catch {
            unlink(paths.script)
            throw error
        }
        return paths
    }

    private static func write(_ text: String, to path: String) throws(Failure) {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o644)
        guard descriptor >= 0 else {
            let reason = errno == EEXIST ? "it exists; runbook new never overwrites a file" : String(cString: strerror(errno))
            throw Failure(description: "cannot write \(path): \(reason)", isUsage: errno == EEXIST)
        }
        defer { close(descriptor) }
        let written = Array(text.utf8).withUnsafeBytes { FileDescriptorWriter.write($0, to: descriptor) }
        guard written else {
            let reason = String(cString: strerror(errno))
            unlink(path)
            throw Failure(description: "cannot write \(path): \(reason)", isUsage: false)
        }
    }
}
