/// Where and why JSON did not decode, in the field-path style used throughout
/// (`incident.owned_by[0].id: expected String`).
public enum DecodingErrorText {
    /// `tags.set[2].tag_id`; "" for the top level.
    public static func path(_ codingPath: [any CodingKey]) -> String {
        var text = ""
        for key in codingPath {
            if let index = key.intValue {
                text += "[\(index)]"
            } else {
                text += text.isEmpty ? key.stringValue : ".\(key.stringValue)"
            }
        }
        return text
    }

    /// One line for any error; a `DecodingError` gets its path and what was expected.
    public static func describe(_ error: any Error) -> String {
        guard let decoding = error as? DecodingError else { return "\(error)" }
        func place(_ context: DecodingError.Context) -> String {
            let text = path(context.codingPath)
            return text.isEmpty ? "the body" : text
        }
        switch decoding {
        case .typeMismatch(let type, let context): return "\(place(context)): expected \(type)"
        case .valueNotFound(let type, let context): return "\(place(context)): expected \(type), got null"
        case .keyNotFound(let key, let context): return "\(place(context)): missing \(key.stringValue)"
        case .dataCorrupted(let context): return "\(place(context)): \(context.debugDescription)"
        @unknown default: return "\(error)"
        }
    }
}
