/// What the client knows of DevRev's rate limit, shared by every call of one client.
///
/// A 429 pauses every call until its Retry-After has passed; when `X-Ratelimit-Remaining` reaches
/// 0, calls wait for `X-Ratelimit-Reset` instead of spending a request on a 429.
actor RateLimitGate {
    private var pausedUntil: ContinuousClock.Instant?
    private let clock = ContinuousClock()

    /// How long the calls of this client have waited on the limit, in total.
    private(set) var waited: Duration = .zero

    /// Waits until a call may go out, but not past `deadline`. Returns false when the wait would
    /// pass the deadline.
    func waitForTurn(deadline: ContinuousClock.Instant) async -> Bool {
        guard let until = pausedUntil, until > clock.now else { return true }
        guard until <= deadline else { return false }
        let start = clock.now
        try? await clock.sleep(until: until)
        waited += clock.now - start
        return true
    }

    /// The earliest instant a call may go out, if calls are paused.
    var resumesAt: ContinuousClock.Instant? {
        guard let until = pausedUntil, until > clock.now else { return nil }
        return until
    }

    /// Pauses every call for `duration` from now (never shortens a longer pause).
    func pause(for duration: Duration) {
        let until = clock.now + duration
        if let current = pausedUntil, current >= until { return }
        pausedUntil = until
    }

    /// Reads the `X-Ratelimit-*` headers of a response.
    func observe(remaining: Int?, resetEpochSeconds: Int64?, nowEpochSeconds: Int64) {
        guard let remaining, remaining <= 0, let reset = resetEpochSeconds else { return }
        let seconds = max(0, reset - nowEpochSeconds)
        pause(for: .seconds(seconds))
    }
}
