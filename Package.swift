// swift-tools-version: 6.2
//
// BIZRA Mesh: a signed ZeroMQ bus (bizra-core), the component SDK (BizraBus), pure protocol
// cores, a deterministic simulator, and the component executables under Plugins/.
// Layout and principles: ../shared/DESIGN.md. Dependencies are kept light on purpose: a clean
// debug build must stay well under a minute on the 2-core CI machine.
import PackageDescription

/// Settings for every target of ours: Swift 6 language mode (the tools version's default) and
/// warnings treated as errors.
let strict: [SwiftSetting] = [.treatAllWarnings(as: .error)]

let logging = Target.Dependency.product(name: "Logging", package: "swift-log")
let metrics = Target.Dependency.product(name: "Metrics", package: "swift-metrics")
let prometheus = Target.Dependency.product(name: "Prometheus", package: "swift-prometheus")
let lifecycle = Target.Dependency.product(name: "ServiceLifecycle", package: "swift-service-lifecycle")
let argumentParser = Target.Dependency.product(name: "ArgumentParser", package: "swift-argument-parser")
let flyingFox = Target.Dependency.product(name: "FlyingFox", package: "FlyingFox")
let yams = Target.Dependency.product(name: "Yams", package: "Yams")
let ordered = Target.Dependency.product(name: "OrderedCollections", package: "swift-collections")

let package = Package(
    name: "bizra-mesh",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "bizra", targets: ["bizra"]),
        .executable(name: "bizra-core", targets: ["bizra-core"]),
        .executable(name: "bizra-worker", targets: ["bizra-worker"]),
        .executable(name: "bizra-consensus", targets: ["bizra-consensus"]),
        .executable(name: "bizra-compression", targets: ["bizra-compression"]),
        .executable(name: "bizra-sim", targets: ["bizra-sim"]),
        .executable(name: "fuzz-frame", targets: ["fuzz-frame"]),
        .executable(name: "fuzz-config", targets: ["fuzz-config"]),
        .executable(name: "fuzz-link", targets: ["fuzz-link"]),
        .library(name: "BizraBus", targets: ["BizraBus"]),
        .library(name: "BizraSim", targets: ["BizraSim"]),
        .library(name: "BizraRaft", targets: ["BizraRaft"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/swhitty/FlyingFox", from: "0.27.1"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    ],
    targets: [
        // System libraries: each is imported by exactly one Bizra module.
        .systemLibrary(
            name: "CZeroMQ", pkgConfig: "libzmq", providers: [.apt(["libzmq3-dev"])]),
        .systemLibrary(
            name: "CSodium", pkgConfig: "libsodium", providers: [.apt(["libsodium-dev"])]),
        .systemLibrary(
            name: "CLZ4", pkgConfig: "liblz4", providers: [.apt(["liblz4-dev"])]),
        .systemLibrary(
            name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),

        // Pure computation shared by the bus and the protocol cores.
        .target(name: "BizraCrypto", dependencies: ["CSodium"], swiftSettings: strict),
        .target(name: "BizraCodec", dependencies: ["CLZ4"], swiftSettings: strict),
        .target(name: "BizraConfig", dependencies: [yams], swiftSettings: strict),

        // The bus SDK: envelope, signing, replay window, ACL, ZeroMQ, core and component host.
        .target(
            name: "BizraBus",
            dependencies: [
                "CZeroMQ", "BizraCrypto", "BizraCodec", "BizraConfig",
                logging, metrics, prometheus, lifecycle, flyingFox,
            ],
            swiftSettings: strict),

        // Pure protocol cores (no IO, no clocks, no randomness).
        .target(name: "BizraRaft", dependencies: ["BizraCrypto"], swiftSettings: strict),
        // The replicated key-value state machine of bizra-consensus (pure).
        .target(name: "BizraKV", dependencies: ["BizraRaft", "BizraCrypto"], swiftSettings: strict),
        // Durable Raft storage for the consensus shell: segmented WAL and snapshot files (disk IO).
        .target(name: "BizraWAL", dependencies: ["BizraRaft", "BizraCrypto"], swiftSettings: strict),
        .target(name: "BizraLink", dependencies: ["BizraCodec", "BizraCrypto", "CZstd"], swiftSettings: strict),

        // The deterministic simulator and history checkers (no IO, no clocks).
        .target(name: "BizraSim", dependencies: [ordered, "BizraRaft"], swiftSettings: strict),

        // Executables.
        .executableTarget(name: "bizra-core", dependencies: ["BizraBus", lifecycle, logging], swiftSettings: strict),
        .executableTarget(
            name: "bizra",
            dependencies: [
                "BizraBus", "BizraConfig", "BizraCrypto", "BizraKV", "BizraLink", "BizraRaft", "BizraWAL",
                argumentParser,
                logging,
            ],
            swiftSettings: strict),
        .executableTarget(name: "bizra-sim", dependencies: ["BizraSim"], swiftSettings: strict),
        .executableTarget(
            name: "bizra-worker", dependencies: ["BizraBus", lifecycle, logging], path: "Plugins/Worker",
            swiftSettings: strict),
        .executableTarget(
            name: "bizra-consensus",
            dependencies: ["BizraBus", "BizraCrypto", "BizraRaft", "BizraKV", "BizraWAL", logging],
            path: "Plugins/Consensus", swiftSettings: strict),
        .executableTarget(
            name: "bizra-compression", dependencies: ["BizraBus", "BizraLink", "BizraConfig", logging, metrics],
            path: "Plugins/Compression", swiftSettings: strict),

        // libFuzzer targets: build with `swift build -c release --sanitize=fuzzer -Xswiftc -DFUZZING`
        // (scripts/fuzz.sh). Without FUZZING they replay the files named on the command line.
        .executableTarget(name: "fuzz-frame", dependencies: ["BizraBus"], path: "Fuzz/Frame", swiftSettings: strict),
        .executableTarget(
            name: "fuzz-config", dependencies: ["BizraConfig"], path: "Fuzz/Config", swiftSettings: strict),
        .executableTarget(name: "fuzz-link", dependencies: ["BizraLink"], path: "Fuzz/Link", swiftSettings: strict),

        // Tests mirror modules; integration tests start real processes.
        .testTarget(name: "BizraCryptoTests", dependencies: ["BizraCrypto", "CSodium"], swiftSettings: strict),
        .testTarget(name: "BizraConfigTests", dependencies: ["BizraConfig"], swiftSettings: strict),
        .testTarget(name: "BizraBusTests", dependencies: ["BizraBus", "BizraCrypto"], swiftSettings: strict),
        .testTarget(
            name: "BizraLinkTests", dependencies: ["BizraLink", "BizraCrypto", "CSodium"], swiftSettings: strict),
        .testTarget(name: "BizraSimTests", dependencies: ["BizraSim"], swiftSettings: strict),
        .testTarget(name: "BizraKVTests", dependencies: ["BizraKV", "BizraRaft"], swiftSettings: strict),
        .testTarget(name: "BizraWALTests", dependencies: ["BizraWAL", "BizraRaft"], swiftSettings: strict),
        .testTarget(
            name: "BizraRaftTests", dependencies: ["BizraRaft", "BizraCrypto", "BizraSim"], exclude: ["Scenarios"],
            swiftSettings: strict),
        .testTarget(
            name: "BizraIntegrationTests",
            dependencies: ["BizraBus", "BizraConfig", "BizraCrypto", "BizraKV", "BizraSim", "BizraWAL"],
            swiftSettings: strict),
    ]
)
