import DevRevAPI
import Foundation

/// The list and group filters the sandbox applies. A filter of the schema it does not apply is
/// refused with `bad_request` rather than silently ignored.
struct IncidentFilter {
    var severities: Set<Int64>?
    var stages: Set<String>?
    var owners: Set<String>?
    var creators: Set<String>?
    var parts: Set<String>?
    var titles: Set<String>?
    var reportedBy: Set<Int64>?
    var sources: Set<Int64>?
    var dates: [(field: String, range: ClosedRange<Date>)] = []

    /// No condition at all (every condition above is unset): every incident matches, and none
    /// needs to be read.
    var matchesEverything: Bool {
        severities == nil && stages == nil && owners == nil && creators == nil && parts == nil && titles == nil
            && reportedBy == nil && sources == nil && dates.isEmpty
    }

    static let sortable: Set<String> = [
        "created_date", "modified_date", "identified_date", "acknowledged_date", "mitigated_date", "target_close_date",
        "actual_close_date", "severity", "title", "display_id",
    ]

    init(list request: IncidentsListRequest, now: Date) throws(SandboxFailure) {
        try self.init(request, now: now)
    }

    init(group request: IncidentsGroupRequest, now: Date) throws(SandboxFailure) {
        try self.init(request, now: now)
    }

    private init(_ request: some IncidentFilterFields, now: Date) throws(SandboxFailure) {
        try self.init(now: now,
            severity: request.severity, stage: request.stage, ownedBy: request.ownedBy, createdBy: request.createdBy,
            appliesToParts: request.appliesToParts, title: request.title, reportedBy: request.reportedBy, source: request.source,
            dates: [
                ("created_date", request.createdDate), ("modified_date", request.modifiedDate),
                ("identified_date", request.identifiedDate), ("acknowledged_date", request.acknowledgedDate),
                ("mitigated_date", request.mitigatedDate), ("target_close_date", request.targetCloseDate),
                ("actual_close_date", request.actualCloseDate),
            ],
            unsupported: [
                ("custom_fields", request.customFields != nil), ("pia", request.pia != nil), ("playbooks", request.playbooks != nil),
                ("related_docs", request.relatedDocs != nil), ("staged_info", request.stagedInfo != nil),
                ("subtype", request.subtype != nil), ("sync_metadata", request.syncMetadata != nil),
            ])
    }

    private init(
        now: Date, severity: [Int64]?, stage: [String]?, ownedBy: [String]?, createdBy: [String]?, appliesToParts: [String]?,
        title: [String]?, reportedBy: [Int64]?, source: [Int64]?, dates: [(String, DateFilter?)], unsupported: [(String, Bool)]
    ) throws(SandboxFailure) {
        if let field = unsupported.first(where: { $0.1 })?.0 {
            throw .badRequest("\(field): the sandbox does not support this filter")
        }
        severities = severity.map(Set.init)
        stages = stage.map(Set.init)
        owners = ownedBy.map(Set.init)
        creators = createdBy.map(Set.init)
        parts = appliesToParts.map(Set.init)
        titles = title.map(Set.init)
        self.reportedBy = reportedBy.map(Set.init)
        sources = source.map(Set.init)
        for (field, filter) in dates {
            guard let filter else { continue }
            self.dates.append((field, try Self.range(filter, field: field, now: now)))
        }
    }

    private static func range(_ filter: DateFilter, field: String, now: Date) throws(SandboxFailure) -> ClosedRange<Date> {
        switch filter.type {
        case .range:
            let after = try filter.after.map { text throws(SandboxFailure) in try parse(text, field: "\(field).after") } ?? .distantPast
            let before = try filter.before.map { text throws(SandboxFailure) in try parse(text, field: "\(field).before") } ?? .distantFuture
            guard after <= before else { throw .badRequest("\(field): after is later than before") }
            return after...before
        case .preset:
            guard let days = filter.days, days >= 0 else { throw .missingRequiredField(field: "\(field).days") }
            let span = TimeInterval(days) * 86_400
            switch filter.presetType {
            case .lastNDays: return now.addingTimeInterval(-span)...now
            case .nextNDays: return now...now.addingTimeInterval(span)
            case .unknown(let value): throw .invalidEnumValue(field: "\(field).preset_type", value: value, allowed: ["last_n_days", "next_n_days"])
            case nil: throw .missingRequiredField(field: "\(field).preset_type")
            }
        case .unknown(let value):
            throw .invalidEnumValue(field: "\(field).type", value: value, allowed: ["preset", "range"])
        }
    }

    private static func parse(_ text: String, field: String) throws(SandboxFailure) -> Date {
        guard let date = RFC3339.parse(text) else { throw .badRequest("\(field): '\(text)' is not an RFC 3339 date-time") }
        return date
    }

