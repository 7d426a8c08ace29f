/// Buffers kept per nesting depth by a recursive reader or writer, so that each level reuses its
/// capacity from one object to the next. A level is taken out while it is in use and given back
/// after, so that the levels below it can be in use at the same time.
struct DepthBuffers<Element> {
    private var levels: [[Element]] = []

    /// The buffer of `depth`, empty, for the caller to use and give back.
    mutating func take(_ depth: Int) -> [Element] {
        while levels.count <= depth { levels.append([]) }
        var buffer: [Element] = []
        swap(&buffer, &levels[depth])
        return buffer
    }

    /// Gives back the buffer of `depth`, emptied, keeping its capacity.
    mutating func giveBack(_ buffer: inout [Element], _ depth: Int) {
        buffer.removeAll(keepingCapacity: true)
        swap(&buffer, &levels[depth])
    }
}
