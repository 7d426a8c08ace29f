import LuaRuntime

/// `; did you mean 'title'?` after a message about a misspelt name, or nothing when no
/// candidate is close enough.
func didYouMean(_ name: String, among candidates: [String]) -> String {
    EditDistance.nearest(name, among: candidates).map { "; did you mean '\($0)'?" } ?? ""
}