    func matches(_ incident: Incident) -> Bool {
        if let severities, !severities.contains(incident.severity?.id ?? -1) { return false }
        if let stages {
            let stage = incident.stage?.stage
            guard stages.contains(stage?.name ?? "") || stages.contains(stage?.id ?? "") else { return false }
        }
        if let owners, !(incident.ownedBy ?? []).contains(where: { Self.refers(to: $0, in: owners) }) { return false }
        if let creators, !(incident.createdBy.map { Self.refers(to: $0, in: creators) } ?? false) { return false }
        if let parts, !(incident.appliesToParts ?? []).contains(where: { parts.contains($0.id ?? "") || parts.contains($0.displayId ?? "") }) {
            return false
        }
        if let titles, !titles.contains(incident.title ?? "") { return false }
        if let reportedBy, !reportedBy.contains(incident.reportedBy?.id ?? -1) { return false }
        if let sources, !sources.contains(incident.source?.id ?? -1) { return false }
        for (field, range) in dates {
            guard let text = Self.date(incident, field), let date = RFC3339.parse(text), range.contains(date) else { return false }
        }
        return true
    }

    private static func refers(to user: UserSummary, in references: Set<String>) -> Bool {
        references.contains(user.id ?? "") || references.contains(user.displayId ?? "")
    }

    static func date(_ incident: Incident, _ field: String) -> String? {
        switch field {
        case "created_date": incident.createdDate
        case "modified_date": incident.modifiedDate
        case "identified_date": incident.identifiedDate
        case "acknowledged_date": incident.acknowledgedDate
        case "mitigated_date": incident.mitigatedDate
        case "target_close_date": incident.targetCloseDate
        case "actual_close_date": incident.actualCloseDate
        default: nil
        }
    }

    /// A comparable text for sorting (dates are RFC 3339 in UTC, so text order is time order).
    static func sortValue(_ incident: Incident, _ field: String) -> String {
        switch field {
        case "severity": String(format: "%020lld", incident.severity?.id ?? Int64.max)
        case "title": incident.title ?? ""
        case "display_id":
            String(format: "%020lld", Int64(incident.displayId?.split(separator: "-").last ?? "") ?? 0)
        default: date(incident, field).flatMap(RFC3339.parse).map { String(format: "%020.3f", $0.timeIntervalSince1970 + 1e10) } ?? ""
        }
    }
}

/// `incidents.group`: by severity, stage or owner.
enum IncidentGrouping {
    struct Group {
        var key: FieldValue
        var incidents: [Incident]
    }

    static let fields = ["severity", "stage", "owned_by"]

    static func groups(of incidents: [Incident], by field: String, tenant: Tenant) throws(SandboxFailure) -> [Group] {
        var order: [String] = []
        var groups: [String: Group] = [:]
        func add(_ id: String, key: FieldValue, _ incident: Incident) {
            if groups[id] == nil {
                order.append(id)
                groups[id] = Group(key: key, incidents: [])
            }
            groups[id]?.incidents.append(incident)
        }
        for incident in incidents {
            switch field {
            case "severity":
                guard let severity = incident.severity?.id else { continue }
                add("\(severity)", key: FieldValue(type: .int, value: .integer(severity)), incident)
            case "stage":
                guard let name = incident.stage?.stage?.name else { continue }
                add(name, key: FieldValue(name: name, type: .stage), incident)
            case "owned_by":
                for owner in incident.ownedBy ?? [] {
                    guard let id = owner.id else { continue }
                    add(id, key: FieldValue(type: .id, value: .string(id)), incident)
                }
            default:
                throw .invalidEnumValue(field: "group_by", value: field, allowed: fields)
            }
        }
        return order.compactMap { groups[$0] }
    }
}

/// The filter fields `incidents.list` and `incidents.group` share.
protocol IncidentFilterFields {
    var severity: [Int64]? { get }
    var stage: [String]? { get }
    var ownedBy: [String]? { get }
    var createdBy: [String]? { get }
    var appliesToParts: [String]? { get }
    var title: [String]? { get }
    var reportedBy: [Int64]? { get }
    var source: [Int64]? { get }
    var createdDate: DateFilter? { get }
    var modifiedDate: DateFilter? { get }
    var identifiedDate: DateFilter? { get }
    var acknowledgedDate: DateFilter? { get }
    var mitigatedDate: DateFilter? { get }
    var targetCloseDate: DateFilter? { get }
    var actualCloseDate: DateFilter? { get }
    var customFields: [String: JSONValue]? { get }
    var pia: [String]? { get }
    var playbooks: [String]? { get }
    var relatedDocs: [String]? { get }
    var stagedInfo: StagedInfoFilter? { get }
    var subtype: [String]? { get }
    var syncMetadata: SyncMetadataFilter? { get }
}

extension IncidentsListRequest: IncidentFilterFields {}
extension IncidentsGroupRequest: IncidentFilterFields {}
