import Foundation

/// How a sandbox serves: where, with what data, which token, and what trouble to make.
public struct SandboxConfiguration: Sendable {
    /// 0 picks a free port.
    public var port: Int
    /// A SQLite file that survives restarts; nil keeps everything in memory.
    public var databasePath: String?
    /// The data of a new database; nil serves the demo tenant.
    public var seed: Tenant?
    /// The bearer token requests must carry.
    public var token: String
    public var rateLimit: RateLimit
    public var faults: Faults
    /// The sandbox's now: dates it stamps (`modified_date`, a comment's `created_date`), relative
    /// seed dates (`-45m`), date presets and comment expiry. The system clock unless a test freezes it.
    public var clock: @Sendable () -> Date

    public init(port: Int = 0, databasePath: String? = nil, seed: Tenant? = nil, token: String,
                rateLimit: RateLimit = RateLimit(), faults: Faults = Faults(), clock: @escaping @Sendable () -> Date = { Date() }) {
        self.port = port
        self.databasePath = databasePath
        self.seed = seed
        self.token = token
        self.rateLimit = rateLimit
        self.faults = faults
        self.clock = clock
    }

    /// A fresh token for a sandbox nobody named one for: `sandbox-` and 24 random hex digits.
    public static func generateToken() -> String {
        "sandbox-" + (0..<24).map { _ in String(UInt8.random(in: 0...15), radix: 16) }.joined()
    }

    /// A quota of requests per window, per token, like DevRev's.
    public struct RateLimit: Sendable, Hashable {
        public var quota: Int
        public var window: Duration

        public init(quota: Int = 100_000, window: Duration = .seconds(300)) {
            self.quota = max(1, quota)
            self.window = window
        }
    }

    /// Trouble on purpose, for testing clients. Reproducible: the same seed gives the same faults
    /// for the same sequence of requests.
    public struct Faults: Sendable, Hashable {
        public enum Kind: String, Sendable, Hashable, CaseIterable {
            /// 500 with a reference_id.
            case internalError = "500"
            /// 503.
            case unavailable = "503"
            /// 429 with a Retry-After of one second, as if the quota had run out.
            case tooManyRequests = "429"
            /// The connection is closed without an answer; the request is not carried out.
            case drop
            /// The request is carried out (a create is committed), then the connection is closed
            /// without an answer: the response is lost on the way back.
            case lost
            /// A 200 whose body is not JSON.
            case malformed
            /// A 200 whose JSON breaks the response schema: its incident's `stage.stage.name` is a number.
            /// The request is not carried out.
            case offSchema = "off-schema"
        }

        /// Share of requests (0 to 1) that get a fault, chosen among `kinds`.
        public var rate: Double
        public var kinds: [Kind]
        /// Added before every answer.
        public var latency: Duration
        public var seed: UInt64
        /// Only requests to these operations get faults; nil: every operation.
        public var operations: Set<String>?
        /// At most this many faults in the sandbox's life; nil: no bound.
        public var limit: Int?
        /// Faults on a schedule, checked before the random ones: "the second update answers 500".
        public var rules: [Rule]

        /// The faults chosen from when none are named.
        public static let defaultKinds: [Kind] = [.internalError, .unavailable, .drop, .malformed]

        public init(
            rate: Double = 0, kinds: [Kind] = Faults.defaultKinds, latency: Duration = .zero, seed: UInt64 = 1,
            operations: Set<String>? = nil, limit: Int? = nil, rules: [Rule] = []
        ) {
            self.rate = min(1, max(0, rate))
            self.kinds = kinds.isEmpty ? Faults.defaultKinds : kinds
            self.latency = latency
            self.seed = seed
            self.operations = operations
            self.limit = limit.map { max(0, $0) }
            self.rules = rules
        }

        /// A scheduled fault: of the requests to `operation` (any operation when nil), the first
        /// `after` are served, the next `times` (all the rest when nil) get `kind`. Each rule counts
        /// the requests to its operation whatever other rules did; the first rule that fires wins.
        public struct Rule: Sendable, Hashable {
            public var kind: Kind
            public var operation: String?
            public var after: Int
            public var times: Int?
            /// The Retry-After (seconds) of a `429`.
            public var retryAfter: Int64

            public init(kind: Kind, operation: String? = nil, after: Int = 0, times: Int? = nil, retryAfter: Int64 = 1) {
                self.kind = kind
                self.operation = operation
                self.after = max(0, after)
                self.times = times.map { max(0, $0) }
                self.retryAfter = max(0, retryAfter)
            }

            func fires(onRequest number: Int) -> Bool {
                number > after && times.map { number <= after + $0 } ?? true
            }
        }
    }
}
