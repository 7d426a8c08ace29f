import DevRevAPI
@testable import DevRevSandbox
import Foundation
import Testing

@Suite("Incident filters")
struct IncidentFilterTests {
    private let now = Date(timeIntervalSince1970: 1_795_694_400)

    private func filter(_ request: IncidentsListRequest) throws -> IncidentFilter {
        try IncidentFilter(list: request, now: now)
    }

    /// A list without conditions skips testing incidents, so `matchesEverything` must see every
    /// condition the filter can hold.
    @Test func onlyAFilterWithoutConditionsMatchesEverything() throws {
        #expect(try filter(IncidentsListRequest()).matchesEverything)
        #expect(try filter(IncidentsListRequest(cursor: "100", limit: 5, sortBy: ["title"])).matchesEverything)
        let conditions: [IncidentsListRequest] = [
            IncidentsListRequest(severity: [1]), IncidentsListRequest(stage: ["triage"]),
            IncidentsListRequest(ownedBy: ["DEVU-1"]), IncidentsListRequest(createdBy: ["DEVU-1"]),
            IncidentsListRequest(appliesToParts: ["PROD-1"]), IncidentsListRequest(title: ["x"]),
            IncidentsListRequest(reportedBy: [1]), IncidentsListRequest(source: [1]),
            IncidentsListRequest(createdDate: DateFilter(after: "2026-11-01T00:00:00Z", type: .range)),
        ]
        for request in conditions {
            #expect(try !filter(request).matchesEverything, "\(request)")
        }
        // A condition added to the filter must be added to `matchesEverything` (and above).
        let stored = Mirror(reflecting: try filter(IncidentsListRequest())).children.compactMap(\.label)
        #expect(stored.sorted() == ["creators", "dates", "owners", "parts", "reportedBy", "severities", "sources", "stages", "titles"])
    }
}
