import DevRevAPI

/// A change a dry run would have made, and what it was made against.
struct PlannedChange: Codable, Sendable {
    /// e.g. "incidents.update"
    var operation: String
    /// The incident's id or display id; nil for a create.
    var incident: String?
    /// The request body that would be sent, exactly.
    var body: JSONValue
    /// The incident's `modified_date` when planned; `apply` skips the change if it moved since.
    var plannedModifiedDate: String?
    /// The one-line description: `INC-42  severity Sev2 -> Sev1, owned_by [DEVU-1] -> [DEVU-7]`.
    var summary: String
    /// Field by field, for machines: what an update or a create sets, before and after (as DevRev
    /// shows the incident: `severity` `{"id":2,"label":"Sev2"}` -> `{"id":1,"label":"Sev1"}`).
    var fields: [FieldChange]?
    /// A claim on the incident (`--- @claim`, `incident.claim`): sent before the incident's
    /// changes, not counted as one of them.
    var claim: Bool?

    var isClaim: Bool { claim == true }

    struct FieldChange: Codable, Sendable, Equatable {
        var field: String
        var before: JSONValue?
        var after: JSONValue?
    }

    enum CodingKeys: String, CodingKey {
        case operation, incident, body, summary, fields, claim
        case plannedModifiedDate = "planned_modified_date"
    }
}

/// Dry runs: mutations are recorded instead of sent, and answered with the incident as it would
/// be, built from the request and from what the run has read (so labels, names and summaries
/// look like DevRev's).
final class Planner {
    private(set) var changes: [PlannedChange] = []
    /// Updates whose every field already holds the requested value (`INC-1`): not changes, so not
    /// counted by `--max-changes`, not written to a plan, not applied.
    private(set) var unchanged: [String] = []
    /// Every incident the run has read or planned, by id and by display id.
    private var incidents: [String: [String: JSONValue]] = [:]
    /// Summaries seen in any incident, to resolve references the way DevRev would.
    private var users: [String: JSONValue] = [:]
    private var parts: [String: JSONValue] = [:]
    private var tags: [String: JSONValue] = [:]
    private var stages: [String: JSONValue] = [:]
    private var enumLabels: [String: [Int64: JSONValue]] = [:]
    private var createdCount = 0
    private var plannedComments = 0
    /// Planned creates by their planned ids (`planned-1`, `PLANNED-1`): what later reads return.
    private var created: [String: [String: JSONValue]] = [:]
    /// Enum ids and stages the run looked up once (see `lookups`), found or not.
    private var lookedUp: Set<String> = []
    /// References read once by `checkReferences`, by kind and id: whether they exist.
    private var checkedReferences: [String: Bool] = [:]
    private let clock: RunClock

    init(clock: RunClock = RunClock(frozen: nil)) {
        self.clock = clock
    }
    /// Ids and display ids of incidents with a planned update or delete.
    private var planned: Set<String> = []
    private var deleted: Set<String> = []

    /// Learns from a response (the incidents in it and the summaries they hold), and returns it
    /// as the script should see it: incidents with planned changes as they would be, planned
    /// deletions gone, so later logic behaves as in a real run.
    /// `listRequest`: the `incidents.list` request this page answers; its last page also shows
    /// the planned creates the request's filters match, as DevRev would list them after the run.
    func observe(_ response: JSONValue, listRequest: JSONValue? = nil) -> JSONValue {
        guard case .object(var fields) = response else { return response }
        if case .object(let incident)? = fields["incident"] {
            if let id = Self.identity(incident), planned.contains(id), let known = incidents[id] {
                fields["incident"] = .object(known)
            } else {
                remember(incident)
            }
        }
        if case .array(let list)? = fields["incidents"] {
            var shown: [JSONValue] = []
            for item in list {
                guard case .object(let incident) = item else { continue }
                let id = Self.identity(incident)
                if let id, deleted.contains(id) { continue }
                if let id, planned.contains(id), let known = incidents[id] {
                    shown.append(.object(known))
                } else {
                    remember(incident)
                    shown.append(item)
                }
            }
            let lastPage = Self.text(fields["next_cursor"]).map(\.isEmpty) ?? true
            if lastPage, case .object(let filters)? = listRequest {
                for number in 1...max(1, createdCount) {
                    guard let incident = created["PLANNED-\(number)"], Self.matches(incident, filters) else { continue }
                    shown.append(.object(incident))
                }
            }
            fields["incidents"] = .array(shown)
        }
        return .object(fields)
    }

