import Foundation
import Synchronization

/// The rate-limit window and the seeded fault generator, shared by every connection.
final class TrafficControl: Sendable {
    struct Window {
        var start: Date
        var used: Int
    }

    struct Decision {
        var limit: Int
        var remaining: Int
        var reset: Int64
        /// Seconds to wait when the quota is spent.
        var retryAfter: Int64?
    }

    /// The quota and the faults, replaced together by `reconfigure` (a test changes them between runs).
    private let settings: Mutex<(rateLimit: SandboxConfiguration.RateLimit, faults: SandboxConfiguration.Faults)>
    private var rateLimit: SandboxConfiguration.RateLimit { settings.withLock { $0.rateLimit } }
    private var faults: SandboxConfiguration.Faults { settings.withLock { $0.faults } }
    private let window: Mutex<Window>
    /// The generator, and how many faults it has injected.
    private let random: Mutex<(generator: SplitMix64, injected: Int)>
    private let requestCounter = Atomic<Int>(0)
    /// How many requests each scheduled rule has counted.
    private let ruleCounts: Mutex<[Int]>
    private let clock: @Sendable () -> Date

    init(rateLimit: SandboxConfiguration.RateLimit, faults: SandboxConfiguration.Faults, clock: @escaping @Sendable () -> Date = { Date() }) {
        settings = Mutex((rateLimit, faults))
        self.clock = clock
        window = Mutex(Window(start: clock(), used: 0))
        random = Mutex((SplitMix64(seed: faults.seed), 0))
        ruleCounts = Mutex(Array(repeating: 0, count: faults.rules.count))
    }

    var latency: Duration { faults.latency }

    /// New quota and faults from now on: a fresh window, a fresh generator, rules counted from zero.
    func reconfigure(rateLimit: SandboxConfiguration.RateLimit, faults: SandboxConfiguration.Faults) {
        settings.withLock { $0 = (rateLimit, faults) }
        window.withLock { $0 = Window(start: clock(), used: 0) }
        random.withLock { $0 = (SplitMix64(seed: faults.seed), 0) }
        ruleCounts.withLock { $0 = Array(repeating: 0, count: faults.rules.count) }
    }

    func nextRequestID() -> String {
        "req-\(requestCounter.wrappingAdd(1, ordering: .relaxed).newValue)"
    }

    /// Counts a request against the quota.
    func admit(now: Date? = nil) -> Decision {
        let now = now ?? clock()
        let rateLimit = self.rateLimit
        return window.withLock { window in
            let length = Double(rateLimit.window.components.seconds)
            if now.timeIntervalSince(window.start) >= length {
                window = Window(start: now, used: 0)
            }
            let reset = Int64((window.start.timeIntervalSince1970 + length).rounded(.up))
            if window.used >= rateLimit.quota {
                let wait = max(1, Int64((window.start.timeIntervalSince1970 + length - now.timeIntervalSince1970).rounded(.up)))
                return Decision(limit: rateLimit.quota, remaining: 0, reset: reset, retryAfter: wait)
            }
            window.used += 1
            return Decision(limit: rateLimit.quota, remaining: rateLimit.quota - window.used, reset: reset, retryAfter: nil)
        }
    }

    /// The fault for this request to `operation`, if any, and the Retry-After of a 429: a
    /// scheduled rule's first, else the random generator's.
    func fault(operation: String) -> (kind: SandboxConfiguration.Faults.Kind, retryAfter: Int64)? {
        let faults = self.faults
        if !faults.rules.isEmpty {
            let fired = ruleCounts.withLock { counts -> SandboxConfiguration.Faults.Rule? in
                var fired: SandboxConfiguration.Faults.Rule?
                for (index, rule) in faults.rules.enumerated() where rule.operation.map({ $0 == operation }) ?? true {
                    counts[index] += 1
                    if fired == nil, rule.fires(onRequest: counts[index]) { fired = rule }
                }
                return fired
            }
            if let fired { return (fired.kind, fired.retryAfter) }
        }
        return randomFault(operation: operation, faults: faults).map { ($0, 1) }
    }

    private func randomFault(operation: String, faults: SandboxConfiguration.Faults) -> SandboxConfiguration.Faults.Kind? {
        guard faults.rate > 0, faults.operations?.contains(operation) ?? true else { return nil }
        return random.withLock { state in
            let roll = state.generator.nextUnit()
            let pick = state.generator.next()
            guard roll < faults.rate, state.injected < faults.limit ?? .max else { return nil }
            state.injected += 1
            return faults.kinds[Int(pick % UInt64(faults.kinds.count))]
        }
    }

    func referenceID() -> String {
        random.withLock { String(format: "ref-%016llx", $0.generator.next()) }
    }
}

/// A small, seedable generator (SplitMix64), so fault sequences are reproducible (and the tests'
/// fuzzing and kill points can be replayed from a printed seed).
public struct SplitMix64: RandomNumberGenerator, Sendable {
    var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func nextUnit() -> Double {
        Double(next() >> 11) / Double(1 << 53)
    }
}
