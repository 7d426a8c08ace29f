import DevRevAPI
import Foundation

/// The forms of a test run's results: a line per case, JUnit XML for CI systems, and JSON.
enum TestReports {
    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    /// `PASS  examples/x_test.lua:12  name (0.21s)`, and for a failure its message, indented.
    static func line(_ result: TestCaseResult) -> String {
        let place = "\(result.file):\(result.line)"
        switch result.status {
        case .passed:
            return "PASS  \(place)  \(result.name) (\(String(format: "%.2f", seconds(result.duration)))s)\n"
        case .skipped:
            return "SKIP  \(place)  \(result.name) (pending)\n"
        case .failed:
            var text = "FAIL  \(place)  \(result.name) (\(String(format: "%.2f", seconds(result.duration)))s)\n"
            text += indented([result.location, result.message].compactMap { $0 }.joined(separator: ": ")) + "\n"
            if !result.output.isEmpty { text += "      printed:\n" + indented(result.output, by: 8) + "\n" }
            return text
        }
    }

    static func indented(_ text: String, by count: Int = 6) -> String {
        let pad = String(repeating: " ", count: count)
        return text.split(separator: "\n", omittingEmptySubsequences: false).map { pad + $0 }.joined(separator: "\n")
    }

    // MARK: JUnit

    /// The JUnit XML most CI systems read: a suite per test file, a case per `it`; a file that
    /// did not load is a suite with one errored case.
    static func junit(_ files: [TestFileResult], duration: Duration) -> String {
        let summary = TestSummary(files: files, duration: duration)
        var xml = #"<?xml version="1.0" encoding="UTF-8"?>"# + "\n"
        xml += "<testsuites name=\"runbook test\" tests=\"\(summary.passed + summary.failed + summary.skipped + summary.loadFailures)\" "
        xml += "failures=\"\(summary.failed)\" errors=\"\(summary.loadFailures)\" skipped=\"\(summary.skipped)\" time=\"\(time(duration))\">\n"
        for file in files {
            let classname = escape(file.path.replacingOccurrences(of: "/", with: ".").replacingOccurrences(of: ".lua", with: ""))
            let failed = file.cases.filter { $0.status == .failed }.count
            let skipped = file.cases.filter { $0.status == .skipped }.count
            let total = file.cases.reduce(Duration.zero) { $0 + $1.duration }
            let count = file.loadFailure == nil ? file.cases.count : 1
            xml += "  <testsuite name=\"\(escape(file.path))\" file=\"\(escape(file.path))\" tests=\"\(count)\" failures=\"\(failed)\" "
            xml += "errors=\"\(file.loadFailure == nil ? 0 : 1)\" skipped=\"\(skipped)\" time=\"\(time(total))\">\n"
            if let failure = file.loadFailure {
                xml += "    <testcase name=\"(load)\" classname=\"\(classname)\" file=\"\(escape(file.path))\" time=\"0\">\n"
                xml += "      <error message=\"\(escape(firstLine(failure)))\" type=\"load\">\(escape(failure))</error>\n"
                xml += "    </testcase>\n"
            }
            for result in file.cases {
                xml += "    <testcase name=\"\(escape(result.name))\" classname=\"\(classname)\" file=\"\(escape(file.path))\" "
                xml += "line=\"\(result.line)\" time=\"\(time(result.duration))\""
                switch result.status {
                case .passed:
                    xml += "/>\n"
                case .skipped:
                    xml += ">\n      <skipped message=\"pending\"/>\n    </testcase>\n"
                case .failed:
                    let message = [result.location, result.message].compactMap { $0 }.joined(separator: ": ")
                    xml += ">\n      <failure message=\"\(escape(firstLine(result.message ?? "")))\" type=\"assertion\">\(escape(message))</failure>\n"
                    if !result.output.isEmpty { xml += "      <system-out>\(escape(result.output))</system-out>\n" }
                    xml += "    </testcase>\n"
                }
            }
            xml += "  </testsuite>\n"
        }
        return xml + "</testsuites>\n"
    }

    private static func time(_ duration: Duration) -> String { String(format: "%.3f", seconds(duration)) }

    private static func firstLine(_ text: String) -> String {
        String(text.split(separator: "\n", maxSplits: 1).first ?? "")
    }

    /// Text for an XML attribute or element: markup escaped, and characters XML 1.0 cannot hold
    /// (control characters other than tab and newline) shown as `\u{1B}`.
    static func escape(_ text: String) -> String {
        var result = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "\n": result += "&#10;"
            case "\t": result += "&#9;"
            case "\r": result += "&#13;"
            case _ where scalar.value < 0x20 || scalar.value == 0xFFFE || scalar.value == 0xFFFF:
                result += "\\u{\(String(scalar.value, radix: 16, uppercase: true))}"
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    // MARK: JSON

    static func json(_ files: [TestFileResult], summary: TestSummary) -> String {
        let fileValues: [JSONValue] = files.map { file in
            var object: [String: JSONValue] = ["path": .string(file.path)]
            if let failure = file.loadFailure { object["error"] = .string(failure) }
            object["cases"] = .array(file.cases.map { result in
                var fields: [String: JSONValue] = [
                    "name": .string(result.name), "line": .integer(Int64(result.line)), "status": .string(result.status.rawValue),
                    "duration_ms": .integer(Int64(seconds(result.duration) * 1000)),
                ]
                if let message = result.message { fields["message"] = .string(message) }
                if let location = result.location { fields["location"] = .string(location) }
                if !result.output.isEmpty { fields["output"] = .string(result.output) }
                return .object(fields)
            })
            return .object(object)
        }
        let report: JSONValue = .object([
            "version": .string(RunbookVersion.number),
            "files": .array(fileValues),
            "summary": .object([
                "passed": .integer(Int64(summary.passed)), "failed": .integer(Int64(summary.failed)),
                "pending": .integer(Int64(summary.skipped)), "load_errors": .integer(Int64(summary.loadFailures)),
                "files": .integer(Int64(summary.files)), "duration_ms": .integer(Int64(seconds(summary.duration) * 1000)),
            ]),
            "golden_written": .array(summary.goldenWritten.map { .string($0) }),
        ])
        return (try? String(decoding: JSONWriter.bytes(report), as: UTF8.self)) ?? "{}"
    }
}