    /// Whether a planned incident passes a list request's filters. Filters this cannot evaluate
    /// (dates, custom fields, ...) leave it out: a list never shows what DevRev would not.
    static func matches(_ incident: [String: JSONValue], _ filters: [String: JSONValue]) -> Bool {
        func names(_ value: JSONValue?) -> Set<String> {
            var result: Set<String> = []
            func add(_ item: JSONValue) {
                guard case .object(let object) = item else { return }
                for key in ["id", "display_id", "name"] { if let text = text(object[key]) { result.insert(text) } }
            }
            switch value {
            case .array(let items)?: items.forEach(add)
            case .object(let object)?:
                if let inner = object["stage"] { add(inner) } else { add(.object(object)) }
            default: break
            }
            return result
        }
        for (key, filter) in filters {
            guard case .array(let wanted) = filter else {
                // Paging, not filtering.
                if ["limit", "cursor", "mode"].contains(key) { continue }
                return false
            }
            switch key {
            case "severity":
                guard case .object(let severity)? = incident["severity"], let id = severity["id"], wanted.contains(id) else { return false }
            case "stage", "owned_by", "applies_to_parts", "created_by":
                let have = names(incident[key])
                guard wanted.contains(where: { text($0).map(have.contains) ?? false }) else { return false }
            case "sort_by":
                continue   // an order, not a filter
            default:
                return false
            }
        }
        return true
    }

    private static func identity(_ incident: [String: JSONValue]) -> String? {
        text(incident["id"]) ?? text(incident["display_id"])
    }

    private func markPlanned(_ incident: [String: JSONValue], deleted isDeleted: Bool = false) {
        for key in ["id", "display_id"] {
            guard let id = Self.text(incident[key]) else { continue }
            planned.insert(id)
            if isDeleted { deleted.insert(id) }
        }
    }

    func known(_ reference: String) -> [String: JSONValue]? { incidents[reference] }

    /// Whether the run has seen this reference on an incident (so it exists).
    func knows(_ kind: DevRevConnection.ReferenceKind, _ id: String) -> Bool {
        switch kind {
        case .user: users[id] != nil
        case .part: parts[id] != nil
        case .stage: stages[id] != nil
        case .tag: tags[id] != nil
        }
    }

    func checkedReference(_ kind: DevRevConnection.ReferenceKind, _ id: String) -> Bool? { checkedReferences["\(kind):\(id)"] }

    func recordReference(_ kind: DevRevConnection.ReferenceKind, _ id: String, exists: Bool) {
        checkedReferences["\(kind):\(id)"] = exists
    }

    /// A comment with this `external_ref` is already on the incident: not a change.
    func alreadyPosted(_ reference: String, on incident: String) {
        unchanged.append("\(incident) comment \(reference) (already posted)")
    }

    /// A planned create by its planned id: reads of it answer with the incident as planned.
    func plannedCreate(_ reference: String) -> [String: JSONValue]? { created[reference] }

    /// The list requests that would show, on some incident, how DevRev names the severity and
    /// stage a request sets that the run has not seen yet (`Sev1` for severity 1): one read each,
    /// once per run, so diffs and planned results read like DevRev's (`Sev2 -> Sev1`).
    func lookups(for body: JSONValue) -> [JSONValue] {
        guard case .object(let request) = body else { return [] }
        var reads: [JSONValue] = []
        if case .integer(let id)? = request["severity"], enumLabels["severity"]?[id] == nil, lookedUp.insert("severity:\(id)").inserted {
            reads.append(.object(["severity": .array([.integer(id)]), "limit": 1]))
        }
        if case .object(let stage)? = request["stage"], case .string(let name)? = stage["stage"], stages[name] == nil,
           lookedUp.insert("stage:\(name)").inserted
        {
            reads.append(.object(["stage": .array([.string(name)]), "limit": 1]))
        }
        return reads
    }

    private func remember(_ incident: [String: JSONValue]) {
        for key in ["id", "display_id"] {
            if case .string(let id)? = incident[key] { incidents[id] = incident }
        }
        func index(_ value: JSONValue?, into table: inout [String: JSONValue]) {
            guard case .object(let summary)? = value else { return }
            for key in ["id", "display_id", "name"] {
                if case .string(let name)? = summary[key] { table[name] = value }
            }
        }
        for field in ["owned_by", "created_by", "modified_by"] {
            if case .array(let list)? = incident[field] { list.forEach { index($0, into: &users) } } else { index(incident[field], into: &users) }
        }
        if case .array(let list)? = incident["applies_to_parts"] { list.forEach { index($0, into: &parts) } }
        if case .array(let list)? = incident["tags"] {
            for case .object(let tag) in list { index(tag["tag"], into: &tags) }
        }
        if case .object(let stage)? = incident["stage"], case .object(let inner)? = stage["stage"] {
            for key in ["id", "name"] {
                if case .string(let name)? = inner[key] { stages[name] = .object(stage) }
            }
        }
        for field in ["severity", "reported_by", "source"] {
            if case .object(let value)? = incident[field], case .integer(let id)? = value["id"] {
                enumLabels[field, default: [:]][id] = .object(value)
            }
        }
    }

