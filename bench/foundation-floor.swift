// The floor of cold start for any Swift program that links Foundation on Linux: scripts/bench
// compiles this with `swiftc -O` and times it beside `runbook run bench/noop.lua`.
import Foundation

print(Date().timeIntervalSince1970 > 0 ? "" : "?", terminator: "")
