/// A configuration the client cannot work with. Messages say what to do.
public enum DevRevConfigurationError: Error, Sendable, Hashable, CustomStringConvertible {
    case missingToken(variable: String)
    case emptyToken
    case malformedToken
    case unreadableTokenFile(path: String, reason: String)
    case tokenFileTooOpen(path: String, mode: String)
    case invalidBaseURL(String, reason: String)

    public var description: String {
        switch self {
        case .missingToken(let variable):
            "no DevRev token: set \(variable) or pass --token-file"
        case .emptyToken:
            "the DevRev token is empty"
        case .malformedToken:
            "the DevRev token spans several lines; a token is one line"
        case .unreadableTokenFile(let path, let reason):
            "cannot read the token file \(path): \(reason)"
        case .tokenFileTooOpen(let path, let mode):
            "the token file \(path) is readable by others (mode \(mode)); run: chmod 600 \(path) "
                + "(a file of root's may also be read by its group, 0640 or 0440, and nobody else)"
        case .invalidBaseURL(let url, let reason):
            "invalid base URL '\(url)': \(reason)"
        }
    }
}
