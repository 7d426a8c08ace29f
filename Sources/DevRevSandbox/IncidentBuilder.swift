import DevRevAPI
import Foundation

/// Turns requests and seed entries into incidents as DevRev returns them: references resolved
/// into summaries, enum ids into enum values, stages into stage objects.
struct IncidentBuilder {
    let tenant: Tenant

    static let core = "don:core:dvrv-us-1:devo/sandbox"

    func userSummary(_ user: Tenant.User) -> UserSummary {
        UserSummary(displayId: user.displayId, displayName: user.displayName, email: user.email, fullName: user.fullName,
                    id: user.id, state: .active, type: .devUser)
    }

    func user(_ reference: String, field: String) throws(SandboxFailure) -> UserSummary {
        guard let user = tenant.user(reference) else { throw .invalidID(field: field, message: "\(field): no user '\(reference)'") }
        return userSummary(user)
    }

    func part(_ reference: String, field: String) throws(SandboxFailure) -> PartSummary {
        guard let part = tenant.part(reference) else { throw .invalidID(field: field, message: "\(field): no part '\(reference)'") }
        let owners = (part.ownedBy ?? [tenant.currentUser]).compactMap { tenant.user($0) }.map(userSummary)
        return PartSummary(displayId: part.displayId, id: part.id, name: part.name, ownedBy: owners, type: PartType(rawValue: part.type))
    }

    func tag(_ reference: String, value: String?, field: String) throws(SandboxFailure) -> TagWithValue {
        guard let tag = tenant.tag(reference) else { throw .invalidID(field: field, message: "\(field): no tag '\(reference)'") }
        return TagWithValue(tag: TagSummary(displayId: tag.displayId, id: tag.id, name: tag.name), value: value)
    }

    func stage(_ reference: String, field: String) throws(SandboxFailure) -> (Stage, closed: Bool) {
        guard let stage = tenant.stage(reference) else { throw .invalidID(field: field, message: "\(field): no stage '\(reference)'") }
        let state = CustomStateSummary(id: "\(Self.core):custom_state/\(stage.state)", isFinal: stage.state == "closed", name: stage.state)
        return (Stage(stage: CustomStageSummary(id: stage.id, name: stage.name), state: state), stage.state == "closed")
    }

    static func severity(_ id: Int64, field: String = "severity") throws(SandboxFailure) -> EnumValue {
        guard let entry = Tenant.severities.first(where: { $0.id == id }) else {
            throw .invalidEnumValue(field: field, value: "\(id)", allowed: Tenant.severities.map { "\($0.id)" })
        }
        return EnumValue(id: entry.id, label: entry.label, ordinal: entry.id)
    }

    static func enumValue(_ id: Int64) -> EnumValue {
        EnumValue(id: id, label: "\(id)", ordinal: id)
    }

    static func date(_ text: String, field: String) throws(SandboxFailure) -> String {
        guard let date = RFC3339.parse(text) else {
            throw .badRequest("\(field): '\(text)' is not an RFC 3339 date-time (e.g. 2023-01-01T12:00:00.000Z)")
        }
        return RFC3339.format(date)
    }

    var currentUser: UserSummary {
        tenant.user(tenant.currentUser).map(userSummary) ?? UserSummary(id: tenant.currentUser)
    }

    func identity(number: Int64) -> (id: String, displayId: String) {
        ("\(Self.core):incident/\(number)", "INC-\(number)")
    }

    /// An incident of the seed; the seed was validated, so references resolve. Offsets (`-45m`)
    /// are dates before or after `now`.
    func seeded(_ seed: Tenant.SeedIncident, number: Int64, now: Date) -> Incident {
        let (id, displayId) = identity(number: number)
        let date = { (text: String?) in SeedDate.normalized(text, now: now) }
        let created = date(seed.createdDate) ?? RFC3339.format(now)
        let mitigated = date(seed.mitigatedDate)
        let author = seed.createdBy.flatMap { try? user($0, field: "created_by") } ?? currentUser
        let stage = try? self.stage(seed.stage ?? tenant.stages[0].name, field: "stage")
        return Incident(
            acknowledgedDate: date(seed.acknowledgedDate),
            actualCloseDate: date(seed.actualCloseDate) ?? (stage?.closed == true ? (mitigated ?? created) : nil),
            appliesToParts: try? (seed.appliesToParts ?? []).map { reference throws(SandboxFailure) in try part(reference, field: "applies_to_parts") },
            body: seed.body,
            createdBy: author,
            createdDate: created,
            customFields: seed.customFields,
            displayId: displayId,
            id: id,
            identifiedDate: date(seed.identifiedDate),
            mitigatedDate: mitigated,
            modifiedBy: author,
            modifiedDate: date(seed.modifiedDate) ?? created,
            ownedBy: try? (seed.ownedBy ?? []).map { reference throws(SandboxFailure) in try user(reference, field: "owned_by") },
            reportedBy: seed.reportedBy.map(Self.enumValue),
            severity: try? Self.severity(seed.severity ?? 2),
            source: seed.source.map(Self.enumValue),
            stage: stage?.0,
            tags: try? (seed.tags ?? []).map { reference throws(SandboxFailure) in try tag(reference, value: nil, field: "tags") },
            targetCloseDate: date(seed.targetCloseDate),
            title: seed.title
        )
    }

