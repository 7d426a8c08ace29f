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

    /// What an update's outcome needs besides DevRev's answer: the fields its request sets (its
    /// keys but `id` and the validation options, sorted), and the incident as the run last read it
    /// (as DevRev answered; nil when the run did not read it). Taken from the request as it was
    /// made, so the bytes sent are never parsed back.
    struct Basis: Sendable {
        var fields: [String]
        var before: [String: JSONValue]?

        /// `keys`: the request's top-level keys.
        init(fields keys: [String], before: [String: JSONValue]?) {
            fields = keys.filter { $0 != "id" && $0 != "stage_validation_options" }.sorted()
            self.before = before
        }
    }

    /// Each field the update set, with `before` (left out when the run did not read the incident)
    /// and `after` (from the incident DevRev answered with), simplified.
    static func of(_ basis: Basis, answer: JSONValue) -> JSONValue? {
        guard case .object(let response) = answer, case .object(let incident)? = response["incident"] else { return nil }
        let before = basis.before
        var changes: [JSONValue] = []
        for field in basis.fields {
            var change: [String: JSONValue] = ["field": .string(field)]
            if let before, let value = before[field], value != .null { change["before"] = simplified(field, value) }
            if let value = incident[field], value != .null { change["after"] = simplified(field, value) }
            changes.append(.object(change))
        }
        return .array(changes)
    }
}
