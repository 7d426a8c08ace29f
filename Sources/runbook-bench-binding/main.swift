import Foundation
import RunbookKit

// Runs a Lua script with `bench.encode_update(table)`: the path of `incident.update` from a Lua
// table to the JSON bytes of a validated request, without the network. For scripts/bench and
// profiling (valgrind --tool=callgrind).
//   runbook-bench-binding SCRIPT
guard CommandLine.arguments.count == 2 else {
    FileHandle.standardError.write(Data("usage: runbook-bench-binding SCRIPT\n".utf8))
    exit(64)
}
exit(await BindingBenchmark.run(script: CommandLine.arguments[1]))
