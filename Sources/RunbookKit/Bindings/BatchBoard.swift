import Synchronization

/// The shared state of a running batch: which item starts next, and how each ended. Workers take
/// items in input order; none is taken once the batch must stop (an item failed under
/// `stop_on_error`, the journal failed, or the run got SIGINT or SIGTERM).
final class BatchBoard: Sendable {
    private struct State {
        var nextIndex = 0
        var stopped = false
        var outcomes: [JournaledExchange.Outcome?]
    }

    private let state: Mutex<State>
    private let stopOnError: Bool

    init(count: Int, stopOnError: Bool) {
        state = Mutex(State(outcomes: Array(repeating: nil, count: count)))
        self.stopOnError = stopOnError
    }

    /// The next item to start, or nil when there is none or the batch stopped.
    func next() -> Int? {
        let signalled = SignalWatcher.received != nil
        return state.withLock { state in
            guard !state.stopped, !signalled, state.nextIndex < state.outcomes.count else { return nil }
            defer { state.nextIndex += 1 }
            return state.nextIndex
        }
    }

    func finish(_ index: Int, _ outcome: JournaledExchange.Outcome) {
        let failed: Bool
        if case .failure = outcome.result { failed = true } else { failed = false }
        state.withLock { state in
            state.outcomes[index] = outcome
            if outcome.journalFailed || (failed && stopOnError) { state.stopped = true }
        }
    }

    var outcomes: [JournaledExchange.Outcome?] { state.withLock { $0.outcomes } }

    /// How many items have ended, and how many of those failed.
    var progress: (done: Int, errors: Int) {
        state.withLock { state in
            var done = 0
            var errors = 0
            for case let outcome? in state.outcomes {
                done += 1
                if case .failure = outcome.result { errors += 1 }
            }
            return (done, errors)
        }
    }
}
