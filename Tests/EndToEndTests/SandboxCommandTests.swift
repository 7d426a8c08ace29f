import DevRevAPI
import Foundation
import Testing

/// `runbook sandbox` as a process: its first line, its token, a clean stop, and --db.
@Suite("runbook sandbox")
struct SandboxCommandTests {
    /// A running `runbook sandbox` process. Used by one test at a time, from one task.
    final class SandboxProcess: @unchecked Sendable {
        let process = Process()
        let output = Pipe()
        let errors = Pipe()
        private(set) var lines: [String] = []

        init(_ arguments: [String], environment: [String: String] = [:]) throws {
            process.executableURL = URL(fileURLWithPath: RunbookBinary.path)
            process.arguments = ["sandbox"] + arguments
            var merged = ProcessInfo.processInfo.environment
            merged.removeValue(forKey: "DEVREV_TOKEN")
            for (key, value) in environment { merged[key] = value }
            process.environment = merged
            process.standardOutput = output
            process.standardError = errors
            try process.run()
        }

        /// Reads standard output until `count` lines have arrived (off the cooperative pool).
        func readLines(_ count: Int) async -> [String] {
            await offPool { self.readLinesBlocking(count) }
        }

        private func readLinesBlocking(_ count: Int) -> [String] {
            var buffer = Data()
            while lines.count < count {
                let chunk = output.fileHandleForReading.availableData
                if chunk.isEmpty { break }
                buffer.append(chunk)
                let text = String(decoding: buffer, as: UTF8.self)
                lines = text.split(separator: "\n").map(String.init)
            }
            return lines
        }

        func stop(signal: Int32 = SIGTERM) async -> Int32 {
            kill(process.processIdentifier, signal)
            return await offPool {
                self.process.waitUntilExit()
                return self.process.terminationStatus
            }
        }

        func remainingText() async -> String {
            await offPool {
                String(decoding: self.output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                    + String(decoding: self.errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            }
        }
    }

    private func client(_ baseURL: String, token: String) throws -> DevRevClient {
        DevRevClient(configuration: DevRevConfiguration(
            baseURL: try BaseURL(baseURL), token: try DevRevToken(token), retry: .init(maxAttempts: 1)))
    }

    @Test func printsItsURLFirstServesTheDemoTenantAndStopsCleanly() async throws {
        let sandbox = try SandboxProcess([])
        let lines = await sandbox.readLines(2)
        let url = try #require(lines.first)
        #expect(url.hasPrefix("http://127.0.0.1:"))
        let tokenLine = try #require(lines.dropFirst().first)
        #expect(tokenLine.hasPrefix("DEVREV_TOKEN=sandbox-"))
        let client = try client(url, token: String(tokenLine.dropFirst("DEVREV_TOKEN=".count)))
        let incident = try await client.getIncident(id: "INC-1")
        #expect(incident.title == "Checkout returns 502 for EU customers")
        try await client.shutdown()
        #expect(await sandbox.stop() == 0)
    }

    @Test func aGivenTokenIsUsedAndNotPrinted() async throws {
        let sandbox = try SandboxProcess([], environment: ["DEVREV_TOKEN": "from-the-environment"])
        let url = try #require(await sandbox.readLines(1).first)
        let client = try client(url, token: "from-the-environment")
        _ = try await client.getIncident(id: "INC-1")
        try await client.shutdown()
        #expect(await sandbox.stop(signal: SIGINT) == 0)
        let rest = await sandbox.remainingText()
        #expect(!(sandbox.lines.joined() + rest).contains("from-the-environment"))
    }

    @Test func aDatabaseFileKeepsWritesAcrossRestarts() async throws {
        let database = FileManager.default.temporaryDirectory.appendingPathComponent("sandbox-\(UUID().uuidString).sqlite").path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: database + suffix) } }
        let first = try SandboxProcess(["--db", database, "--token", "t"])
        let firstURL = try #require(await first.readLines(1).first)
        let writer = try client(firstURL, token: "t")
        _ = try await writer.updateIncident(IncidentsUpdateRequest(id: "INC-4", title: "Disk full on db-3 (renamed)"))
        try await writer.shutdown()
        #expect(await first.stop() == 0)

        let second = try SandboxProcess(["--db", database, "--token", "t"])
        let secondURL = try #require(await second.readLines(1).first)
        let reader = try client(secondURL, token: "t")
        #expect(try await reader.getIncident(id: "INC-4").title == "Disk full on db-3 (renamed)")
        try await reader.shutdown()
        #expect(await second.stop() == 0)
    }

    @Test func aSeedFileIsServedAndABadOneRefused() async throws {
        let directory = try ScriptDirectory()
        let seed = try directory.write("seed.json", """
            {"users": [{"id": "u1", "display_id": "DEVU-1", "display_name": "solo"}],
             "parts": [], "tags": [], "current_user": "DEVU-1",
             "stages": [{"id": "s1", "name": "open", "state": "open"}, {"id": "s2", "name": "done", "state": "closed"}],
             "incidents": [{"title": "Only one", "severity": 3, "owned_by": ["DEVU-1"]}]}
            """)
        let sandbox = try SandboxProcess(["--seed", seed, "--token", "t"])
        let url = try #require(await sandbox.readLines(1).first)
        let client = try client(url, token: "t")
        let page = try await client.listIncidents(IncidentsListRequest())
        #expect(page.incidents?.map(\.title) == ["Only one"])
        try await client.shutdown()
        #expect(await sandbox.stop() == 0)

        let bad = try directory.write("bad.json", #"{"users": []}"#)
        let result = try await RunbookBinary.run(["sandbox", "--seed", bad])
        #expect(result.status == 65)
        #expect(result.standardError.contains("invalid seed"))
    }
}
