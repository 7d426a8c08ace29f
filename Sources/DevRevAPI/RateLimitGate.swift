/// What the client knows of DevRev's rate limit, shared by every call of one client (so by every
/// worker of a batch).
///
/// - A 429 pauses every call until its Retry-After has passed.
/// - When `X-Ratelimit-Remaining` reaches 0, calls wait for `X-Ratelimit-Reset` instead of
///   spending a request on a 429.
/// - When it runs low (at most `lowWatermark(limit:)`), calls are spread evenly over what is left
///   of the window: one every `(reset - now) / remaining`, instead of bursting into 429s.
/// - A response's `remaining` does not count the calls still in flight beside it (a batch has
///   several): those are taken off it, so concurrent workers never spend the last requests of a
///   window twice.
actor RateLimitGate {
    private var pausedUntil: ContinuousClock.Instant?
    /// While the quota is low: the spacing between calls, until the window resets.
    private var spacing: (interval: Duration, until: ContinuousClock.Instant)?
    private var nextSlot: ContinuousClock.Instant?
    private let clock = ContinuousClock()
    /// Calls that have had their turn and not yet finished.
    private var inFlight = 0

    /// How long the calls of this client have waited on the limit, in total.
    private(set) var waited: Duration = .zero

    /// "Low": at most a tenth of the quota, and at least 10 requests.
    static func lowWatermark(limit: Int?) -> Int {
        max(10, (limit ?? 0) / 10)
    }

    /// Waits until a call may go out, but not past `deadline`. Returns false when the wait would
    /// pass the deadline.
    func waitForTurn(deadline: ContinuousClock.Instant, willWait: @Sendable (Duration) -> Void = { _ in }) async -> Bool {
        let now = clock.now
        var until = pausedUntil.flatMap { $0 > now ? $0 : nil }
        if let spacing, now < spacing.until {
            let slot = max(now, nextSlot ?? now, until ?? now)
            guard slot <= deadline else { return false }
            nextSlot = slot + spacing.interval
            until = slot
        }
        guard let until, until > now else {
            inFlight += 1
            return true
        }
        guard until <= deadline else { return false }
        willWait(until - now)
        try? await clock.sleep(until: until)
        waited += clock.now - now
        inFlight += 1
        return true
    }

    /// Pauses every call for `duration` from now (never shortens a longer pause).
    func pause(for duration: Duration) {
        let until = clock.now + duration
        if let current = pausedUntil, current >= until { return }
        pausedUntil = until
    }

    /// A call that had its turn has finished: reads the `X-Ratelimit-*` headers of its response
    /// (all nil when it got none).
    func finished(limit: Int?, remaining: Int?, resetEpochSeconds: Int64?, nowEpochSeconds: Int64) {
        let others = max(0, inFlight - 1)
        inFlight = max(0, inFlight - 1)
        guard let remaining, let reset = resetEpochSeconds else { return }
        let seconds = max(0, reset - nowEpochSeconds)
        let available = remaining - others
        if available <= 0 {
            pause(for: .seconds(seconds))
        } else if remaining <= Self.lowWatermark(limit: limit), seconds > 0 {
            spacing = (.seconds(seconds) / available, clock.now + .seconds(seconds))
        } else {
            spacing = nil
            nextSlot = nil
        }
    }
}
