import DevRevAPI
@testable import DevRevSandbox
import Foundation
import Testing

/// What `runbook test` builds on: seeds with offsets and comments, a frozen clock, faults on a
/// schedule, and the log of what the sandbox committed.
@Suite struct SandboxFixtureTests {
    static let frozen = RFC3339.parse("2026-11-26T12:00:00Z")!

    static func tenant(_ incidents: [Tenant.SeedIncident]) -> Tenant {
        var tenant = Tenant.demo()
        tenant.incidents = incidents
        return tenant
    }

    @Test func offsetsAreDatesBeforeAndAfterTheSandboxsNow() {
        let now = Self.frozen
        #expect(SeedDate.resolve("-45m", now: now) == now.addingTimeInterval(-45 * 60))
        #expect(SeedDate.resolve("+1d12h", now: now) == now.addingTimeInterval(36 * 3600))
        #expect(SeedDate.resolve("-2w", now: now) == now.addingTimeInterval(-14 * 86_400))
        #expect(SeedDate.resolve("now", now: now) == now)
        #expect(SeedDate.resolve("2026-01-01T00:00:00Z", now: now) == RFC3339.parse("2026-01-01T00:00:00Z"))
        for bad in ["-45", "-m", "45m", "-45x", "-", "+1h-2m", "-99999999999d", "yesterday"] {
            #expect(SeedDate.resolve(bad, now: now) == nil, "\(bad)")
        }
    }

    @Test func aSeedCarriesEveryFieldItNamesAndItsComments() async throws {
        let seed = Self.tenant([
            Tenant.SeedIncident(
                title: "Checkout down", severity: 1, stage: "resolved", ownedBy: ["DEVU-2"], createdDate: "-45m",
                mitigatedDate: "-10m", modifiedDate: "-5m", customFields: ["tnt__impact": "high"], reportedBy: 2, source: 3,
                comments: [Tenant.SeedComment(body: "Paged the DBA", createdBy: "DEVU-3", createdDate: "-30m", labels: ["page"],
                                              externalRef: "pager-1")]),
        ])
        let configuration = SandboxConfiguration(seed: seed, token: sandboxToken, clock: { Self.frozen })
        try await withSandbox(configuration) { client, sandbox in
            let incident = try await client.getIncident(id: "INC-1")
            #expect(incident.createdDate == "2026-11-26T11:15:00.000Z")
            #expect(incident.modifiedDate == "2026-11-26T11:55:00.000Z")
            #expect(incident.actualCloseDate == "2026-11-26T11:50:00.000Z", "a closed stage closes at the mitigation")
            #expect(incident.customFields?["tnt__impact"] == "high")
            #expect(incident.reportedBy?.id == 2 && incident.source?.id == 3)
            let comments = sandbox.comments(on: "INC-1")
            #expect(comments.count == 1)
            guard case .object(let comment)? = comments.first else { return }
            #expect(comment["body"] == "Paged the DBA")
            #expect(comment["created_date"] == "2026-11-26T11:30:00.000Z")
            #expect(comment["external_ref"] == "pager-1")
            // The seeded reference is taken: a second comment with it is a conflict, as in DevRev.
            let conflict = await rawError(client, .createTimelineEntry,
                                          #"{"type":"timeline_comment","object":"INC-1","body":"again","external_ref":"pager-1"}"#)
            #expect(conflict?.status == 409)
        }
    }

    @Test func aBadSeedCommentIsRefusedWithItsPlace() async {
        for (comment, message) in [
            (Tenant.SeedComment(body: ""), "incidents[1].comments[1].body: must not be empty"),
            (Tenant.SeedComment(body: "x", createdBy: "DEVU-404"), "incidents[1].comments[1].created_by: no user 'DEVU-404'"),
            (Tenant.SeedComment(body: "x", createdDate: "soon"), "incidents[1].comments[1].created_date: 'soon'"),
            (Tenant.SeedComment(body: "x", visibility: "everyone"), "incidents[1].comments[1].visibility: 'everyone'"),
        ] {
            let seed = Self.tenant([Tenant.SeedIncident(title: "t", comments: [comment])])
            do {
                let sandbox = try await Sandbox.start(SandboxConfiguration(seed: seed, token: sandboxToken))
                await sandbox.stop()
                Issue.record("accepted \(comment)")
            } catch {
                #expect("\(error)".contains(message), "\(error)")
            }
        }
    }

    @Test func aFrozenClockStampsWritesAndTheChangeLogHoldsThem() async throws {
        let seed = Self.tenant([Tenant.SeedIncident(title: "Slow search", severity: 2, stage: "reported", createdDate: "-1h")])
        let configuration = SandboxConfiguration(seed: seed, token: sandboxToken, clock: { Self.frozen })
        try await withSandbox(configuration) { client, sandbox in
            #expect(sandbox.changeCount == 0, "seeding records nothing")
            let updated = try await client.updateIncident(IncidentsUpdateRequest(id: "INC-1", severity: 1))
            #expect(updated.modifiedDate == "2026-11-26T12:00:00.000Z")
            _ = try await client.send(.createTimelineEntry, body: Array(#"{"type":"timeline_comment","object":"INC-1","body":"hi"}"#.utf8))
            _ = try await client.createIncident(IncidentsCreateRequest(title: "New"))
            let changes = sandbox.changes()
            #expect(changes.map(\.operation) == [.update, .comment, .create])
            #expect(changes.map(\.incident) == ["INC-1", "INC-1", "INC-2"])
            #expect(changes[0].before?.severity?.id == 2 && changes[0].after?.severity?.id == 1)
            #expect(sandbox.changes(from: 2).map(\.operation) == [.create])
            #expect(sandbox.incident("INC-1")?.severity?.id == 1)
            #expect(sandbox.incidents().count == 2)
        }
    }

    @Test func scheduledFaultsFireOnTheRequestsTheyName() async throws {
        let rules = [
            SandboxConfiguration.Faults.Rule(kind: .internalError, operation: "incidents.update", after: 1, times: 1),
            SandboxConfiguration.Faults.Rule(kind: .tooManyRequests, operation: "incidents.get", times: 1, retryAfter: 2),
        ]
        let configuration = SandboxConfiguration(token: sandboxToken, faults: .init(rules: rules))
        try await withSandbox(configuration) { client, sandbox in
            let firstGet = await caught { () throws(DevRevError) in _ = try await client.getIncident(id: "INC-1") }
            #expect(firstGet?.status == 429 && firstGet?.retryAfter == .seconds(2), "\(String(describing: firstGet))")
            _ = try await client.getIncident(id: "INC-1")
            _ = try await client.updateIncident(IncidentsUpdateRequest(id: "INC-1", title: "first"))
            let second = await caught { () throws(DevRevError) in
                _ = try await client.updateIncident(IncidentsUpdateRequest(id: "INC-1", title: "second"))
            }
            #expect(second?.status == 500)
            _ = try await client.updateIncident(IncidentsUpdateRequest(id: "INC-1", title: "third"))
            #expect(sandbox.changes().compactMap(\.after?.title) == ["first", "third"], "a faulted request changes nothing")
        }
    }
}
