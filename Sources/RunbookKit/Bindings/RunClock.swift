import DevRevAPI
import Foundation

/// The run's idea of now, frozen by `--now`.
struct RunClock: Sendable {
    /// Unix seconds `runbook.now()` returns; nil follows the system clock.
    let frozen: Int64?

    func now() -> Int64 { frozen ?? Int64(Date().timeIntervalSince1970.rounded(.down)) }
}
