import DevRevSandbox
import Foundation
import Testing

@Suite("runbook doctor")
struct DoctorTests {
    /// An unsigned JWT whose payload has `exp` (doctor reads the claim, it does not verify).
    static func token(expiringIn seconds: TimeInterval) -> String {
        func encode(_ text: String) -> String {
            Data(text.utf8).base64EncodedString().replacingOccurrences(of: "+", with: "-")
                .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        }
        let expiry = Int(Date().timeIntervalSince1970 + seconds)
        return encode(#"{"alg":"none","typ":"JWT"}"#) + "." + encode(#"{"sub":"devu/1","exp":\#(expiry)}"#) + ".c2ln"
    }

    private func doctor(token: String, sandboxToken: String? = nil) async throws -> RunbookBinary.Result {
        let sandbox = try await Sandbox.start(SandboxConfiguration(token: sandboxToken ?? token))
        let result = try await RunbookBinary.run(["doctor", "--base-url", sandbox.baseURL], environment: ["DEVREV_TOKEN": token])
        await sandbox.stop()
        return result
    }

    @Test func aValidTokenPassesEveryCheck() async throws {
        let token = Self.token(expiringIn: 60 * 86_400)
        let result = try await doctor(token: token)
        #expect(result.status == 0, "\(result.standardOutput)")
        #expect(result.standardOutput.contains("ok   token: from DEVREV_TOKEN; expires in 59 days") || result.standardOutput.contains("ok   token: from DEVREV_TOKEN; expires in 60 days"))
        #expect(result.standardOutput.contains(" ms\n"), "the api line gives the latency")
        #expect(result.standardOutput.contains("ok   api: "))
        #expect(result.standardOutput.contains("ok   lock directory: "))
        #expect(result.standardOutput.contains("ok   journal directory: "))
        #expect(!(result.standardOutput + result.standardError).contains(token))
    }

    @Test func aTokenNearExpiryWarnsButPasses() async throws {
        let result = try await doctor(token: Self.token(expiringIn: 3 * 86_400 + 3600))
        #expect(result.status == 0)
        #expect(result.standardOutput.contains("warn token: from DEVREV_TOKEN; expires in 3 days"))
    }

    @Test func anExpiredTokenFails() async throws {
        let result = try await doctor(token: Self.token(expiringIn: -86_400))
        #expect(result.status == 78)
        #expect(result.standardOutput.contains("fail token: from DEVREV_TOKEN; expired on"))
    }

    @Test func aRejectedTokenFailsWith77() async throws {
        let result = try await doctor(token: Self.token(expiringIn: 30 * 86_400), sandboxToken: "another")
        #expect(result.status == 77)
        #expect(result.standardOutput.contains("fail api: "))
        #expect(result.standardOutput.contains("unauthenticated (401)"))
    }

    @Test func noTokenFailsWith78() async throws {
        let result = try await RunbookBinary.run(["doctor", "--base-url", "http://127.0.0.1:9"])
        #expect(result.status == 78)
        #expect(result.standardOutput.contains("fail token: no DevRev token"))
    }
}
