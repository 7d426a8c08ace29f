import Foundation

/// The test files under the paths `runbook test` names: `*_test.lua` in each directory,
/// recursively (hidden directories and `.build` left out), and any file named directly.
enum TestDiscovery {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static let suffix = "_test.lua"

    /// `path` in `directory` as an operator would write it: absolute paths as they are, and no `./`.
    static func join(_ directory: String, _ path: String) -> String {
        if path.hasPrefix("/") || directory == "." || directory.isEmpty { return path }
        return directory.hasSuffix("/") ? directory + path : directory + "/" + path
    }

    static func files(in paths: [String]) throws(Failure) -> [String] {
        var found: [String] = []
        for path in paths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw Failure(description: "\(path) does not exist")
            }
            guard isDirectory.boolValue else {
                found.append(path)
                continue
            }
            found += walk(path)
        }
        var seen: Set<String> = []
        let unique = found.filter { seen.insert($0).inserted }
        guard !unique.isEmpty else {
            throw Failure(description: "no test files (*\(suffix)) in \(paths.joined(separator: ", "))")
        }
        return unique
    }

    private static func walk(_ directory: String) -> [String] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return [] }
        var files: [String] = []
        var directories: [String] = []
        for name in names.sorted() where !name.hasPrefix(".") {
            let path = join(directory, name)
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { continue }
            if isDirectory.boolValue {
                if name != "node_modules" { directories.append(path) }
            } else if name.hasSuffix(suffix) {
                files.append(path)
            }
        }
        return files + directories.flatMap(walk)
    }
}
