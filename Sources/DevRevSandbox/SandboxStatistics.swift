import Synchronization

/// What the sandbox has served, for tests and benchmarks: each request's operation, arrival time
/// and (for the first `bodyLogLimit`) its body as received, how many were in flight at once (received, not yet answered, latency included), and how
/// many the rate limit turned away.
public final class SandboxStatistics: Sendable {
    public struct Arrival: Sendable {
        /// e.g. `incidents.list`
        public var operation: String
        public var at: ContinuousClock.Instant
        /// The request body byte for byte; nil past the first `SandboxStatistics.bodyLogLimit` requests.
        public var body: [UInt8]?
    }

    public struct Snapshot: Sendable {
        /// The first `SandboxStatistics.logLimit` requests, in arrival order.
        public var arrivals: [Arrival]
        public var requests: Int
        public var inFlight: Int
        public var maximumInFlight: Int
        /// Requests answered 429 because the quota was spent (not injected faults).
        public var throttled: Int

        public func count(of operation: String) -> Int { arrivals.count { $0.operation == operation } }
    }

    public static let logLimit = 100_000
    public static let bodyLogLimit = 1_000

    private let state = Mutex(Snapshot(arrivals: [], requests: 0, inFlight: 0, maximumInFlight: 0, throttled: 0))

    func began(_ path: String, body: [UInt8]) {
        let operation = String(path.split(separator: "?", maxSplits: 1).first ?? "").trimmingPrefix("/")
        let now = ContinuousClock.now
        state.withLock { state in
            if state.arrivals.count < Self.logLimit {
                let kept = state.arrivals.count < Self.bodyLogLimit ? body : nil
                state.arrivals.append(Arrival(operation: String(operation), at: now, body: kept))
            }
            state.requests += 1
            state.inFlight += 1
            state.maximumInFlight = max(state.maximumInFlight, state.inFlight)
        }
    }

    func ended() {
        state.withLock { $0.inFlight -= 1 }
    }

    func throttled() {
        state.withLock { $0.throttled += 1 }
    }

    public var snapshot: Snapshot { state.withLock { $0 } }
}
