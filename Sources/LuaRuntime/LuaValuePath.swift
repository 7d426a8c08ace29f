/// Where a value sits inside the value being converted, e.g. `tags.set[2].tag_id`.
///
/// Built as components while walking and rendered only when an error needs it.
public struct LuaValuePath: Sendable, Hashable, CustomStringConvertible {
    public enum Component: Sendable, Hashable {
        case field(String)
        case index(Int)
    }

    public var root: String
    public var components: [Component]

    public init(root: String, components: [Component] = []) {
        self.root = root
        self.components = components
    }

    public func appending(_ component: Component) -> LuaValuePath {
        LuaValuePath(root: root, components: components + [component])
    }

    public var description: String {
        var text = root
        for component in components {
            switch component {
            case .field(let name):
                text += text.isEmpty ? name : ".\(name)"
            case .index(let index):
                text += "[\(index)]"
            }
        }
        return text.isEmpty ? "value" : text
    }
}

/// A Lua value that cannot be converted, with the path of the offending part.
public struct LuaConversionError: Error, Sendable, Hashable, CustomStringConvertible {
    public var path: LuaValuePath
    public var problem: String

    public init(path: LuaValuePath, problem: String) {
        self.path = path
        self.problem = problem
    }

    public var description: String { "\(path): \(problem)" }
}
