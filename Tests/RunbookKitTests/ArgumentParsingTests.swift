import RunbookKit
import Testing

@Suite("Command-line values")
struct ArgumentParsingTests {
    @Test(arguments: [
        ("90s", Duration.seconds(90)), ("5m", .seconds(300)), ("1h30m", .seconds(5400)), ("250ms", .milliseconds(250)),
        ("1.5s", .milliseconds(1500)), ("2", .seconds(2)), (" 10s ", .seconds(10)), ("1m30s", .seconds(90)),
    ])
    func durations(text: String, expected: Duration) throws {
        #expect(try DurationArgument.parse(text) == expected)
    }

    @Test(arguments: ["", "s", "10x", "-5s", "0", "0s", "5 m", "1h-2m", "nan", "inf", "1e20s", "1e19", "9999999999"])
    func invalidDurations(text: String) {
        #expect(throws: DurationArgument.Invalid.self) { try DurationArgument.parse(text) }
    }

    @Test func durationsFormatAsOperatorsWriteThem() {
        #expect(DurationArgument.format(.seconds(1)) == "1s")
        #expect(DurationArgument.format(.milliseconds(250)) == "250ms")
        #expect(DurationArgument.format(.milliseconds(1500)) == "1.5s")
        #expect(DurationArgument.format(.seconds(300)) == "5m")
        #expect(DurationArgument.format(.seconds(5400)) == "1h30m")
        #expect(DurationArgument.format(.seconds(7200)) == "2h")
    }

    @Test(arguments: [
        ("256M", 256 << 20), ("256MiB", 256 << 20), ("1G", 1 << 30), ("512k", 512 << 10), ("4096", 4096), ("64mb", 64 << 20),
    ])
    func sizes(text: String, expected: Int) throws {
        #expect(try ByteSizeArgument.parse(text) == expected)
    }

    @Test(arguments: ["", "M", "12Q", "-1M", "0", "1.5G", "99999999999999999999G"])
    func invalidSizes(text: String) {
        #expect(throws: ByteSizeArgument.Invalid.self) { try ByteSizeArgument.parse(text) }
    }

    @Test func theLargestSizeFormatsWithoutOverflow() {
        #expect(ByteSizeArgument.format(Int.max) == "8589934592.0GiB")
    }

    @Test func sizesFormat() {
        #expect(ByteSizeArgument.format(256 << 20) == "256MiB")
        #expect(ByteSizeArgument.format(1536 << 20) == "1.5GiB")
        #expect(ByteSizeArgument.format(100) == "100B")
    }

    @Test func scriptArguments() throws {
        let plain = try ScriptArgument(parsing: "minutes=30")
        #expect(plain == ScriptArgument(key: "minutes", value: "30"))
        #expect(try ScriptArgument(parsing: "query=a=b").value == "a=b")
        #expect(try ScriptArgument(parsing: "empty=").value == "")
        #expect(throws: ScriptArgument.Invalid.self) { try ScriptArgument(parsing: "novalue") }
        #expect(throws: ScriptArgument.Invalid.self) { try ScriptArgument(parsing: "=x") }
        #expect(throws: ScriptArgument.Invalid.self) { try ScriptArgument(parsing: "9lives=x") }
        #expect(throws: ScriptArgument.Invalid.self) { try ScriptArgument(parsing: "a-b=x") }
    }

    @Test func runbookPathSplitsOnSemicolons() {
        #expect(RunOptions.searchPaths(fromEnvironment: "/a;;/b c;") == ["/a", "/b c"])
        #expect(RunOptions.searchPaths(fromEnvironment: nil) == [])
    }
}