    // MARK: planning

    func planUpdate(_ body: JSONValue, current: [String: JSONValue]) -> JSONValue {
        guard case .object(let request) = body else { return .object(current) }
        var after = current
        for (key, value) in request where key != "id" {
            after[key] = resolved(key, value, current: current[key])
        }
        let reference = Self.text(current["display_id"]) ?? Self.text(current["id"]) ?? Self.text(request["id"]) ?? "?"
        // Exactly equal after resolving references: a value this run cannot resolve (an unseen
        // user id) counts as a change, so a real change is never taken for a no-op.
        if request.allSatisfy({ key, _ in key == "id" || after[key] == current[key] }) {
            unchanged.append(reference)
            return .object(current)
        }
        let fields = request.keys.sorted().filter { $0 != "id" && after[$0] != current[$0] }
            .map { PlannedChange.FieldChange(field: $0, before: current[$0], after: after[$0]) }
        changes.append(PlannedChange(
            operation: DevRevOperation.updateIncident.name, incident: Self.text(request["id"]) ?? reference, body: body,
            plannedModifiedDate: Self.text(current["modified_date"]), summary: "\(reference)  " + Self.diff(current, after), fields: fields))
        remember(after)
        markPlanned(after)
        return .object(after)
    }

    func planCreate(_ body: JSONValue) -> JSONValue {
        createdCount += 1
        let now = JSONValue.string(RFC3339.format(unixSeconds: clock.now()))
        var incident: [String: JSONValue] = [
            "id": .string("planned-\(createdCount)"), "display_id": .string("PLANNED-\(createdCount)"),
            "created_date": now, "modified_date": now,
        ]
        if case .object(let request) = body {
            for (key, value) in request { incident[key] = resolved(key, value, current: nil) }
        }
        for key in ["id", "display_id"] {
            if case .string(let id)? = incident[key] { created[id] = incident }
        }
        let title = Self.text(incident["title"]) ?? ""
        let fields = incident.keys.sorted().filter { !["id", "display_id"].contains($0) }
            .map { PlannedChange.FieldChange(field: $0, before: nil, after: incident[$0]) }
        changes.append(PlannedChange(operation: DevRevOperation.createIncident.name, incident: nil, body: body,
                                     plannedModifiedDate: nil, summary: "+ create \"\(title)\"", fields: fields))
        return .object(incident)
    }

    func planDelete(_ id: String, current: [String: JSONValue]) {
        let reference = Self.text(current["display_id"]) ?? id
        changes.append(PlannedChange(operation: DevRevOperation.deleteIncident.name, incident: id, body: .object(["id": .string(id)]),
                                     plannedModifiedDate: Self.text(current["modified_date"]), summary: "- delete \(reference)"))
        markPlanned(current, deleted: true)
    }

    /// A comment on `incident` (as the script named it; `reference` is its display id when known).
    /// Answered with the timeline entry as it would be.
    /// The changes the plan counts (`--max-changes`, the summaries): every one but the claims.
    var countedChanges: Int { changes.count { !$0.isClaim } }

    /// A claim the run would post before its first change to the incident.
    func planClaim(_ body: JSONValue, incident: String, reference: String) {
        var summary = "\(reference)  claim for this run's window"
        if case .object(let fields) = body, let externalRef = Self.text(fields["external_ref"]) { summary += " (\(externalRef))" }
        changes.append(PlannedChange(
            operation: DevRevOperation.createTimelineEntry.name, incident: incident, body: body, plannedModifiedDate: nil,
            summary: summary, claim: true))
    }

    func planComment(_ body: JSONValue, incident: String, reference: String) -> JSONValue {
        plannedComments += 1
        guard case .object(let request) = body else { return .null }
        let text = Self.text(request["body"]) ?? ""
        changes.append(PlannedChange(
            operation: DevRevOperation.createTimelineEntry.name, incident: incident, body: body, plannedModifiedDate: nil,
            summary: "\(reference)  + comment \(Self.quoted(text, limit: 80))"))
        var entry = request.filter { ["body", "body_type", "labels", "external_ref", "visibility"].contains($0.key) }
        entry["type"] = .string("timeline_comment")
        entry["id"] = .string("planned-comment-\(plannedComments)")
        entry["object"] = .string(incident)
        entry["object_display_id"] = .string(reference)
        let now = JSONValue.string(RFC3339.format(unixSeconds: clock.now()))
        entry["created_date"] = now
        entry["modified_date"] = now
        return .object(entry)
    }

