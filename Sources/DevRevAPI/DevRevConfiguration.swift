/// Where and how the client talks to DevRev.
public struct DevRevConfiguration: Sendable {
    public static let defaultBaseURL = "https://api.devrev.ai"
    /// The version of the schema this client follows (spec/incidents-openapi.yaml).
    public static let schemaVersion = "2024-01-24"
    /// This client's version, in the default User-Agent.
    public static let clientVersion = "0.1.0"
    public static let defaultUserAgent = "runbook/\(clientVersion)"

    public var baseURL: BaseURL
    public var token: DevRevToken
    /// `X-Devrev-Scope`; incidents are a beta API. Nil sends no header.
    public var scope: String?
    /// `X-Devrev-Version`. Nil sends no header (DevRev then applies its default version).
    public var apiVersion: String?
    public var userAgent: String
    public var timeouts: Timeouts
    public var retry: RetryPolicy

    public init(
        baseURL: BaseURL,
        token: DevRevToken,
        scope: String? = "beta",
        apiVersion: String? = DevRevConfiguration.schemaVersion,
        userAgent: String = DevRevConfiguration.defaultUserAgent,
        timeouts: Timeouts = Timeouts(),
        retry: RetryPolicy = RetryPolicy()
    ) {
        self.baseURL = baseURL
        self.token = token
        self.scope = scope
        self.apiVersion = apiVersion
        self.userAgent = userAgent
        self.timeouts = timeouts
        self.retry = retry
    }

    public struct Timeouts: Sendable, Hashable {
        /// Establishing a connection.
        public var connect: Duration
        /// One request and its response.
        public var attempt: Duration
        /// A whole call, retries and waits included.
        public var total: Duration

        public init(connect: Duration = .seconds(5), attempt: Duration = .seconds(30), total: Duration = .seconds(120)) {
            self.connect = connect
            self.attempt = attempt
            self.total = total
        }
    }

    public struct RetryPolicy: Sendable, Hashable {
        /// Attempts per call, the first included.
        public var maxAttempts: Int
        /// The first backoff's ceiling; each retry doubles it (full jitter: a random wait up to it).
        public var initialBackoff: Duration
        public var maxBackoff: Duration

        public init(maxAttempts: Int = 5, initialBackoff: Duration = .milliseconds(500), maxBackoff: Duration = .seconds(20)) {
            self.maxAttempts = max(1, maxAttempts)
            self.initialBackoff = initialBackoff
            self.maxBackoff = maxBackoff
        }
    }
}

/// An API base URL: `https://` for any host, plain `http://` only for loopback hosts.
public struct BaseURL: Sendable, Hashable, CustomStringConvertible {
    public let scheme: String
    public let host: String
    public let port: Int?
    /// Path prefix without a trailing slash ("" for none).
    public let path: String

    public init(_ text: String) throws(DevRevConfigurationError) {
        guard let schemeEnd = text.range(of: "://") else {
            throw .invalidBaseURL(text, reason: "expected https://HOST[:PORT][/PATH]")
        }
        let scheme = text[..<schemeEnd.lowerBound].lowercased()
        guard scheme == "https" || scheme == "http" else {
            throw .invalidBaseURL(text, reason: "the scheme must be https (or http for a loopback host)")
        }
        let rest = text[schemeEnd.upperBound...]
        let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        let remainder = rest.dropFirst(authority.count)
        guard !remainder.contains("?"), !remainder.contains("#") else {
            throw .invalidBaseURL(text, reason: "a base URL has no query or fragment")
        }
        guard !authority.contains("@") else {
            throw .invalidBaseURL(text, reason: "credentials do not belong in the URL; use DEVREV_TOKEN or --token-file")
        }
        var host = String(authority)
        var port: Int?
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { throw .invalidBaseURL(text, reason: "unclosed IPv6 address") }
            let after = host[host.index(after: close)...]
            if after.hasPrefix(":") {
                guard let value = Int(after.dropFirst()), (1...65535).contains(value) else {
                    throw .invalidBaseURL(text, reason: "invalid port")
                }
                port = value
            }
            host = String(host[host.index(after: host.startIndex)..<close])
        } else if let colon = host.lastIndex(of: ":") {
            guard let value = Int(host[host.index(after: colon)...]), (1...65535).contains(value) else {
                throw .invalidBaseURL(text, reason: "invalid port")
            }
            port = value
            host = String(host[..<colon])
        }
        guard !host.isEmpty else { throw .invalidBaseURL(text, reason: "no host") }
        if scheme == "http", !Self.isLoopback(host) {
            throw .invalidBaseURL(text, reason: "plain http is allowed only for loopback hosts (127.0.0.0/8, ::1, localhost); use https")
        }
        self.scheme = scheme
        self.host = host.lowercased()
        self.port = port
        var path = String(remainder)
        while path.hasSuffix("/") { path.removeLast() }
        self.path = path
    }

    public static func isLoopback(_ host: String) -> Bool {
        let host = host.lowercased()
        if host == "localhost" || host == "::1" || host.hasSuffix(".localhost") { return true }
        let octets = host.split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4, octets.allSatisfy({ UInt8($0) != nil }) else { return false }
        return octets[0] == "127"
    }

    /// The URL of an operation, e.g. https://api.devrev.ai/incidents.update
    public func url(for operationPath: String) -> String {
        let hostPart = host.contains(":") ? "[\(host)]" : host
        let portPart = port.map { ":\($0)" } ?? ""
        return "\(scheme)://\(hostPart)\(portPart)\(path)/\(operationPath)"
    }

    public var description: String {
        let hostPart = host.contains(":") ? "[\(host)]" : host
        return "\(scheme)://\(hostPart)\(port.map { ":\($0)" } ?? "")\(path)"
    }
}
