import DevRevAPI
import Foundation

/// What a DevRev personal access token (a JWT) says about itself, read from its payload without
/// checking its signature: only for display and for telling targets apart, never for trust.
struct TokenClaims {
    let fields: [String: JSONValue]

    /// Nil when the token is not a JWT with a JSON object payload.
    init?(token: String) {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[1].utf8.count <= 16_384 else { return nil }
        var payload = String(parts[1]).replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while payload.count % 4 != 0 { payload += "=" }
        guard let data = Data(base64Encoded: payload),
              case .object(let fields)? = try? JSONParser(maximumDepth: 8).parse(Array(data))
        else { return nil }
        self.fields = fields
    }

    /// `exp`, when it is a date RFC 3339 can write (an `exp` of 1e300 is no expiry to check).
    var expiry: Date? {
        let seconds: Double
        switch fields["exp"] {
        case .integer(let value)?: seconds = Double(value)
        case .number(let value)?: seconds = value
        default: return nil
        }
        guard seconds.isFinite, Double(RFC3339.unixSecondsRange.lowerBound)...Double(RFC3339.unixSecondsRange.upperBound) ~= seconds else { return nil }
        return Date(timeIntervalSince1970: seconds)
    }

    /// The Dev org the token acts in: a claim naming the org (`.../devo_don`, `org_id`, `org`).
    var org: String? { firstText(endingIn: ["devo_don", "devoid", "org_id", "org"]) }

    /// The user the token acts as: a claim naming the Dev user (`.../devu_don`, `.../devuid`), else `sub`.
    var user: String? { firstText(endingIn: ["devu_don", "devuid", "sub"]) }

    private func firstText(endingIn suffixes: [String]) -> String? {
        for suffix in suffixes {
            for key in fields.keys.sorted() where key == suffix || key.hasSuffix("/" + suffix) || key.hasSuffix("_" + suffix) {
                if case .string(let text)? = fields[key], !text.isEmpty, text.utf8.count <= 512 { return text }
            }
        }
        return nil
    }
}
