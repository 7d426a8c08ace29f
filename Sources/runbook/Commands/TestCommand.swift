import ArgumentParser
import RunbookKit

struct TestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Run the tests of runbooks (NAME_test.lua files) against sandboxes of their own.",
        discussion: """
            Finds *_test.lua files in the given directories (recursively; default: the current one) and runs \
            every case (it) in a Lua VM and a sandbox of its own, several at once, reported in file order. A case's \
            runs use the same runtime, limits and exit codes as runbook run; they go only to the case's sandbox, \
            read no token and write only in the case's temporary directory. See docs/testing.md.
            Exit 0 when every case passes, 1 when one fails, 65 when a test file does not load, 64 when no test \
            file is found or no case matches --filter.
            """
    )

    @Argument(help: "Test files, or directories to search for *_test.lua files (default: the current directory).")
    var paths: [String] = []

    @Option(help: ArgumentHelp("Run only the cases whose full name (describe > it) matches this regular expression.", valueName: "PATTERN"))
    var filter: String?

    @Option(help: ArgumentHelp("Also write the results as JUnit XML, as CI systems read them.", valueName: "FILE"))
    var junit: String?

    @Option(help: "text: a line per case and a summary; json: one report on standard output.")
    var output: OutputFormat = .text

    @Flag(help: "Write golden plans (assert.plan) from this run instead of comparing with them.")
    var update = false

    @Option(help: ArgumentHelp("The most one case may take, its runs included, e.g. 30s.", valueName: "DURATION"))
    var timeout = DurationValue(.seconds(30))

    @Option(help: ArgumentHelp("Cases run at once (default: the number of processors).", valueName: "N"))
    var jobs: Int?

    func validate() throws {
        if let jobs, jobs < 1 { throw ValidationError("--jobs must be 1 or more") }
        if timeout.duration <= .zero { throw ValidationError("--timeout must be longer than zero") }
    }

    func run() async throws {
        var options = TestRunOptions(paths: paths, filter: filter, junitPath: junit, jobs: jobs)
        options.output = output
        options.update = update
        options.timeout = timeout.duration
        let status = await TestRunner.run(options)
        if status != .success { throw ExitCode(status.rawValue) }
    }
}
