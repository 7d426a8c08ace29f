import DevRevAPI
@testable import DevRevSandbox
import Foundation
import Testing

@Suite("Sandbox operations")
struct SandboxOperationTests {
    @Test func getReturnsADemoIncidentByDisplayIDAndByID() async throws {
        try await withSandbox { client, _ in
            let incident = try await client.getIncident(id: "INC-1")
            #expect(incident.title == "Checkout returns 502 for EU customers")
            #expect(incident.severity?.label == "Sev1")
            #expect(incident.stage?.stage?.name == "reported")
            #expect(incident.ownedBy?.first?.displayId == "DEVU-1")
            #expect(incident.appliesToParts?.first?.ownedBy?.isEmpty == false)
            let byID = try await client.getIncident(id: try #require(incident.id))
            #expect(byID == incident)
        }
    }

    @Test func createThenGetThenDelete() async throws {
        try await withSandbox { client, _ in
            let created = try await client.createIncident(IncidentsCreateRequest(
                appliesToParts: ["PROD-2"], ownedBy: ["DEVU-3"], severity: 1, tags: [CreateTagWithValue(tagId: "database", value: "db-3")],
                title: "Disk full on db-3"))
            #expect(created.displayId == "INC-13")
            #expect(created.stage?.stage?.name == "reported")
            #expect(created.tags?.first?.tag?.name == "database")
            #expect(created.createdBy?.displayId == "DEVU-1")
            #expect(try await client.getIncident(id: "INC-13") == created)
            try await client.deleteIncident(id: "INC-13")
            let gone = await caught { () throws(DevRevError) in _ = try await client.getIncident(id: "INC-13") }
            #expect(gone?.status == 404)
            #expect(gone?.type == .notFound)
        }
    }

    @Test func updateAppliesOnlyTheFieldsSentAndStampsTheChange() async throws {
        try await withSandbox { client, _ in
            let before = try await client.getIncident(id: "INC-2")
            try await Task.sleep(for: .milliseconds(5))
            let after = try await client.updateIncident(IncidentsUpdateRequest(id: "INC-2", ownedBy: UpdateIncidentOwnedBy(set: ["DEVU-4", "DEVU-5"]), severity: 1))
            #expect(after.severity?.id == 1)
            #expect(after.ownedBy?.map(\.displayId) == ["DEVU-4", "DEVU-5"])
            #expect(after.title == before.title)
            #expect(after.stage == before.stage)
            #expect(after.appliesToParts == before.appliesToParts)
            #expect(after.modifiedDate != before.modifiedDate)
            #expect(after.modifiedBy?.displayId == "DEVU-1")
            let emptied = try await client.updateIncident(IncidentsUpdateRequest(id: "INC-2", ownedBy: UpdateIncidentOwnedBy(set: [])))
            #expect(emptied.ownedBy == [])
        }
    }

    @Test func movingToAClosedStageSetsTheActualCloseDate() async throws {
        try await withSandbox { client, _ in
            let open = try await client.getIncident(id: "INC-8")
            #expect(open.actualCloseDate == nil)
            let resolved = try await client.updateIncident(IncidentsUpdateRequest(id: "INC-8", stage: UpdateStage(notes: "fixed", stage: "resolved")))
            #expect(resolved.stage?.stage?.name == "resolved")
            #expect(resolved.stage?.state?.isFinal == true)
            #expect(resolved.actualCloseDate != nil)
            let reopened = try await client.updateIncident(IncidentsUpdateRequest(id: "INC-8", stage: UpdateStage(stage: "acknowledged")))
            #expect(reopened.actualCloseDate == nil)
        }
    }

    @Test func listFiltersSortsAndPages() async throws {
        try await withSandbox { client, _ in
            let sev2 = try await client.listIncidents(IncidentsListRequest(severity: [2]))
            #expect(sev2.incidents?.allSatisfy { $0.severity?.id == 2 } == true)
            #expect(sev2.incidents?.count == 5)
            #expect(sev2.nextCursor == nil)
            let reported = try await client.listIncidents(IncidentsListRequest(ownedBy: ["DEVU-1"], stage: ["reported"]))
            #expect(reported.incidents?.map(\.displayId) == ["INC-1"])
            let recent = try await client.listIncidents(IncidentsListRequest(
                createdDate: DateFilter(after: RFC3339.format(Date().addingTimeInterval(-3600)), type: .range),
                sortBy: ["created_date:desc"]))
            let dates = recent.incidents?.compactMap(\.createdDate) ?? []
            #expect(dates.count == 4)
            #expect(dates == dates.sorted(by: >))
            let firstPage = try await client.listIncidents(IncidentsListRequest(limit: 5))
            #expect(firstPage.incidents?.count == 5)
            #expect(firstPage.nextCursor != nil)
            #expect(firstPage.prevCursor == nil)
            let mitigatedLastDay = try await client.listIncidents(IncidentsListRequest(
                mitigatedDate: DateFilter(days: 1, presetType: .lastNDays, type: .preset)))
            #expect(mitigatedLastDay.incidents?.map(\.displayId) == ["INC-8"])
        }
    }

    @Test func groupBySeverityStageAndOwner() async throws {
        try await withSandbox { client, _ in
            let bySeverity = try await client.groupIncidents(IncidentsGroupRequest(groupBy: "severity"))
            let totals = Dictionary(uniqueKeysWithValues: (bySeverity.groups ?? []).map { ($0.key?.value, $0.total) })
            #expect(totals[.integer(2)] == 5)
            #expect(totals[.integer(0)] == 1)
            let byStage = try await client.groupIncidents(IncidentsGroupRequest(groupBy: "stage", limitPerGroup: 1))
            #expect(byStage.groups?.map { $0.key?.name } == ["reported", "acknowledged", "mitigated", "resolved"])
            #expect(byStage.groups?.allSatisfy { ($0.incidents?.count ?? 0) <= 1 } == true)
            let byOwner = try await client.groupIncidents(IncidentsGroupRequest(groupBy: "owned_by"))
            #expect(byOwner.groups?.count == 5)
            let bad = await caught { () throws(DevRevError) in _ = try await client.groupIncidents(IncidentsGroupRequest(groupBy: "colour")) }
            #expect(bad?.type == .invalidEnumValue)
        }
    }

    @Test func paginationOverAThousandIncidentsVisitsEachExactlyOnce() async throws {
        try await withSandbox(SandboxConfiguration(seed: bulkTenant(count: 1000), token: sandboxToken)) { client, _ in
            var seen: [String] = []
            for try await incident in client.incidents(matching: IncidentsListRequest(limit: 37)) {
                seen.append(incident.displayId ?? "")
            }
            #expect(seen.count == 1000)
            #expect(Set(seen).count == 1000)
            var severityOne = 0
            for try await _ in client.incidents(matching: IncidentsListRequest(limit: 100, severity: [1])) { severityOne += 1 }
            #expect(severityOne == 250)
        }
    }
}
