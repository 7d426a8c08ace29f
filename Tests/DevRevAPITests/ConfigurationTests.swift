import DevRevAPI
import Foundation
import Testing

@Suite("Configuration")
struct ConfigurationTests {
    @Test(arguments: [
        "https://api.devrev.ai", "https://api.devrev.ai/", "http://127.0.0.1:8080", "http://localhost:9000/base",
        "http://[::1]:8080", "http://127.10.0.3", "https://example.com:8443/prefix",
    ])
    func acceptedBaseURLs(text: String) throws {
        _ = try BaseURL(text)
    }

    @Test(arguments: [
        "http://api.devrev.ai", "http://10.0.0.1:8080", "http://128.0.0.1", "ftp://api.devrev.ai", "api.devrev.ai",
        "https://", "https://user:pass@api.devrev.ai", "https://api.devrev.ai:0", "https://api.devrev.ai:70000",
        "https://api.devrev.ai/?x=1", "http://localhost.evil.com",
    ])
    func refusedBaseURLs(text: String) {
        #expect(throws: DevRevConfigurationError.self) { try BaseURL(text) }
    }

    @Test func plainHTTPIsRefusedWithAMessageThatSaysWhy() {
        #expect(throws: DevRevConfigurationError.invalidBaseURL(
            "http://api.devrev.ai",
            reason: "plain http is allowed only for loopback hosts (127.0.0.0/8, ::1, localhost); use https")
        ) { try BaseURL("http://api.devrev.ai") }
    }

    @Test func operationURLs() throws {
        #expect(try BaseURL("https://api.devrev.ai/").url(for: "incidents.update") == "https://api.devrev.ai/incidents.update")
        #expect(try BaseURL("http://[::1]:8080/v").url(for: "incidents.get") == "http://[::1]:8080/v/incidents.get")
    }

    /// Kubernetes mounts a Secret for a pod's fsGroup as root:GROUP 0440; PostgreSQL's key files
    /// follow the same rule. Group-readable is accepted from root only, never other-readable.
    @Test(.enabled(if: getuid() == 0, "giving a file to root needs root"))
    func tokenFileOfRootMayBeReadByItsGroupOnly() throws {
        let path = try tokenFile("secret-token-value\n", mode: 0o440)
        defer { unlink(path) }
        try #require(chown(path, 0, 65534) == 0)
        #expect(try DevRevToken.fromFile(path).value == "secret-token-value")
        chmod(path, 0o640)
        #expect(try DevRevToken.fromFile(path).value == "secret-token-value")
        for mode in [mode_t(0o660), 0o444, 0o644] {
            chmod(path, mode)
            #expect(throws: DevRevConfigurationError.tokenFileTooOpen(path: path, mode: String(mode, radix: 8))) { try DevRevToken.fromFile(path) }
        }
    }

    private func tokenFile(_ contents: String, mode: mode_t) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("token-\(UUID().uuidString)").path
        try contents.write(toFile: path, atomically: false, encoding: .utf8)
        chmod(path, mode)
        return path
    }

    @Test func tokenFileWithOwnerOnlyModeIsReadAndItsNewlineStripped() throws {
        let path = try tokenFile("secret-token-value\n", mode: 0o600)
        defer { unlink(path) }
        #expect(try DevRevToken.fromFile(path).value == "secret-token-value")
        chmod(path, 0o400)
        #expect(try DevRevToken.fromFile(path).value == "secret-token-value")
    }

    @Test(arguments: [mode_t(0o644), 0o640, 0o604, 0o660, 0o444])
    func tokenFileReadableByOthersIsRefused(mode: mode_t) throws {
        let path = try tokenFile("secret-token-value\n", mode: mode)
        defer { unlink(path) }
        // A file of root's may be read by its group (below); this one belongs to someone else.
        if getuid() == 0 { chown(path, 65534, 65534) }
        #expect(throws: DevRevConfigurationError.tokenFileTooOpen(path: path, mode: String(mode, radix: 8))) {
            try DevRevToken.fromFile(path)
        }
        let message = "\(DevRevConfigurationError.tokenFileTooOpen(path: path, mode: String(mode, radix: 8)))"
        #expect(message.contains("chmod 600 \(path)"))
    }

    @Test func missingEmptyAndMultilineTokensAreRefused() throws {
        #expect(throws: DevRevConfigurationError.self) { try DevRevToken.fromFile("/nonexistent/token") }
        let empty = try tokenFile("\n", mode: 0o600)
        defer { unlink(empty) }
        #expect(throws: DevRevConfigurationError.emptyToken) { try DevRevToken.fromFile(empty) }
        let multiline = try tokenFile("a\nb\n", mode: 0o600)
        defer { unlink(multiline) }
        #expect(throws: DevRevConfigurationError.malformedToken) { try DevRevToken.fromFile(multiline) }
        unsetenv("RUNBOOK_TEST_NO_TOKEN")
        #expect(throws: DevRevConfigurationError.missingToken(variable: "RUNBOOK_TEST_NO_TOKEN")) {
            try DevRevToken.fromEnvironment("RUNBOOK_TEST_NO_TOKEN")
        }
    }

    @Test func theTokenNeverShowsInDescriptions() throws {
        let token = try DevRevToken("tok-123-secret")
        let configuration = DevRevConfiguration(baseURL: try BaseURL("https://api.devrev.ai"), token: token)
        for text in ["\(token)", String(reflecting: token), "\(configuration)", String(reflecting: configuration), String(describing: [token])] {
            #expect(!text.contains("tok-123-secret"), "\(text)")
        }
        var dumped = ""
        dump(configuration, to: &dumped)
        #expect(!dumped.contains("tok-123-secret"))
    }
}
