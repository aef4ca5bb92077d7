// swift-tools-version:6.0
// libFuzzer target over the message deframer and the protobuf-c decode path.
// Build and run: scripts/fuzz.sh (not part of the main build or CI).
import PackageDescription

let package = Package(
    name: "XieshangFuzz",
    dependencies: [.package(name: "xieshang", path: "..")],
    targets: [
        .executableTarget(
            name: "DecodeFuzzer",
            dependencies: [
                .product(name: "XieshangRPC", package: "xieshang"),
                .product(name: "XieshangAPI", package: "xieshang"),
            ]
        )
    ]
)
