import Synchronization

/// What the sandbox has served, for tests and benchmarks: each request's operation and arrival
/// time, how many were in flight at once (received, not yet answered, latency included), and how
/// many the rate limit turned away.
public final class SandboxStatistics: Sendable {
    public struct Arrival: Sendable {
        /// e.g. `incidents.list`
        public var operation: String
        public var at: ContinuousClock.Instant
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

    private let state = Mutex(Snapshot(arrivals: [], requests: 0, inFlight: 0, maximumInFlight: 0, throttled: 0))

    func began(_ path: String) {
        let operation = String(path.split(separator: "?", maxSplits: 1).first ?? "").trimmingPrefix("/")
        let now = ContinuousClock.now
        state.withLock { state in
            if state.arrivals.count < Self.logLimit { state.arrivals.append(Arrival(operation: String(operation), at: now)) }
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
