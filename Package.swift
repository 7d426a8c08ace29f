// swift-tools-version: 6.1
import PackageDescription

// The release binary's code is laid out for its start: each function of the project's own
// modules in a section of its own (the Swift runtime's and Foundation's are already), and the
// functions its everyday commands run placed together first by lld (Sources/runbook/link-order.txt,
// written by scripts/link-order): a run maps a few MiB of code instead of pages scattered over
// 27 MiB. Relative relocations are packed (DT_RELR: 25 KiB to read instead of 2.9 MiB) and no
// symbol is exported to the dynamic linker (nothing loads against the binary). bench/NOTES.md,
// "Cold start", has the measurements.
let functionSections: [SwiftSetting] = [.unsafeFlags(["-Xfrontend", "-function-sections"], .when(configuration: .release))]
let linkOrder = String(#filePath.dropLast("Package.swift".count)) + "Sources/runbook/link-order.txt"

let package = Package(
    name: "runbook",
    // Linux is what runbook is built and tested on; on macOS the code needs 15 (Synchronization.Mutex).
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "runbook", targets: ["runbook"]),
        .library(name: "LuaRuntime", targets: ["LuaRuntime"]),
        .library(name: "RunbookKit", targets: ["RunbookKit"]),
        .library(name: "DevRevAPI", targets: ["DevRevAPI"]),
        .library(name: "DevRevSandbox", targets: ["DevRevSandbox"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
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
            dependencies: ["CLua", "CLuaBridge"],
            swiftSettings: functionSections
        ),
        .target(
            name: "DevRevAPI",
            dependencies: [
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: functionSections
        ),
        .target(
            name: "DevRevSandbox",
            dependencies: [
                "DevRevAPI",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: functionSections
        ),
        .target(
            name: "RunbookKit",
            dependencies: [
                "LuaRuntime", "DevRevAPI", "DevRevSandbox",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: functionSections
        ),
        .executableTarget(
            name: "runbook",
            dependencies: [
                "RunbookKit", "DevRevSandbox",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            exclude: ["link-order.txt"],
            swiftSettings: functionSections,
            linkerSettings: [
                .unsafeFlags(
                    [
                        "-use-ld=lld", "-Xlinker", "-z", "-Xlinker", "pack-relative-relocs", "-Xlinker", "--no-export-dynamic",
                        "-Xlinker", "--symbol-ordering-file=\(linkOrder)", "-Xlinker", "--no-warn-symbol-ordering",
                    ],
                    .when(platforms: [.linux], configuration: .release)),
            ]
        ),
        .executableTarget(
            name: "runbook-bench-binding",
            dependencies: ["RunbookKit"]
        ),
        .testTarget(
            name: "LuaRuntimeTests",
            dependencies: [
                "LuaRuntime",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ]
        ),
        // A scripted HTTP server on loopback, for the client's tests and the binary's.
        .target(
            name: "HTTPTestSupport",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            path: "Tests/HTTPTestSupport"
        ),
        .testTarget(
            name: "DevRevAPITests",
            dependencies: [
                "DevRevAPI",
                "HTTPTestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "RunbookKitTests",
            dependencies: [
                "RunbookKit", "LuaRuntime", "DevRevAPI", "DevRevSandbox", .product(name: "PropertyBased", package: "swift-property-based"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "DevRevSandboxTests",
            dependencies: ["DevRevSandbox", "DevRevAPI", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        .testTarget(
            name: "EndToEndTests",
            dependencies: ["runbook", "DevRevAPI", "DevRevSandbox", "HTTPTestSupport", .product(name: "Yams", package: "Yams")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
