import DevRevAPI
import LuaRuntime

/// The walks of the `incident.list` and `incident.comments` iterators in progress: each a
/// `CursorWalk` kept here and known to the Lua iterator by a number. A finished walk is dropped;
/// of walks a script abandoned, the oldest are dropped past `limit`.
final class PageWalks {
    static let limit = 1024
    private var walks: [Int64: CursorWalk] = [:]
    private var nextID: Int64 = 1

    /// `start_walk(function)`: a new walk, by number.
    var startFunction: LuaFunction {
        LuaFunction(name: "start_walk") { [self] call in
            let operation = try call.value(at: 1).stringValue ?? "incident.list"
            let id = nextID
            nextID += 1
            walks[id] = CursorWalk(operation: operation)
            if walks.count > Self.limit, let oldest = walks.keys.min() { walks[oldest] = nil }
            return [.integer(id)]
        }
    }

    /// The walk numbered by argument `position`.
    func walk(_ call: LuaCall, at position: Int, in function: String) throws -> (id: Int64, walk: CursorWalk) {
        guard case .integer(let id) = try call.value(at: position), let walk = walks[id] else {
            throw ScriptFailure(type: "invalid_request", message: "\(function): this iterator was abandoned too long ago; start the walk again")
        }
        return (id, walk)
    }

    /// Records the page just read; whether more pages follow.
    func advance(_ id: Int64, _ walk: CursorWalk, to next: JSONValue?) throws(ScriptFailure) -> Bool {
        var walk = walk
        defer { walks[id] = walk.finished ? nil : walk }
        do throws(DevRevError) {
            try walk.advance(to: Planner.text(next))
        } catch {
            throw ScriptFailure(error)
        }
        return !walk.finished
    }
}
