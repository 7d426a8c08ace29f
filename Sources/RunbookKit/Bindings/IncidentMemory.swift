import DevRevAPI

/// The incidents a run read most recently, as DevRev answered them, by id and by display id:
/// what an update's journal record gives as each field's `before`. Holds the latest `capacity`
/// incidents, so a walk of any size stays within a few megabytes; an update of an incident read
/// longer ago is journaled without a before.
///
/// An incident is held as the value it was parsed into (shared, not copied), or, for a page read
/// straight into Lua (`PageDecoder`), as its place in the page's bytes (the pages shared, not
/// copied), parsed only if an update asks for it.
struct IncidentMemory {
    /// An incident's place in a page's bytes, and its ids.
    struct Located {
        var id: String
        var displayID: String
        var range: Range<Int>
    }

    private enum Held {
        case parsed([String: JSONValue])
        case bytes(page: [UInt8], range: Range<Int>)
    }

    let capacity: Int
    private var held: [String: Held] = [:]
    /// Ids in the order they were first learnt, with their display ids.
    private var order: [(id: String, displayID: String?)] = []
    private var start = 0

    init(capacity: Int = 500) {
        self.capacity = capacity
    }

    /// The fields of the incident (id or display id), if the run read it recently.
    func fields(of reference: String) -> [String: JSONValue]? {
        switch held[reference] {
        case .parsed(let fields): return fields
        case .bytes(let page, let range):
            guard case .object(let fields)? = try? LuaJSON.decode(Array(page[range])) else { return nil }
            return fields
        case nil: return nil
        }
    }

    /// Learns the incidents of a response: `incident`, or each of `incidents`.
    mutating func remember(_ response: JSONValue) {
        guard case .object(let object) = response else { return }
        if case .object(let incident)? = object["incident"] { remember(incident: incident) }
        if case .array(let list)? = object["incidents"] {
            for case .object(let incident) in list { remember(incident: incident) }
        }
    }

    /// Learns the incidents of a page read straight into Lua, by their places in `page`.
    mutating func remember(_ incidents: [Located], in page: [UInt8]) {
        for incident in incidents {
            learn(incident.id, displayID: incident.displayID, as: .bytes(page: page, range: incident.range))
        }
    }

    private mutating func remember(incident: [String: JSONValue]) {
        guard let id = Planner.text(incident["id"]) else { return }
        learn(id, displayID: Planner.text(incident["display_id"]), as: .parsed(incident))
    }

    private mutating func learn(_ id: String, displayID: String?, as incident: Held) {
        if held[id] == nil {
            order.append((id, displayID))
            if order.count - start > capacity {
                let oldest = order[start]
                if let oldDisplay = oldest.displayID { held[oldDisplay] = nil }
                held[oldest.id] = nil
                start += 1
                if start > capacity {
                    order.removeFirst(start)
                    start = 0
                }
            }
        }
        held[id] = incident
        if let displayID { held[displayID] = incident }
    }
}
