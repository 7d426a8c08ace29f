import Foundation
import Testing
import Yams

/// The files in deploy/, held to the real tools: hadolint for the Dockerfile, kubernetes-validate
/// --strict for the manifests, systemd-analyze verify for the units; and to the binary itself:
/// the image installs exactly the libraries it links. Each linter is also shown a broken copy, so
/// a linter that stopped checking would fail here. No container engine runs on the machines
/// these tests run on: the image itself is not built.
@Suite("Deploy files")
struct DeployTests {
    static let deploy = RunbookBinary.repository.appendingPathComponent("deploy")

    private func text(_ path: String) throws -> String {
        try String(contentsOf: Self.deploy.appendingPathComponent(path), encoding: .utf8)
    }

    /// Runs a command to its end; exit status and everything it printed.
    private func execute(_ executable: String, _ arguments: [String], in directory: URL? = nil) async throws -> (Int32, String) {
        try await offPool {
            Result { () throws -> (Int32, String) in
                let process = Process()
                process.executableURL = URL(fileURLWithPath: executable)
                process.arguments = arguments
                if let directory { process.currentDirectoryURL = directory }
                let output = Pipe()
                process.standardOutput = output
                process.standardError = output
                try process.run()
                let data = output.fileHandleForReading.readDataToEndOfFile()
                process.waitUntilExit()
                return (process.terminationStatus, String(decoding: data, as: UTF8.self))
            }
        }.get()
    }

    @Test func theDockerfilePassesHadolint() async throws {
        let hadolint = try PythonTools.tool("hadolint")
        let config = Self.deploy.appendingPathComponent(".hadolint.yaml").path
        let (status, output) = try await execute(hadolint, ["--config", config, Self.deploy.appendingPathComponent("Dockerfile").path])
        #expect(status == 0, "\(output)")
        let broken = try ScriptDirectory()
        let path = try broken.write("Dockerfile", try text("Dockerfile").replacingOccurrences(of: "FROM debian:bookworm-slim", with: "FROM debian"))
        let (brokenStatus, brokenOutput) = try await execute(hadolint, ["--config", config, path])
        #expect(brokenStatus != 0 && brokenOutput.contains("DL3006"), "an untagged base image is reported: \(brokenOutput)")
    }

