// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "runbook",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "runbook", targets: ["runbook"]),
        .library(name: "LuaRuntime", targets: ["LuaRuntime"]),
        .library(name: "RunbookKit", targets: ["RunbookKit"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CLua",
            pkgConfig: "lua5.4",
            providers: [.apt(["liblua5.4-dev"])]
        ),
        .target(
            name: "CLuaBridge",
            dependencies: ["CLua"]
        ),
        .target(
            name: "LuaRuntime",
            dependencies: ["CLua", "CLuaBridge"]
        ),
        .target(
            name: "RunbookKit",
            dependencies: ["LuaRuntime"]
        ),
        .executableTarget(
            name: "runbook",
            dependencies: [
                "RunbookKit",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(
            name: "LuaRuntimeTests",
            dependencies: [
                "LuaRuntime",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ]
        ),
        .testTarget(
            name: "RunbookKitTests",
            dependencies: ["RunbookKit"]
        ),
        .testTarget(
            name: "EndToEndTests",
            dependencies: ["runbook"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
