/// Did-you-mean suggestions: the Levenshtein distance between two names, and the closest of a list.
public enum EditDistance {
    /// The candidate closest to a misspelt name, if it is close enough to be a likely typo
    /// (at most two edits, or a third of the name's length for long names); ties go to the
    /// alphabetically first.
    public static func nearest(_ name: String, among candidates: [String]) -> String? {
        var best: (name: String, score: Int)?
        for candidate in candidates.sorted() {
            let score = distance(name, candidate)
            if let current = best, current.score <= score { continue }
            best = (candidate, score)
        }
        guard let best, best.score <= max(2, name.count / 3) else { return nil }
        return best.name
    }

    /// Insertions, deletions and substitutions of characters that turn `a` into `b`.
    public static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...b.count {
                let substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)
                current[j] = Swift.min(substitution, current[j - 1] + 1, previous[j] + 1)
            }
            previous = current
        }
        return previous[b.count]
    }
}
