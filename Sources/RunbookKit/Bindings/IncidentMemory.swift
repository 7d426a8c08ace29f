import DevRevAPI

/// The incidents a run read most recently, as DevRev answered them (shared, not copied), by id
/// and by display id: what an update's journal record gives as each field's `before`. Holds
/// the latest `capacity` incidents, so a walk of any size stays within a few megabytes; an
/// update of an incident read longer ago is journaled without a before.
struct IncidentMemory {
    let capacity: Int
    private var fields: [String: [String: JSONValue]] = [:]
    private var order: [String] = []
    private var start = 0

    init(capacity: Int = 500) {
        self.capacity = capacity
    }

    /// The fields of the incident (id or display id), if the run read it recently.
    func fields(of reference: String) -> [String: JSONValue]? {
        fields[reference]
    }

    /// Learns the incidents of a response: `incident`, or each of `incidents`.
    mutating func remember(_ response: JSONValue) {
        guard case .object(let object) = response else { return }
        if case .object(let incident)? = object["incident"] { remember(incident: incident) }
        if case .array(let list)? = object["incidents"] {
            for case .object(let incident) in list { remember(incident: incident) }
        }
    }

    private mutating func remember(incident: [String: JSONValue]) {
        guard let id = Planner.text(incident["id"]) else { return }
        let displayID = Planner.text(incident["display_id"])
        if fields[id] == nil {
            order.append(id)
            if order.count - start > capacity {
                if let oldest = fields[order[start]], let oldDisplay = Planner.text(oldest["display_id"]) { fields[oldDisplay] = nil }
                fields[order[start]] = nil
                start += 1
                if start > capacity { order.removeFirst(start); start = 0 }
            }
        }
        fields[id] = incident
        if let displayID { fields[displayID] = incident }
    }
}
