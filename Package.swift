// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "xieshang",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "xieshang", targets: ["xieshang"]),
        .library(name: "XieshangRPC", targets: ["XieshangRPC"]),
        .library(name: "XieshangAPI", targets: ["XieshangAPI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
    ],
    targets: [
        .systemLibrary(name: "CNGHTTP2", pkgConfig: "libnghttp2", providers: [.apt(["libnghttp2-dev"])]),
        .systemLibrary(name: "CProtobufC", pkgConfig: "libprotobuf-c", providers: [.apt(["libprotobuf-c-dev"])]),
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        .systemLibrary(name: "CSodium", pkgConfig: "libsodium", providers: [.apt(["libsodium-dev"])]),
        .target(
            name: "XieshangProtoC",
            dependencies: ["CProtobufC"],
            publicHeadersPath: "Generated",
            cSettings: [.headerSearchPath("Generated")]
        ),
        .target(
            name: "XieshangRPC",
            dependencies: [
                "CNGHTTP2", "CProtobufC",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        .target(
            name: "XieshangAPI",
            dependencies: [
                "XieshangRPC", "XieshangProtoC", "CProtobufC",
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        .target(
            name: "XieshangStore",
            dependencies: [
                "CSQLite", "CLibPQ",
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        .target(
            name: "XieshangKit",
            dependencies: ["XieshangAPI", "XieshangRPC", "XieshangStore", "CSodium", .product(name: "NIOConcurrencyHelpers", package: "swift-nio")]
        ),
        .target(
            name: "XieshangDirectory",
            dependencies: [
                "XieshangAPI", "XieshangRPC", "XieshangStore", "XieshangKit", "CSodium",
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .target(
            name: "XieshangIntake",
            dependencies: [
                "XieshangAPI", "XieshangRPC", "XieshangStore", "XieshangKit",
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        .target(name: "XieshangProposal", dependencies: ["XieshangAPI", "XieshangRPC", "XieshangStore", "XieshangKit"]),
        .target(name: "XieshangConsultation", dependencies: ["XieshangAPI", "XieshangRPC", "XieshangStore", "XieshangKit"]),
        .target(
            name: "XieshangAnalytics",
            dependencies: [
                "XieshangAPI", "XieshangRPC", "XieshangStore", "XieshangKit",
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        .target(
            name: "XieshangNotify",
            dependencies: [
                "XieshangAPI", "XieshangRPC", "XieshangStore", "XieshangKit", "CSodium",
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        .target(
            name: "XieshangGateway",
            dependencies: [
                "XieshangAPI", "XieshangRPC", "XieshangStore", "XieshangKit",
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .target(name: "XieshangInterop", dependencies: ["XieshangAPI", "XieshangRPC"]),
        .executableTarget(
            name: "xieshang",
            dependencies: [
                "XieshangAPI", "XieshangRPC", "XieshangInterop", "XieshangStore", "XieshangKit", "XieshangDirectory", "XieshangIntake", "XieshangProposal", "XieshangConsultation", "XieshangAnalytics", "XieshangNotify", "XieshangGateway",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .executableTarget(
            name: "xieshang-bench",
            dependencies: [
                "XieshangAPI", "XieshangRPC", "XieshangKit", "XieshangStore", "XieshangIntake", "XieshangConsultation", "XieshangAnalytics",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        .testTarget(name: "XieshangRPCTests", dependencies: ["XieshangRPC", "XieshangAPI", "XieshangInterop", "XieshangTestSupport"]),
        .testTarget(name: "XieshangAPITests", dependencies: ["XieshangAPI", "XieshangRPC", "XieshangKit"]),
        .target(
            name: "XieshangTestSupport",
            dependencies: ["XieshangStore", "XieshangRPC", "XieshangAPI", "XieshangKit", "XieshangDirectory"],
            path: "Tests/XieshangTestSupport"
        ),
        .testTarget(name: "XieshangStoreTests", dependencies: ["XieshangStore", "XieshangTestSupport"]),
        .testTarget(
            name: "XieshangIntakeTests",
            dependencies: ["XieshangIntake", "XieshangDirectory", "XieshangKit", "XieshangStore", "XieshangAPI", "XieshangRPC", "XieshangTestSupport"]
        ),
        .testTarget(
            name: "XieshangProposalTests",
            dependencies: ["XieshangProposal", "XieshangDirectory", "XieshangKit", "XieshangStore", "XieshangAPI", "XieshangRPC", "XieshangTestSupport"]
        ),
        .testTarget(
            name: "XieshangConsultationTests",
            dependencies: ["XieshangConsultation", "XieshangDirectory", "XieshangKit", "XieshangStore", "XieshangAPI", "XieshangRPC", "XieshangTestSupport"]
        ),
        .testTarget(
            name: "XieshangAnalyticsTests",
            dependencies: ["XieshangAnalytics", "XieshangKit", "XieshangStore", "XieshangAPI", "XieshangRPC", "XieshangTestSupport"]
        ),
        .testTarget(
            name: "XieshangNotifyTests",
            dependencies: ["XieshangNotify", "XieshangKit", "XieshangStore", "XieshangAPI", "XieshangRPC", "XieshangTestSupport"]
        ),
        .testTarget(
            name: "XieshangGatewayTests",
            dependencies: ["XieshangGateway", "XieshangKit", "XieshangAPI", "XieshangRPC"]
        ),
        .testTarget(
            name: "XieshangDirectoryTests",
            dependencies: ["XieshangDirectory", "XieshangKit", "XieshangStore", "XieshangAPI", "XieshangRPC", "XieshangTestSupport"]
        ),
    ],
    swiftLanguageModes: [.v5]
)
