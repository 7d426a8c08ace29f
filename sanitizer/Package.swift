// swift-tools-version: 6.1
// The sanitizer pass of scripts/test: the LuaRuntime tests (the same files as the main package's,
// through a link) built with --sanitize=address. A package of its own, so that pass compiles only
// LuaRuntime and its tests, not the HTTP stack.
import PackageDescription

let package = Package(
    name: "runbook-sanitizer",
    dependencies: [
        .package(name: "runbook", path: ".."),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.0"),
    ],
    targets: [
        .testTarget(
            name: "LuaRuntimeTests",
            dependencies: [
                .product(name: "LuaRuntime", package: "runbook"),
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            path: "Tests/LuaRuntimeTests"
        )
    ],
    swiftLanguageModes: [.v6]
)