    /// A `devrev.call` mutation, recorded with its body; nothing to answer with.
    func planCall(_ operation: DevRevOperation, body: JSONValue) -> JSONValue {
        var target: String?
        if case .object(let fields) = body { target = Self.text(fields["id"]) ?? Self.text(fields["object"]) }
        var summary = "+ call \(operation.name)"
        if let bytes = try? LuaJSON.encode(body) { summary += " " + Self.quoted(String(decoding: bytes, as: UTF8.self), limit: 120, quote: false) }
        changes.append(PlannedChange(operation: operation.name, incident: target, body: body, plannedModifiedDate: nil, summary: summary))
        return .null
    }

    /// `text` on one line, cut to `limit` characters.
    static func quoted(_ text: String, limit: Int, quote: Bool = true) -> String {
        var line = text.split(whereSeparator: \.isNewline).joined(separator: " ")
        if line.count > limit { line = String(line.prefix(limit - 1)) + "…" }
        return quote ? "\"\(line)\"" : line
    }

    /// The value a field would have after the request sets it.
    private func resolved(_ key: String, _ value: JSONValue, current: JSONValue?) -> JSONValue {
        func summary(_ reference: JSONValue, in table: [String: JSONValue]) -> JSONValue {
            guard case .string(let id) = reference else { return reference }
            // Unseen: only what the reference says (a DON is an id; anything else a display id).
            return table[id] ?? .object([id.hasPrefix("don:") ? "id" : "display_id": .string(id)])
        }
        func list(_ value: JSONValue) -> [JSONValue] {
            if case .object(let wrapper) = value, case .array(let items)? = wrapper["set"] { return items }
            if case .array(let items) = value { return items }
            return []
        }
        switch key {
        case "owned_by":
            return .array(list(value).map { summary($0, in: users) })
        case "applies_to_parts":
            return .array(list(value).map { summary($0, in: parts) })
        case "tags":
            return .array(list(value).map { item in
                guard case .object(let tag) = item, let id = tag["tag_id"] else { return item }
                var result: [String: JSONValue] = ["tag": summary(id, in: tags)]
                if let text = tag["value"] { result["value"] = text }
                return .object(result)
            })
        case "stage":
            guard case .object(let request) = value, case .string(let name)? = request["stage"] else { return value }
            return stages[name] ?? .object(["stage": .object([name.hasPrefix("don:") ? "id" : "name": .string(name)])])
        case "severity", "reported_by", "source":
            guard case .integer(let id) = value else { return value }
            return enumLabels[key]?[id] ?? .object(["id": .integer(id)])
        case "impact":
            return current ?? value
        default:
            return value
        }
    }

    // MARK: text

    static func text(_ value: JSONValue?) -> String? {
        if case .string(let text)? = value { return text }
        return nil
    }

    /// `severity Sev2 -> Sev1, owned_by [DEVU-1] -> [DEVU-7]`: the top-level fields that change.
    static func diff(_ before: [String: JSONValue], _ after: [String: JSONValue]) -> String {
        var parts: [String] = []
        for key in after.keys.sorted() where key != "modified_date" && key != "modified_by" {
            let old = render(before[key])
            let new = render(after[key])
            if old != new { parts.append("\(key) \(old) -> \(new)") }
        }
        return parts.isEmpty ? "no change" : parts.joined(separator: ", ")
    }

    static func render(_ value: JSONValue?) -> String {
        switch value {
        case nil, .null?: return "-"
        case .string(let text)?: return text
        case .integer(let number)?: return "\(number)"
        case .number(let number)?: return "\(number)"
        case .bool(let flag)?: return "\(flag)"
        case .array(let items)?: return "[" + items.map { render($0) }.joined(separator: ",") + "]"
        case .object(let fields)?:
            if case .object(let stage)? = fields["stage"] { return render(stage["name"] ?? stage["id"]) }
            if case .object(let tag)? = fields["tag"] { return render(tag["name"] ?? tag["id"]) }
            for key in ["label", "display_id", "name", "id"] where fields[key] != nil { return render(fields[key]) }
            return (try? String(decoding: LuaJSON.encode(.object(fields)), as: UTF8.self)) ?? "{…}"
        }
    }
}

extension JSONValue {
    /// Whether `other` holds everything this value says: the same scalars, objects with at least
    /// these keys (each a subset), arrays of the same length (element by element). A planned
    /// `{"id": 1}` is in DevRev's `{"id": 1, "label": "Sev1"}`.
    func isSubset(of other: JSONValue) -> Bool {
        switch (self, other) {
        case (.object(let mine), .object(let theirs)):
            return mine.allSatisfy { key, value in theirs[key].map { value.isSubset(of: $0) } ?? false }
        case (.array(let mine), .array(let theirs)):
            return mine.count == theirs.count && zip(mine, theirs).allSatisfy { $0.isSubset(of: $1) }
        default:
            return self == other
        }
    }
}
