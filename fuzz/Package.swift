// swift-tools-version: 6.1
// The libFuzzer target of scripts/fuzz: BoundaryFuzzing.run (RunbookKit) fed by libFuzzer's driver,
// with the whole graph built for coverage and the address sanitizer, and libFuzzer linked, by
// scripts/fuzz. A package of its
// own, so its flags never reach the main build; its corpus (corpus/) is replayed by the main
// package's tests (FuzzCorpusTests) on every scripts/test.
import PackageDescription

let package = Package(
    name: "runbook-fuzz",
    dependencies: [
        .package(name: "runbook", path: ".."),
    ],
    targets: [
        .executableTarget(
            name: "runbook-fuzz",
            dependencies: [.product(name: "RunbookKit", package: "runbook")],
            path: "Sources"
        )
    ],
    swiftLanguageModes: [.v6]
)
