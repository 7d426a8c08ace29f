import DevRevAPI

/// A change field by field, as an operator reads it: `severity` `Sev2` -> `Sev1`. References are
/// shown by the name an operator uses for them (an enum by its label, a stage by its name, users
/// and parts by display id, tags by name); dates and custom fields as they are. The audit journal
/// records these with every update, and `runbook test` compares them.
enum FieldChanges {
    /// A field's value by the name an operator uses for it.
    static func simplified(_ field: String, _ value: JSONValue) -> JSONValue {
        guard field != "custom_fields" else { return value }
        switch value {
        case .array(let items):
            return .array(items.map { simplified(field, $0) })
        case .object(let fields):
            if case .object(let stage)? = fields["stage"], let name = stage["name"] { return name }
            if let label = fields["label"] { return label }
            if field == "tags", case .object(let tag)? = fields["tag"], let name = tag["name"] {
                if let value = fields["value"] { return .string("\(Planner.text(name) ?? "")=\(Planner.text(value) ?? "")") }
                return name
            }
            if let displayID = fields["display_id"] { return displayID }
            if let name = fields["name"], fields.count <= 2 { return name }
            return value
        default:
            return value
        }
    }

    /// The fields an update's request body sets (its keys but `id` and the validation options),
    /// each with `before` (from `before`, the incident as the run last read it, as DevRev answered;
    /// left out when the run did not read it) and `after` (from the incident DevRev answered with),
    /// in field order, simplified.
    static func of(update body: [UInt8], before: [String: JSONValue]?, answer: JSONValue) -> JSONValue? {
        guard case .object(let request)? = try? JSONParser().parse(body), case .object(let response) = answer,
              case .object(let incident)? = response["incident"]
        else { return nil }
        var changes: [JSONValue] = []
        for field in request.keys.sorted() where !["id", "stage_validation_options"].contains(field) {
            var change: [String: JSONValue] = ["field": .string(field)]
            if let before, let value = before[field], value != .null { change["before"] = simplified(field, value) }
            if let value = incident[field], value != .null { change["after"] = simplified(field, value) }
            changes.append(.object(change))
        }
        return .array(changes)
    }
}
