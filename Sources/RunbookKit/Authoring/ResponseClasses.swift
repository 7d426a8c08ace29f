import DevRevAPI

/// The LuaLS classes of what the bindings hand back (an incident, its summaries, a comment, a
/// group), read from the response models themselves: every field of each, with its type.
enum ResponseClasses {
    /// A model's fields as `(JSON name, Swift type name)`, through a mirror of an empty value.
    private static func fields<Model: SchemaModel>(_ value: Model) -> [(String, String)] {
        let names = Set(Model.CodingKeys.allCases.map(\.stringValue))
        var found: [(String, String)] = Mirror(reflecting: value).children.compactMap { child in
            // The models name properties in Swift case and their keys in the schema's snake case.
            guard let label = child.label else { return nil }
            let name = label.reduce(into: "") { name, character in
                if character.isUppercase { name += "_" + character.lowercased() } else { name.append(character) }
            }
            guard names.contains(name) else { return nil }
            return (name, String(describing: type(of: child.value)))
        }
        // A key the mirror did not match (an unusual name) is still listed, untyped.
        for name in names where !found.contains(where: { $0.0 == name }) { found.append((name, "JSONValue")) }
        return found.sorted { $0.0 < $1.0 }
    }

    /// The classes, by model name: each becomes `runbook.<Name>`.
    private static let models: [(String, [(String, String)])] = [
        ("Incident", fields(Incident())), ("EnumValue", fields(EnumValue())), ("Stage", fields(Stage())),
        ("CustomStageSummary", fields(CustomStageSummary())), ("CustomStateSummary", fields(CustomStateSummary())),
        ("UserSummary", fields(UserSummary())), ("PartSummary", fields(PartSummary())), ("TagWithValue", fields(TagWithValue())),
        ("TagSummary", fields(TagSummary())), ("ArticleSummary", fields(ArticleSummary())), ("ArtifactSummary", fields(ArtifactSummary())),
        ("ImpactedCustomerDetails", fields(ImpactedCustomerDetails())), ("IncidentsGroup", fields(IncidentsGroup())),
    ]

    /// `Optional<Array<UserSummary>>` as Lua: `runbook.UserSummary[]`; a model this file has no
    /// class for, or an open enum, as `any` or `string`.
    static func luaType(_ swift: String) -> String {
        var name = swift
        if name.hasPrefix("Optional<"), name.hasSuffix(">") { name = String(name.dropFirst(9).dropLast()) }
        if name.hasPrefix("Array<"), name.hasSuffix(">") {
            let item = luaType(String(name.dropFirst(6).dropLast()))
            return item.contains("|") ? "(\(item))[]" : item + "[]"
        }
        switch name {
        case "String": return "string"
        case "Int64", "Int", "Int32": return "integer"
        case "Double", "Float": return "number"
        case "Bool": return "boolean"
        case "JSONValue": return "any"
        case "Dictionary<String, JSONValue>": return "table<string, any>"
        default:
            if models.contains(where: { $0.0 == name }) { return "runbook.\(name)" }
            return "any"
        }
    }

    static func lines() -> [String] {
        var lines: [String] = []
        for (name, fields) in models {
            lines.append("---@class runbook.\(name == "IncidentsGroup" ? "IncidentGroup" : name)")
            for (field, swift) in fields {
                var type = luaType(swift)
                if name == "IncidentsGroup", field == "incidents" { type = "runbook.Incident[]" }
                lines.append("---@field \(field)? \(type)")
            }
            lines.append("")
        }
        lines += [
            "---@class runbook.Comment",
            "---@field id string",
            "---@field type string \"timeline_comment\"",
            "---@field object string the incident's id",
            "---@field object_display_id? string",
            "---@field body string",
            "---@field body_type? string",
            "---@field labels? string[]",
            "---@field external_ref? string",
            "---@field visibility? string",
            "---@field created_date? string",
            "---@field modified_date? string",
            "---@field created_by? runbook.UserSummary",
            "",
        ]
        return lines
    }
}
