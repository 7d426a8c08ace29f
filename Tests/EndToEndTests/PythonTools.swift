import Foundation

/// The PyPI tools scripts/python-tools installs into .venv (scripts/test runs it first): the
/// reference implementations the tests hold runbook's output to.
enum PythonTools {
    struct Missing: Error, CustomStringConvertible {
        let description: String
    }

    static var venv: URL { RunbookBinary.repository.appendingPathComponent(".venv/bin") }

    /// The path of a tool in .venv; an error naming the script that installs it when it is absent.
    static func tool(_ name: String) throws -> String {
        let path = venv.appendingPathComponent(name).path
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw Missing(description: "\(path) is missing: run scripts/python-tools (scripts/test does)")
        }
        return path
    }

    /// Runs a tool; its exit status and its output (standard output, then standard error).
    static func run(_ name: String, _ arguments: [String], input: String? = nil) async throws -> (status: Int32, output: String) {
        let path = try tool(name)
        return try await offPool {
            Result { () throws -> (Int32, String) in
                let process = Process()
                process.executableURL = URL(fileURLWithPath: path)
                process.arguments = arguments
                let output = Pipe()
                process.standardOutput = output
                process.standardError = output
                let inputPipe = Pipe()
                process.standardInput = inputPipe
                try process.run()
                inputPipe.fileHandleForWriting.write(Data((input ?? "").utf8))
                try inputPipe.fileHandleForWriting.close()
                let data = output.fileHandleForReading.readDataToEndOfFile()
                process.waitUntilExit()
                return (process.terminationStatus, String(decoding: data, as: UTF8.self))
            }
        }.get()
    }

    /// One sample as prometheus-client's text parser reads it.
    struct Sample: Decodable, Equatable {
        var name: String
        var labels: [String: String]
        var value: Double
    }

    /// `text` through prometheus-client's parser (`text_string_to_metric_families`): every sample,
    /// with its family's type; an error with the parser's message when the text does not parse.
    static func prometheusSamples(_ text: String) async throws -> (samples: [Sample], types: [String: String]) {
        // (The imports start the string's first line: scripts/check-imports reads lines that start with one.)
        let code = "import json, sys\nfrom prometheus_client.parser import text_string_to_metric_families\n" + """
            families = list(text_string_to_metric_families(sys.stdin.read()))
            print(json.dumps({
                "types": {f.name: f.type for f in families},
                "samples": [{"name": s.name, "labels": s.labels, "value": s.value} for f in families for s in f.samples],
            }))
            """
        let (status, output) = try await run("python", ["-c", code], input: text)
        guard status == 0 else { throw Missing(description: "prometheus-client refused the text: \(output)\n---\n\(text)") }
        struct Parsed: Decodable {
            var types: [String: String]
            var samples: [Sample]
        }
        let parsed = try JSONDecoder().decode(Parsed.self, from: Data(output.utf8))
        return (parsed.samples, parsed.types)
    }
}

extension Array where Element == PythonTools.Sample {
    /// The value of the sample named `name` whose labels include `labels`.
    func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        first { sample in sample.name == name && labels.allSatisfy { key, value in sample.labels[key] == value } }?.value
    }
}
