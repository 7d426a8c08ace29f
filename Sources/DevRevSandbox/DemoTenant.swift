import DevRevAPI
import Foundation

extension Tenant {
    /// A small company's incidents: a dozen spread over severities, stages, owners and ages,
    /// dated relative to `now` so that "unacknowledged for 30 minutes" is true of some of them.
    public static func demo(now: Date = Date()) -> Tenant {
        func ago(minutes: Double) -> String { RFC3339.format(now.addingTimeInterval(-minutes * 60)) }
        func ahead(hours: Double) -> String { RFC3339.format(now.addingTimeInterval(hours * 3600)) }
        let org = "don:identity:dvrv-us-1:devo/sandbox"
        let core = "don:core:dvrv-us-1:devo/sandbox"
        let users = [("ana", "Ana Lima"), ("bo", "Bo Chen"), ("cy", "Cy Okafor"), ("dee", "Dee Novak"), ("eli", "Eli Brandt")]
            .enumerated().map { index, person in
                User(id: "\(org):devu/\(index + 1)", displayId: "DEVU-\(index + 1)", displayName: person.0,
                     fullName: person.1, email: "\(person.0)@example.com")
            }
        let parts = [("Checkout", "product", "DEVU-1"), ("Payments API", "capability", "DEVU-2"), ("Search", "product", "DEVU-3"),
                     ("Login", "feature", "DEVU-5")]
            .enumerated().map { index, part in
                Part(id: "\(core):product/\(index + 1)", displayId: "PROD-\(index + 1)", name: part.0, type: part.1, ownedBy: [part.2])
            }
        let tags = ["database", "network", "customer-facing", "runbook"].enumerated().map { index, name in
            Tag(id: "\(core):tag/\(index + 1)", displayId: "TAG-\(index + 1)", name: name)
        }
        let stages = [("reported", "open"), ("acknowledged", "in_progress"), ("mitigated", "in_progress"), ("resolved", "closed")]
            .enumerated().map { index, stage in
                StageDefinition(id: "\(core):custom_stage/\(index + 1)", name: stage.0, state: stage.1)
            }
        let incidents: [SeedIncident] = [
            SeedIncident(title: "Checkout returns 502 for EU customers", body: "Error rate at 12% since the deploy.", severity: 1,
                         stage: "reported", ownedBy: ["DEVU-1"], createdBy: "DEVU-2", appliesToParts: ["PROD-1"],
                         tags: ["customer-facing"], createdDate: ago(minutes: 45), identifiedDate: ago(minutes: 45)),
            SeedIncident(title: "Payments API latency above 2 s", severity: 2, stage: "reported", ownedBy: ["DEVU-2"],
                         createdBy: "DEVU-3", appliesToParts: ["PROD-2"], tags: ["network"],
                         createdDate: ago(minutes: 38), identifiedDate: ago(minutes: 40)),
            SeedIncident(title: "Search index lagging by 20 minutes", severity: 2, stage: "reported", ownedBy: ["DEVU-3"],
                         createdBy: "DEVU-3", appliesToParts: ["PROD-3"], createdDate: ago(minutes: 10)),
            SeedIncident(title: "Disk full on db-3", body: "Primary database volume at 100%.", severity: 0, stage: "acknowledged",
                         ownedBy: ["DEVU-4", "DEVU-1"], createdBy: "DEVU-4", appliesToParts: ["PROD-2"], tags: ["database"],
                         createdDate: ago(minutes: 25), identifiedDate: ago(minutes: 27), acknowledgedDate: ago(minutes: 20)),
            SeedIncident(title: "Login emails delayed", severity: 3, stage: "acknowledged", ownedBy: ["DEVU-5"], createdBy: "DEVU-1",
                         appliesToParts: ["PROD-4"], createdDate: ago(minutes: 300), acknowledgedDate: ago(minutes: 290),
                         targetCloseDate: ahead(hours: 24)),
            SeedIncident(title: "Certificate expires in 5 days on api-gw", severity: 3, stage: "reported", ownedBy: ["DEVU-5"],
                         createdBy: "DEVU-5", tags: ["network"], createdDate: ago(minutes: 120)),
            SeedIncident(title: "Card payments declined for one issuer", severity: 1, stage: "mitigated", ownedBy: ["DEVU-2"],
                         createdBy: "DEVU-2", appliesToParts: ["PROD-2", "PROD-1"], tags: ["customer-facing"],
                         createdDate: ago(minutes: 60 * 30), acknowledgedDate: ago(minutes: 60 * 29.5),
                         mitigatedDate: ago(minutes: 60 * 26)),
            SeedIncident(title: "Search results missing images", severity: 2, stage: "mitigated", ownedBy: ["DEVU-3"],
                         createdBy: "DEVU-1", appliesToParts: ["PROD-3"], createdDate: ago(minutes: 60 * 6),
                         acknowledgedDate: ago(minutes: 60 * 5.8), mitigatedDate: ago(minutes: 60 * 2)),
            SeedIncident(title: "Replica lag on db-7", severity: 2, stage: "mitigated", ownedBy: ["DEVU-4"], createdBy: "DEVU-4",
                         appliesToParts: ["PROD-2"], tags: ["database"], createdDate: ago(minutes: 60 * 50),
                         acknowledgedDate: ago(minutes: 60 * 49), mitigatedDate: ago(minutes: 60 * 40)),
            SeedIncident(title: "Checkout button hidden on Safari", severity: 1, stage: "resolved", ownedBy: ["DEVU-1"],
                         createdBy: "DEVU-2", appliesToParts: ["PROD-1"], tags: ["customer-facing"],
                         createdDate: ago(minutes: 60 * 72), acknowledgedDate: ago(minutes: 60 * 71.9), mitigatedDate: ago(minutes: 60 * 70)),
            SeedIncident(title: "Login page slow in APAC", severity: 3, stage: "resolved", ownedBy: ["DEVU-5"], createdBy: "DEVU-5",
                         appliesToParts: ["PROD-4"], createdDate: ago(minutes: 60 * 100), mitigatedDate: ago(minutes: 60 * 98)),
            SeedIncident(title: "Queue backlog in order export", severity: 2, stage: "acknowledged", ownedBy: ["DEVU-2"],
                         createdBy: "DEVU-3", appliesToParts: ["PROD-1"], createdDate: ago(minutes: 90),
                         acknowledgedDate: ago(minutes: 80)),
        ]
        return Tenant(users: users, parts: parts, tags: tags, stages: stages, currentUser: "DEVU-1", incidents: incidents)
    }
}
