// swift-tools-version: 6.2
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "kaodian",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "venue", targets: ["venue"]),
        .executable(name: "kaodian-load", targets: ["kaodian-load"]),
        .executable(name: "central", targets: ["central"]),
        .executable(name: "kaodian-camera-bench", targets: ["kaodian-camera-bench"]),
        .executable(name: "kaodian-assembly-bench", targets: ["kaodian-assembly-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1", traits: ["FullFoundation"]),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket.git", from: "2.8.1"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/weichsel/ZIPFoundation.git", from: "0.9.20"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        .package(url: "https://github.com/drmohundro/SWXMLHash.git", from: "8.1.1"),
        .package(url: "https://github.com/adam-fowler/compress-nio.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
    ],
    targets: [
        // Domain: questions, papers, sittings, attempts, grading, layout. Foundation only.
        .target(name: "ExamCore", swiftSettings: strict),
        // The signed venue package: format, reading and checking, writing.
        .target(
            name: "VenuePackage",
            dependencies: [
                "ExamCore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
            ],
            swiftSettings: strict
        ),
        // Question banks: knowledge-point trees, bank questions, skill tasks, paper assembly, duplicate detection, statistics.
        .target(name: "QuestionBank", dependencies: ["ExamCore"], swiftSettings: strict),
        // Bank files in and out: the .xlsx template, Moodle XML, QTI 2.1/3.0; every bad row reported with its number.
        .target(
            name: "BankInterchange",
            dependencies: [
                "ExamCore", "QuestionBank",
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
                .product(name: "SWXMLHash", package: "SWXMLHash"),
            ],
            swiftSettings: strict
        ),
        // Slows down password guessing at sign-in (venue staff and candidates, central office accounts).
        .target(name: "SignInGuard", swiftSettings: strict),
        // The demo exam: venue, rooms, candidates with portraits, a paper with every question type.
        .target(name: "DemoContent", dependencies: ["ExamCore", "VenuePackage"], swiftSettings: strict),
        // OpenCV from Debian's libopencv-dev, only so that the C++ face engine gets its headers and libraries.
        .systemLibrary(name: "COpenCV", pkgConfig: "opencv4", providers: [.apt(["libopencv-dev"])]),
        // Face detection, alignment and embedding in C++ behind a plain C header.
        .target(name: "CFaceEngine", dependencies: ["COpenCV"]),
        // The Swift face engine: a pool of OpenCV engines, enrolment templates, verification, quality flags.
        .target(name: "FaceEngine", dependencies: ["CFaceEngine"], swiftSettings: strict),
        // libavformat, libavcodec and libavutil from Debian's FFmpeg 5.1 -dev packages, with wrappers for the macros Swift cannot import.
        .systemLibrary(
            name: "CLibAV", path: "Sources/CLibAV", pkgConfig: "libavformat",
            providers: [.apt(["libavformat-dev", "libavcodec-dev", "libavutil-dev"])]),
        // IP cameras over RTSP: URL checks, the probe (codec, size, frame rate, bitrate), error codes with zh/en messages.
        .target(
            name: "CameraKit",
            dependencies: [
                "CLibAV", .product(name: "Logging", package: "swift-log"), .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),
        // What the venue and the central office say to each other: signed batches of outbox items (gzip on the wire),
        // receipts, upload sessions.
        .target(
            name: "SyncProtocol",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        // The venue's client for the central office: signed batches, upload sessions, resumable video uploads (tus).
        .target(
            name: "SyncClient",
            dependencies: [
                "SyncProtocol",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        // The venue database: migrations, records, import, autosave with group commit, answer log.
        .target(
            name: "VenueStore",
            dependencies: [
                "ExamCore",
                "VenuePackage",
                "SyncProtocol",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // HTTP API, pages and long-running services of the venue appliance.
        .target(
            name: "VenueServer",
            dependencies: [
                "ExamCore",
                "VenuePackage",
                "VenueStore",
                "FaceEngine",
                "CameraKit",
                "SyncProtocol",
                "SyncClient",
                "SignInGuard",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            resources: [.copy("Public")],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "venue",
            dependencies: [
                "VenueServer",
                "VenueStore",
                "VenuePackage",
                "DemoContent",
                "ExamCore",
                "FaceEngine",
                "CameraKit",
                "SyncClient",
                "SyncProtocol",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // The central office's database (PostgreSQL): venues and their enrolment.
        .target(
            name: "CentralStore",
            dependencies: [
                "SyncProtocol",
                "VenuePackage",
                "QuestionBank",
                "ExamCore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // The central office's HTTP API.
        .target(
            name: "CentralServer",
            dependencies: [
                "CentralStore",
                "SyncProtocol",
                "QuestionBank",
                "BankInterchange",
                "VenuePackage",
                "ExamCore",
                "SignInGuard",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            resources: [.copy("Public")],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "central",
            dependencies: [
                "CentralServer",
                "CentralStore",
                "VenuePackage",
                "ExamCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        // Load generator for the autosave benchmark (scripts/bench-autosave.sh).
        .executableTarget(
            name: "kaodian-load",
            dependencies: [
                "DemoContent",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "TestSupport",
            dependencies: ["DemoContent", "ExamCore", "VenuePackage", "VenueStore"],
            path: "Tests/TestSupport",
            swiftSettings: strict
        ),
        .testTarget(name: "ExamCoreTests", dependencies: ["ExamCore"], swiftSettings: strict),
        .testTarget(name: "QuestionBankTests", dependencies: ["QuestionBank", "ExamCore"], swiftSettings: strict),
        .testTarget(
            name: "BankInterchangeTests", dependencies: ["BankInterchange", "QuestionBank", "ExamCore", "TestSupport"],
            swiftSettings: strict),
        .testTarget(name: "FaceEngineTests", dependencies: ["FaceEngine"], swiftSettings: strict),
        .testTarget(name: "CameraKitTests", dependencies: ["CameraKit", "TestSupport"], swiftSettings: strict),
        .testTarget(
            name: "CentralTests",
            dependencies: [
                "CentralStore", "CentralServer", "SyncProtocol", "SyncClient", "TestSupport", "QuestionBank", "ExamCore",
                "VenuePackage",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            swiftSettings: strict
        ),
        .testTarget(name: "VenuePackageTests", dependencies: ["VenuePackage", "DemoContent", "ExamCore", "TestSupport"], swiftSettings: strict),
        .testTarget(
            name: "VenueStoreTests",
            dependencies: [
                "VenueStore", "VenuePackage", "DemoContent", "ExamCore", "TestSupport", "SyncProtocol",
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "VenueServerTests",
            dependencies: [
                "VenueServer", "VenueStore", "VenuePackage", "DemoContent", "ExamCore", "TestSupport", "FaceEngine",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),
        // Camera-recording benchmark: N recorders against the ffmpeg command line (scripts/bench-cameras.sh).
        .executableTarget(
            name: "kaodian-camera-bench",
            dependencies: [
                "CameraKit",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // Paper assembly benchmark: papers from a generated bank of N questions (scripts/bench-assembly.sh).
        .executableTarget(
            name: "kaodian-assembly-bench",
            dependencies: ["QuestionBank", "ExamCore", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: strict
        ),
    ],
    cxxLanguageStandard: .cxx17
)
