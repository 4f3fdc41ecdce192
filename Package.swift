// swift-tools-version: 6.2
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
]

let package = Package(
    name: "Chronicle",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "ChronicleCore", targets: ["ChronicleCore"]),
        .library(name: "ChronicleSQLite", targets: ["ChronicleSQLite"]),
        .library(name: "ChronicleTesting", targets: ["ChronicleTesting"]),
        .executable(name: "chronicle", targets: ["chronicle"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-crypto.git", .upToNextMinor(from: "3.12.0")),
        .package(url: "https://github.com/apple/swift-log.git", .upToNextMinor(from: "1.16.0")),
        .package(url: "https://github.com/apple/swift-argument-parser.git", .upToNextMinor(from: "1.8.0")),
        .package(url: "https://github.com/groue/GRDB.swift.git", .upToNextMinor(from: "7.10.0")),
    ],
    targets: [
        .target(
            name: "ChronicleCore",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "ChronicleSQLite",
            dependencies: [
                "ChronicleCore",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "ChronicleTesting",
            dependencies: ["ChronicleCore"],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "chronicle",
            dependencies: [
                "ChronicleCore",
                "ChronicleSQLite",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ChronicleCoreTests",
            dependencies: ["ChronicleCore", "ChronicleTesting", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ChronicleSQLiteTests",
            dependencies: ["ChronicleCore", "ChronicleSQLite", "ChronicleTesting"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ChronicleCLITests",
            dependencies: ["ChronicleCore", "ChronicleSQLite", "chronicle"],
            swiftSettings: swiftSettings
        ),
    ]
)