    @Test func theManifestsPassKubernetesValidateStrict() async throws {
        let validate = try PythonTools.tool("kubernetes-validate")
        let manifests = try FileManager.default.contentsOfDirectory(atPath: Self.deploy.appendingPathComponent("kubernetes").path)
            .filter { $0.hasSuffix(".yaml") }.sorted()
        #expect(manifests == ["configmap.yaml", "cronjob.yaml", "secret.yaml"])
        let paths = manifests.map { Self.deploy.appendingPathComponent("kubernetes/\($0)").path }
        let (status, output) = try await execute(validate, ["--strict"] + paths)
        #expect(status == 0, "\(output)")
        #expect(output.components(separatedBy: " passed for resource ").count - 1 == 3, "\(output)")
        let broken = try ScriptDirectory()
        let path = try broken.write("cronjob.yaml", try text("kubernetes/cronjob.yaml")
            .replacingOccurrences(of: "concurrencyPolicy: Forbid", with: "concurrencyPolicy: Forbid\n  concurrency: 1"))
        let (brokenStatus, brokenOutput) = try await execute(validate, ["--strict", path])
        #expect(brokenStatus != 0, "an unknown field fails --strict: \(brokenOutput)")
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/systemd-analyze"), "systemd-analyze is not installed (Debian's systemd)"))
    func theSystemdUnitsVerifyWithoutAWord() async throws {
        // verify needs the units under an instance's name and an ExecStart= that exists: the
        // built binary stands in for /usr/local/bin/runbook. It exits 0 on unknown keys, so any
        // output is a failure.
        func verify(_ edit: (String) -> String = { $0 }) async throws -> String {
            let directory = try ScriptDirectory()
            try directory.write("runbook@verify.service", edit(try text("systemd/runbook@.service"))
                .replacingOccurrences(of: "/usr/local/bin/runbook", with: RunbookBinary.path))
            try directory.write("runbook@verify.timer", try text("systemd/runbook@.timer"))
            try directory.write("runbook@verify.service.d/metrics.conf", try text("systemd/runbook@.service.d/metrics.conf"))
            let (status, output) = try await execute(
                "/usr/bin/systemd-analyze", ["verify", "--man=no", "./runbook@verify.service", "./runbook@verify.timer"], in: directory.url)
            return status == 0 ? output : "exit \(status): \(output)"
        }
        let output = try await verify()
        #expect(output.isEmpty, "\(output)")
        let broken = try await verify { $0.replacingOccurrences(of: "ProtectSystem=strict", with: "ProtectSystem=stricter") }
        #expect(broken.contains("stricter"), "a bad value is reported: \(broken)")
    }

    @Test func theImageInstallsExactlyTheLibrariesTheBinaryLinks() async throws {
        // The release build links the Swift libraries statically (--static-swift-stdlib) and
        // every other library as the test build does: the test build's own libraries, less
        // Swift's, are the release binary's.
        let (status, ldd) = try await execute("/usr/bin/ldd", [RunbookBinary.path])
        #expect(status == 0, "\(ldd)")
        let system = ldd.split(separator: "\n").compactMap { line -> String? in
            guard let arrow = line.range(of: "=> ") else { return nil }
            let path = String(line[arrow.upperBound...].prefix { $0 != " " })
            return path.hasPrefix("/lib/") || path.hasPrefix("/usr/lib/") ? path : nil
        }
        #expect(system.contains { $0.contains("liblua5.4") }, "\(ldd)")
        var packages: Set<String> = []
        for path in system {
            // dpkg knows a file by the path its package ships, /lib/... or /usr/lib/... (the same
            // directory on Debian 12), and by its link's name or its real file's.
            let real = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
            let candidates = [path, real].flatMap { [$0, $0.hasPrefix("/usr/lib/") ? String($0.dropFirst(4)) : "/usr" + $0] }
            var owner: String?
            for candidate in candidates where owner == nil {
                let (found, output) = try await execute("/usr/bin/dpkg", ["-S", candidate])
                if found == 0 { owner = output.split(separator: ":").first.map(String.init) }
            }
            #expect(owner != nil, "no Debian package holds \(path)")
            if let owner { packages.insert(owner) }
        }
        packages.remove("libc6")
        let dockerfile = try text("Dockerfile")
        let declared = try #require(dockerfile.firstMatch(of: /ARG RUNTIME_LIBRARIES="([^"]*)"/)).1
        #expect(Set(declared.split(separator: " ").map(String.init)) == packages, "deploy/Dockerfile's RUNTIME_LIBRARIES")
        #expect(dockerfile.contains("--static-swift-stdlib"), "the image builds the binary this test reasons about")
    }

    @Test func theConfigMapHoldsTheExampleAsItIs() throws {
        let configMap = try #require(try Yams.load(yaml: try text("kubernetes/configmap.yaml")) as? [String: Any])
        let data = try #require(configMap["data"] as? [String: String])
        let example = try String(contentsOf: RunbookBinary.repository.appendingPathComponent("examples/escalate-unacknowledged.lua"), encoding: .utf8)
        #expect(data["escalate-unacknowledged.lua"] == example, "scripts/generate-templates writes the ConfigMap from the example")
    }

    @Test func theCronJobFitsTheRunsLimitsAndFailsFastOnWhatARetryCannotFix() throws {
        let cronJob = try #require(try Yams.load(yaml: try text("kubernetes/cronjob.yaml")) as? [String: Any])
        let spec = try #require(cronJob["spec"] as? [String: Any])
        #expect(spec["concurrencyPolicy"] as? String == "Forbid")
        let job = try #require((spec["jobTemplate"] as? [String: Any])?["spec"] as? [String: Any])
        let pod = try #require((job["template"] as? [String: Any])?["spec"] as? [String: Any])
        #expect(pod["restartPolicy"] as? String == "Never")
        let container = try #require((pod["containers"] as? [[String: Any]])?.first)
        let args = try #require(container["args"] as? [String])
        func option(_ name: String) -> String? { args.firstIndex(of: name).map { args[$0 + 1] } }
        let scriptMemory = try #require(option("--memory-limit"))
        #expect(scriptMemory == "64M")
        let limits = try #require((container["resources"] as? [String: Any])?["limits"] as? [String: Any])
        #expect(limits["memory"] as? String == "128Mi", "the VM's 64 MiB and the process's own, under 48 MiB")
        // Timeout plus jitter end before Kubernetes' own deadline.
        let timeout = try #require(option("--timeout")), jitter = try #require(option("--jitter"))
        #expect(timeout == "4m" && jitter == "20s")
        #expect(job["activeDeadlineSeconds"] as? Int ?? 0 > 240 + 20)
        let rules = try #require((job["podFailurePolicy"] as? [String: Any])?["rules"] as? [[String: Any]])
        let codes = try #require((rules.first?["onExitCodes"] as? [String: Any])?["values"] as? [Int])
        #expect(codes == [64, 65, 77, 78, 79])
        let mounts = try #require(container["volumeMounts"] as? [[String: Any]])
        let tokenMount = try #require(mounts.first { $0["name"] as? String == "devrev-token" })
        #expect(option("--token-file")?.hasPrefix(tokenMount["mountPath"] as? String ?? "?") == true)
        let security = try #require(container["securityContext"] as? [String: Any])
        #expect(security["readOnlyRootFilesystem"] as? Bool == true && security["allowPrivilegeEscalation"] as? Bool == false)
    }
}
