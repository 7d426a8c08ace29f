import DevRevAPI
@testable import DevRevSandbox
import Foundation

let sandboxToken = "sandbox-test-token"

/// Starts a sandbox and a client pointed at it; stops both afterwards.
func withSandbox<T>(
    _ configuration: SandboxConfiguration = SandboxConfiguration(token: sandboxToken),
    maxAttempts: Int = 1,
    token: String = sandboxToken,
    _ body: (DevRevClient, Sandbox) async throws -> T
) async throws -> T {
    let sandbox = try await Sandbox.start(configuration)
    let client = DevRevClient(configuration: DevRevConfiguration(
        baseURL: try BaseURL(sandbox.baseURL), token: try DevRevToken(token),
        timeouts: .init(connect: .seconds(2), attempt: .seconds(10), total: .seconds(30)),
        retry: .init(maxAttempts: maxAttempts, initialBackoff: .milliseconds(5), maxBackoff: .milliseconds(20))))
    do {
        let result = try await body(client, sandbox)
        try await client.shutdown()
        await sandbox.stop()
        return result
    } catch {
        try? await client.shutdown()
        await sandbox.stop()
        throw error
    }
}

func caught(_ body: () async throws(DevRevError) -> Void) async -> DevRevError? {
    do {
        try await body()
        return nil
    } catch {
        return error
    }
}

/// Sends raw JSON to an operation and returns the error it gets.
func rawError(_ client: DevRevClient, _ operation: DevRevOperation, _ json: String) async -> DevRevError? {
    await caught { () throws(DevRevError) in _ = try await client.send(operation, body: Array(json.utf8)) }
}

/// A tenant with `count` incidents, for pagination.
func bulkTenant(count: Int) -> Tenant {
    var tenant = Tenant.demo()
    tenant.incidents = (1...count).map { index in
        Tenant.SeedIncident(title: "Incident \(index)", severity: Int64(index % 4), stage: "reported", ownedBy: ["DEVU-\(index % 5 + 1)"])
    }
    return tenant
}

func temporaryPath(_ name: String) -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString)").path
}
