import DevRevAPI
@testable import DevRevSandbox
import Foundation
import Testing

@Suite("Sandbox errors, limits, faults and storage")
struct SandboxBehaviourTests {
    @Test func aWrongTokenIsUnauthenticated() async throws {
        try await withSandbox(token: "not-the-token") { client, _ in
            let error = await caught { () throws(DevRevError) in _ = try await client.getIncident(id: "INC-1") }
            #expect(error?.status == 401)
            #expect(error?.type == .unauthenticated)
            #expect(error?.isNotAllowed == true)
        }
    }

    @Test func strictValidationWithDevRevsErrorBodies() async throws {
        try await withSandbox { client, _ in
            let unknown = await rawError(client, .updateIncident, #"{"id":"INC-1","titel":"x"}"#)
            #expect(unknown?.type == .invalidField)
            #expect(unknown?.fieldName == "titel")
            let nested = await rawError(client, .updateIncident, #"{"id":"INC-1","tags":{"set":[{"tag_id":"TAG-1","colour":"red"}]}}"#)
            #expect(nested?.fieldName == "tags.set[0].colour")
            let wrongType = await rawError(client, .updateIncident, #"{"id":"INC-1","severity":"sev1"}"#)
            #expect(wrongType?.type == .unexpectedJSONType)
            #expect(wrongType?.fieldName == "severity")
            let wrongNested = await rawError(client, .updateIncident, #"{"id":"INC-1","owned_by":{"set":["DEVU-1",7]}}"#)
            #expect(wrongNested?.fieldName == "owned_by.set[1]")
            let missing = await rawError(client, .updateIncident, #"{"severity":1}"#)
            #expect(missing?.type == .missingRequiredField)
            #expect(missing?.fieldName == "id")
            let notJSON = await rawError(client, .getIncident, "{nope")
            #expect(notJSON?.type == .parseError)
            let unknownID = await rawError(client, .getIncident, #"{"id":"INC-999"}"#)
            #expect(unknownID?.status == 404)
            #expect(unknownID?.type == .notFound)
            let unknownOwner = await rawError(client, .updateIncident, #"{"id":"INC-1","owned_by":{"set":["DEVU-99"]}}"#)
            #expect(unknownOwner?.type == .invalidID)
            #expect(unknownOwner?.fieldName == "owned_by.set[0]")
            let badDate = await rawError(client, .updateIncident, #"{"id":"INC-1","target_close_date":"tomorrow"}"#)
            #expect(badDate?.type == .badRequest)
            let unsupported = await rawError(client, .listIncidents, #"{"pia":["x"]}"#)
            #expect(unsupported?.type == .badRequest)
            // A failed request changes nothing.
            let unchanged = try await client.getIncident(id: "INC-1")
            #expect(unchanged.ownedBy?.first?.displayId == "DEVU-1")
        }
    }

    @Test func theQuotaAnswers429WithRetryAfterAndTheHeaders() throws {
        let store = try SandboxStore(path: nil, seed: .demo(), now: Date())
        let router = SandboxRouter(
            service: IncidentService(store: store, clock: { Date() }), timeline: TimelineService(store: store, clock: { Date() }),
            traffic: TrafficControl(rateLimit: .init(quota: 3, window: .seconds(60)), faults: .init()), token: "t")
        var answers: [(Int, [(String, String)], String)] = []
        for _ in 0..<4 {
            guard case .reply(let status, let headers, let body) = router.respond(
                method: "POST", path: "/incidents.get", authorization: "Bearer t", body: Array(#"{"id":"INC-1"}"#.utf8))
            else {
                Issue.record("no reply")
                return
            }
            answers.append((status, headers, String(decoding: body, as: UTF8.self)))
        }
        #expect(answers.map(\.0) == [200, 200, 200, 429])
        func header(_ index: Int, _ name: String) -> String? { answers[index].1.first { $0.0 == name }?.1 }
        #expect(header(0, "X-Ratelimit-Limit") == "3")
        #expect(header(0, "X-Ratelimit-Remaining") == "2")
        #expect(header(2, "X-Ratelimit-Remaining") == "0")
        #expect(header(0, "X-Ratelimit-Reset").flatMap(Int64.init) ?? 0 > Int64(Date().timeIntervalSince1970))
        #expect(header(0, "X-Request-Id") != header(1, "X-Request-Id"))
        let wait = try #require(header(3, "Retry-After").flatMap(Int.init))
        #expect((1...60).contains(wait))
        #expect(answers[3].2.contains(#""retry_after":\#(wait)"#))
        #expect(answers[3].2.contains(#""type":"too_many_requests""#))
    }

    @Test func theClientWaitsForTheResetInsteadOfSpendingA429() async throws {
        let configuration = SandboxConfiguration(token: sandboxToken, rateLimit: .init(quota: 3, window: .seconds(300)))
        try await withSandbox(configuration) { client, sandbox in
            _ = try await client.getIncident(id: "INC-1")
            _ = try await client.getIncident(id: "INC-1")
            // The first answer said Remaining: 2 with the reset 300 s away: the client spreads the
            // two requests left over the window, one now and one 150 s later, past this call's
            // 30 s deadline.
            let error = await caught { () throws(DevRevError) in _ = try await client.getIncident(id: "INC-1") }
            #expect(error?.kind == .rateLimited, "rate limited (a run exits 75), not a timeout of DevRev's (69)")
            #expect(error?.isRateLimited == true)
            #expect(error?.neverSent == true)
            #expect(error?.message.contains("rate limit") == true)
            #expect(sandbox.statistics.snapshot.requests == 2, "no request was spent on a 429")
            #expect(sandbox.statistics.snapshot.throttled == 0)
        }
    }

    @Test func injectedFaultsOfEachKind() async throws {
        for (kind, check) in [
            (SandboxConfiguration.Faults.Kind.internalError, { (error: DevRevError?) in error?.status == 500 && error?.referenceID?.hasPrefix("ref-") == true }),
            (.unavailable, { $0?.status == 503 }),
            (.drop, { $0?.kind == .connectionReset || $0?.kind == .transport }),
            (.malformed, { $0?.kind == .malformedResponse }),
        ] {
            let configuration = SandboxConfiguration(token: sandboxToken, faults: .init(rate: 1, kinds: [kind]))
            try await withSandbox(configuration) { client, _ in
                let error = await caught { () throws(DevRevError) in _ = try await client.getIncident(id: "INC-1") }
                #expect(check(error), "\(kind): \(String(describing: error))")
            }
        }
    }

    @Test func faultsAreReproducibleFromTheSeed() {
        func sequence(seed: UInt64) -> [String] {
            let traffic = TrafficControl(rateLimit: .init(), faults: .init(rate: 0.5, seed: seed))
            return (0..<200).map { _ in traffic.fault(operation: "incidents.get")?.kind.rawValue ?? "-" }
        }
        #expect(sequence(seed: 7) == sequence(seed: 7))
        #expect(sequence(seed: 7) != sequence(seed: 8))
        let faults = sequence(seed: 7).filter { $0 != "-" }.count
        #expect((60...140).contains(faults), "about half of 200: \(faults)")
    }

    @Test func theClientRetriesThroughInjected503s() async throws {
        let configuration = SandboxConfiguration(token: sandboxToken, faults: .init(rate: 0.5, kinds: [.unavailable], seed: 3))
        try await withSandbox(configuration, maxAttempts: 10) { client, _ in
            for _ in 0..<10 {
                _ = try await client.updateIncident(IncidentsUpdateRequest(id: "INC-3", severity: 1))
            }
        }
    }

    @Test func dataSurvivesARestartWithADatabaseFile() async throws {
        let path = temporaryPath("sandbox") + ".sqlite"
        defer {
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        }
        let configuration = SandboxConfiguration(databasePath: path, token: sandboxToken)
        try await withSandbox(configuration) { client, _ in
            _ = try await client.createIncident(IncidentsCreateRequest(severity: 0, title: "Survives restarts"))
            _ = try await client.updateIncident(IncidentsUpdateRequest(id: "INC-1", title: "Renamed"))
            try await client.deleteIncident(id: "INC-2")
        }
        try await withSandbox(configuration) { client, _ in
            #expect(try await client.getIncident(id: "INC-13").title == "Survives restarts")
            #expect(try await client.getIncident(id: "INC-1").title == "Renamed")
            let deleted = await caught { () throws(DevRevError) in _ = try await client.getIncident(id: "INC-2") }
            #expect(deleted?.status == 404)
            let next = try await client.createIncident(IncidentsCreateRequest(title: "Numbering continues"))
            #expect(next.displayId == "INC-14")
        }
    }

    @Test func aSeedIsValidatedBeforeServing() async {
        var tenant = Tenant.demo()
        tenant.incidents[0].ownedBy = ["DEVU-404"]
        do {
            _ = try await Sandbox.start(SandboxConfiguration(seed: tenant, token: "t"))
            Issue.record("an invalid seed was served")
        } catch {
            #expect("\(error)".contains("incidents[1].owned_by: no user 'DEVU-404'"))
        }
    }
}
