// swift-tools-version: 6.2
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
]

let package = Package(
    name: "Chronicle",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "Chronicle", targets: ["Chronicle"]),
        .library(name: "ChronicleCore", targets: ["ChronicleCore"]),
        .library(name: "ChronicleSQLite", targets: ["ChronicleSQLite"]),
        .library(name: "ChroniclePostgres", targets: ["ChroniclePostgres"]),
        .library(name: "ChronicleTesting", targets: ["ChronicleTesting"]),
        .library(name: "ChronicleServer", targets: ["ChronicleServer"]),
        .library(name: "ChronicleProjections", targets: ["ChronicleProjections"]),
        .library(name: "ChronicleReactors", targets: ["ChronicleReactors"]),
        .library(name: "ChronicleClient", targets: ["ChronicleClient"]),
        .executable(name: "chronicle", targets: ["chronicle"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-crypto.git", .upToNextMinor(from: "3.12.0")),
        .package(url: "https://github.com/apple/swift-log.git", .upToNextMinor(from: "1.16.0")),
        .package(url: "https://github.com/apple/swift-argument-parser.git", .upToNextMinor(from: "1.8.0")),
        .package(url: "https://github.com/groue/GRDB.swift.git", .upToNextMinor(from: "7.10.0")),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", .upToNextMinor(from: "2.28.0")),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket.git", .upToNextMinor(from: "2.8.0")),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", .upToNextMinor(from: "2.4.0")),
        .package(url: "https://github.com/apple/swift-metrics.git", .upToNextMinor(from: "2.13.0")),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", .upToNextMinor(from: "2.13.0")),
        .package(url: "https://github.com/swift-server/async-http-client.git", .upToNextMinor(from: "1.37.0")),
        .package(url: "https://github.com/apple/swift-http-types.git", .upToNextMinor(from: "1.8.0")),
        .package(url: "https://github.com/apple/swift-nio.git", .upToNextMinor(from: "2.101.0")),
        .package(url: "https://github.com/jpsim/Yams.git", .upToNextMinor(from: "6.2.0")),
        .package(url: "https://github.com/vapor/postgres-nio.git", .upToNextMinor(from: "1.33.0")),
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
            name: "ChroniclePostgres",
            dependencies: [
                "ChronicleCore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "ChronicleTesting",
            dependencies: ["ChronicleCore"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "ChronicleProjections",
            dependencies: [
                "ChronicleCore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "ChronicleReactors",
            dependencies: [
                "ChronicleCore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "ChronicleServer",
            dependencies: [
                "ChronicleCore",
                "ChronicleProjections",
                "ChronicleReactors",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
            ],
            resources: [.copy("Resources/openapi.json"), .copy("Resources/console"), .copy("Resources/client.js")],
            swiftSettings: swiftSettings
        ),
        // The Swift client for apps and servers: no server, driver or SQLite dependency.
        .target(
            name: "ChronicleClient",
            dependencies: [
                "ChronicleCore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Chronicle",
            dependencies: [
                "ChronicleCore", "ChronicleProjections", "ChronicleReactors", "ChronicleSQLite", "ChroniclePostgres",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "chronicle",
            dependencies: [
                "ChronicleCore",
                "ChronicleSQLite",
                "ChroniclePostgres",
                "ChronicleServer",
                "ChronicleProjections",
                "ChronicleReactors",
                "ChronicleClient",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "ChronicleTestSupport",
            dependencies: [
                "ChronicleCore", "ChroniclePostgres", "ChronicleSQLite", "ChronicleTesting",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Tests/ChronicleTestSupport",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ChronicleCoreTests",
            dependencies: ["ChronicleCore", "ChronicleTesting", "ChronicleSQLite", .product(name: "Crypto", package: "swift-crypto"), .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ChronicleSQLiteTests",
            dependencies: ["ChronicleCore", "ChronicleSQLite", "ChronicleTesting", "ChronicleTestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ChroniclePostgresTests",
            dependencies: [
                "ChronicleCore", "ChroniclePostgres", "ChronicleTesting", "ChronicleTestSupport",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ChronicleServerTests",
            dependencies: [
                "ChronicleCore", "ChronicleSQLite", "ChroniclePostgres", "ChronicleServer", "ChronicleTesting", "ChronicleTestSupport", "ChronicleProjections", "ChronicleReactors",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // The process ProjectionCrashTests kills at a confirmed point of a projection page.
        .executableTarget(
            name: "ProjectionCrashChild",
            dependencies: [
                "ChronicleCore", "ChronicleProjections", "ChronicleSQLite", "ChroniclePostgres", "ChronicleTestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Tests/ProjectionCrashChild",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ChronicleProjectionsTests",
            dependencies: [
                "ChronicleCore", "ChronicleProjections", "ChronicleSQLite", "ChroniclePostgres", "ChronicleTesting", "ChronicleTestSupport",
                "ProjectionCrashChild",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ChronicleReactorsTests",
            dependencies: [
                "ChronicleCore", "ChronicleReactors", "ChronicleProjections", "ChronicleSQLite", "ChroniclePostgres", "ChronicleTesting", "ChronicleTestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // The README's Swift client example, as written; ChronicleClientTests runs it against a
        // real server and checks it is still the README's text.
        .executableTarget(
            name: "ClientReadmeSnippet",
            dependencies: ["ChronicleClient"],
            path: "Tests/ClientReadmeSnippet",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ChronicleClientTests",
            dependencies: [
                "ChronicleClient", "ChronicleCore", "ChronicleSQLite", "ChronicleServer", "ChronicleProjections", "ChronicleReactors", "ChronicleTesting", "ChronicleTestSupport",
                "ClientReadmeSnippet", "chronicle",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // The README's Swift snippet, as written (top-level code, so an executable); the
        // ChronicleTests target runs it and checks it is still the README's text.
        .executableTarget(
            name: "ReadmeSnippet",
            dependencies: ["Chronicle"],
            path: "Tests/ReadmeSnippet",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ChronicleTests",
            dependencies: ["Chronicle", "ReadmeSnippet", "ChronicleTestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ChronicleCLITests",
            dependencies: [
                "ChronicleCore", "ChronicleSQLite", "ChronicleProjections", "ChronicleServer", "ChronicleTesting", "ChronicleTestSupport", "chronicle",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