    /// The comments of a seeded incident, numbered from `firstSeq`.
    func seededComments(_ seed: Tenant.SeedIncident, of incident: Incident, firstSeq: Int64, now: Date) -> [StoredComment] {
        guard let id = incident.id, let displayID = incident.displayId else { return [] }
        return (seed.comments ?? []).enumerated().map { offset, comment in
            let author = comment.createdBy.flatMap { try? user($0, field: "created_by") } ?? currentUser
            return StoredComment.make(
                seq: firstSeq + Int64(offset), incident: (id, displayID), body: comment.body,
                author: (try? TimelineService.json(author)) ?? .null,
                created: SeedDate.normalized(comment.createdDate, now: now) ?? RFC3339.format(now), labels: comment.labels ?? [],
                externalRef: comment.externalRef, visibility: comment.visibility ?? "external", expiresAt: nil)
        }
    }

    func created(_ request: IncidentsCreateRequest, number: Int64, now: Date) throws(SandboxFailure) -> Incident {
        let (id, displayId) = identity(number: number)
        let timestamp = RFC3339.format(now)
        var incident = Incident(createdBy: currentUser, createdDate: timestamp, displayId: displayId, id: id,
                                modifiedBy: currentUser, modifiedDate: timestamp, title: request.title)
        incident.body = request.body
        incident.severity = try Self.severity(request.severity ?? 2)
        incident.reportedBy = request.reportedBy.map(Self.enumValue)
        incident.source = request.source.map(Self.enumValue)
        incident.ownedBy = try (request.ownedBy ?? []).enumerated().map { index, reference throws(SandboxFailure) in
            try user(reference, field: "owned_by[\(index)]")
        }
        incident.appliesToParts = try (request.appliesToParts ?? []).enumerated().map { index, reference throws(SandboxFailure) in
            try part(reference, field: "applies_to_parts[\(index)]")
        }
        incident.tags = try (request.tags ?? []).enumerated().map { index, tag throws(SandboxFailure) in
            try self.tag(tag.tagId, value: tag.value, field: "tags[\(index)].tag_id")
        }
        let stage = try self.stage(request.stage?.stage ?? tenant.stages[0].name, field: "stage.stage")
        incident.stage = stage.0
        if stage.closed { incident.actualCloseDate = timestamp }
        incident.acknowledgedDate = try request.acknowledgedDate.map { text throws(SandboxFailure) in try Self.date(text, field: "acknowledged_date") }
        incident.identifiedDate = try request.identifiedDate.map { text throws(SandboxFailure) in try Self.date(text, field: "identified_date") }
        incident.mitigatedDate = try request.mitigatedDate.map { text throws(SandboxFailure) in try Self.date(text, field: "mitigated_date") }
        incident.targetCloseDate = try request.targetCloseDate.map { text throws(SandboxFailure) in try Self.date(text, field: "target_close_date") }
        incident.customFields = request.customFields
        if let impact = request.impact {
            incident.impact = ImpactedCustomerDetails(count: impact.count.map(Self.enumValue),
                                                      customerIds: impact.customerIds?.map { AccountSummary(id: $0) })
        }
        return incident
    }

    /// Applies only the fields sent; `set` wrappers replace lists.
    func updated(_ original: Incident, with request: IncidentsUpdateRequest, now: Date) throws(SandboxFailure) -> Incident {
        var incident = original
        let timestamp = RFC3339.format(now)
        if let title = request.title { incident.title = title }
        if let body = request.body { incident.body = body }
        if let severity = request.severity { incident.severity = try Self.severity(severity) }
        if let reportedBy = request.reportedBy { incident.reportedBy = Self.enumValue(reportedBy) }
        if let source = request.source { incident.source = Self.enumValue(source) }
        if let owners = request.ownedBy?.set {
            incident.ownedBy = try owners.enumerated().map { index, reference throws(SandboxFailure) in
                try user(reference, field: "owned_by.set[\(index)]")
            }
        }
        if let parts = request.appliesToParts?.set {
            incident.appliesToParts = try parts.enumerated().map { index, reference throws(SandboxFailure) in
                try part(reference, field: "applies_to_parts.set[\(index)]")
            }
        }
        if let tags = request.tags?.set {
            incident.tags = try tags.enumerated().map { index, tag throws(SandboxFailure) in
                guard let tagID = tag.tagId else { throw SandboxFailure.missingRequiredField(field: "tags.set[\(index)].tag_id") }
                return try self.tag(tagID, value: tag.value, field: "tags.set[\(index)].tag_id")
            }
        }
        if let stageUpdate = request.stage, let reference = stageUpdate.stage {
            let stage = try self.stage(reference, field: "stage.stage")
            incident.stage = stage.0
            if stage.closed {
                if original.actualCloseDate == nil || original.stage?.state?.isFinal != true { incident.actualCloseDate = timestamp }
            } else {
                incident.actualCloseDate = nil
            }
        }
        if let text = request.acknowledgedDate { incident.acknowledgedDate = try Self.date(text, field: "acknowledged_date") }
        if let text = request.identifiedDate { incident.identifiedDate = try Self.date(text, field: "identified_date") }
        if let text = request.mitigatedDate { incident.mitigatedDate = try Self.date(text, field: "mitigated_date") }
        if let text = request.targetCloseDate { incident.targetCloseDate = try Self.date(text, field: "target_close_date") }
        if let custom = request.customFields {
            var merged = incident.customFields ?? [:]
            for (key, value) in custom { merged[key] = value }
            incident.customFields = merged
        }
        if let impact = request.impact {
            var current = incident.impact ?? ImpactedCustomerDetails()
            if let count = impact.count { current.count = Self.enumValue(count) }
            if let customers = impact.customerIds?.set { current.customerIds = customers.map { AccountSummary(id: $0) } }
            incident.impact = current
        }
        incident.modifiedDate = timestamp
        incident.modifiedBy = currentUser
        return incident
    }
}
