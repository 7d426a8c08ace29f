import DevRevAPI
import Foundation

/// The six incidents operations over the store, with DevRev's semantics.
struct IncidentService: Sendable {
    let store: SandboxStore
    let clock: @Sendable () -> Date

    static let defaultLimit = 50
    static let maximumLimit = 100

    func handle(operation: String, body: [UInt8]) throws(SandboxFailure) -> (status: Int, body: any Encodable) {
        switch operation {
        case "incidents.create":
            let request = try RequestDecoder.decode(IncidentsCreateRequest.self, from: body)
            guard !request.title.isEmpty else { throw .badRequest("title: must not be empty") }
            try checkStageValidation(request.stageValidationOptions?.map(\.rawValue), allowed: ["allow_non_start"])
            let builder = IncidentBuilder(tenant: store.tenant)
            let incident = try store.create { number throws(SandboxFailure) in try builder.created(request, number: number, now: clock()) }
            return (201, IncidentsCreateResponse(incident: incident))
        case "incidents.get":
            let request = try RequestDecoder.decode(IncidentsGetRequest.self, from: body)
            guard let found = store.find(request.id) else { throw .notFound("incident \(request.id) does not exist") }
            return (200, IncidentsGetResponse(incident: found.incident))
        case "incidents.update":
            let request = try RequestDecoder.decode(IncidentsUpdateRequest.self, from: body)
            try checkStageValidation(request.stageValidationOptions?.map(\.rawValue), allowed: ["allow_invalid_transition"])
            let builder = IncidentBuilder(tenant: store.tenant)
            let now = clock()
            let incident = try store.update(request.id) { original throws(SandboxFailure) in
                try builder.updated(original, with: request, now: now)
            }
            return (200, IncidentsUpdateResponse(incident: incident))
        case "incidents.delete":
            let request = try RequestDecoder.decode(IncidentsDeleteRequest.self, from: body)
            try store.delete(request.id)
            return (200, IncidentsDeleteResponse())
        case "incidents.list":
            let request = try RequestDecoder.decode(IncidentsListRequest.self, from: body)
            let filter = try IncidentFilter(list: request, now: clock())
            // Positions in the store's list, so that only the page's incidents are copied.
            let all = store.all()
            let matching = try order(Self.positions(in: all, matching: filter), of: all, by: request.sortBy)
            let page = try Page(cursor: request.cursor, mode: request.mode, limit: request.limit, count: matching.count)
            return (200, IncidentsListResponse(incidents: matching[page.range].map { all[$0].incident }, nextCursor: page.next, prevCursor: page.previous))
        case "incidents.group":
            let request = try RequestDecoder.decode(IncidentsGroupRequest.self, from: body)
            let filter = try IncidentFilter(group: request, now: clock())
            let all = store.all()
            let matching = try order(Self.positions(in: all, matching: filter), of: all, by: request.sortBy).map { all[$0].incident }
            let groups = try IncidentGrouping.groups(of: matching, by: request.groupBy, tenant: store.tenant)
            let perGroup = try Self.limit(request.limitPerGroup.map(Int.init), field: "limit_per_group")
            let page = try Page(cursor: request.cursor, mode: request.mode, limit: request.limit, count: groups.count)
            let items = groups[page.range].map { group in
                IncidentsGroup(incidents: Array(group.incidents.prefix(perGroup)), key: group.key, total: Int32(clamping: group.incidents.count))
            }
            return (200, IncidentsGroupResponse(groups: items, nextCursor: page.next, prevCursor: page.previous))
        default:
            throw .notFound("route not found")
        }
    }

    /// The positions in `all` of the incidents `filter` matches. Testing an incident copies its
    /// large value, so a request without conditions (a plain walk) tests none.
    private static func positions(in all: [(seq: Int64, incident: Incident)], matching filter: IncidentFilter) -> [Int] {
        filter.matchesEverything ? Array(all.indices) : all.indices.filter { filter.matches(all[$0].incident) }
    }

    private func checkStageValidation(_ values: [String]?, allowed: [String]) throws(SandboxFailure) {
        for (index, value) in (values ?? []).enumerated() where !allowed.contains(value) {
            throw .invalidEnumValue(field: "stage_validation_options[\(index)]", value: value, allowed: allowed)
        }
    }

    static func limit(_ value: Int?, field: String) throws(SandboxFailure) -> Int {
        guard let value else { return defaultLimit }
        guard value >= 1 else { throw .badRequest("\(field): must be at least 1") }
        return min(value, maximumLimit)
    }

    /// `positions` of `all` in the order of the `sort_by` entries (`field`, `field:asc`,
    /// `field:desc`, `-field`); creation order (the order of `all`) otherwise.
    private func order(_ positions: [Int], of all: [(seq: Int64, incident: Incident)], by sortBy: [String]?) throws(SandboxFailure) -> [Int] {
        var keys: [(field: String, descending: Bool)] = []
        for (index, raw) in (sortBy ?? []).enumerated() {
            var field = raw
            var descending = false
            if field.hasPrefix("-") {
                descending = true
                field.removeFirst()
            }
            if let colon = field.firstIndex(of: ":") {
                let direction = field[field.index(after: colon)...]
                guard direction == "asc" || direction == "desc" else {
                    throw .badRequest("sort_by[\(index)]: '\(raw)': the direction is asc or desc")
                }
                descending = direction == "desc"
                field = String(field[..<colon])
            }
            guard IncidentFilter.sortable.contains(field) else {
                throw .badRequest("sort_by[\(index)]: cannot sort by '\(field)'; use one of \(IncidentFilter.sortable.sorted().joined(separator: ", "))")
            }
            keys.append((field, descending))
        }
        guard !keys.isEmpty else { return positions }
        return positions.sorted { left, right in
            for key in keys {
                let a = IncidentFilter.sortValue(all[left].incident, key.field)
                let b = IncidentFilter.sortValue(all[right].incident, key.field)
                if a != b { return key.descending ? a > b : a < b }
            }
            return all[left].seq < all[right].seq
        }
    }
}

/// One page of a sorted list: offsets behind opaque cursors.
struct Page {
    let range: Range<Int>
    let next: String?
    let previous: String?

    init(cursor: String?, mode: ListMode?, limit: Int32?, count: Int) throws(SandboxFailure) {
        let size = try IncidentService.limit(limit.map(Int.init), field: "limit")
        let offset = try cursor.map { text throws(SandboxFailure) in try Self.decode(text, count: count) }
        let start: Int
        let end: Int
        switch mode ?? .after {
        case .after:
            start = offset ?? 0
            end = min(start + size, count)
        case .before:
            end = offset ?? count
            start = max(0, end - size)
        case .unknown(let value):
            throw .invalidEnumValue(field: "mode", value: value, allowed: ["after", "before"])
        }
        range = start..<end
        next = end < count ? Self.encode(end) : nil
        previous = start > 0 ? Self.encode(start) : nil
    }

    static func encode(_ offset: Int) -> String {
        Data("runbook-sandbox:\(offset)".utf8).base64EncodedString()
    }

    static func decode(_ cursor: String, count: Int) throws(SandboxFailure) -> Int {
        guard let data = Data(base64Encoded: cursor), let text = String(data: data, encoding: .utf8),
            text.hasPrefix("runbook-sandbox:"), let offset = Int(text.dropFirst("runbook-sandbox:".count)), offset >= 0
        else {
            throw .badRequest("cursor: not a cursor this server handed out")
        }
        return min(offset, count)
    }
}
