// swift-tools-version:6.2
// libFuzzer targets for every parser of untrusted bytes. A package of its own, so the main build never needs the
// fuzzer runtime; build and run it with scripts/fuzz.sh (swift-protobuf's FuzzTesting/ is the model).

import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "LedgerwireFuzz",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "ledgerwire", path: "..")
    ],
    targets: [
        .target(name: "CFuzzDriver"),
        .executableTarget(
            name: "FuzzStandardWebhooks",
            dependencies: ["CFuzzDriver", .product(name: "Ingestion", package: "ledgerwire")],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "FuzzBillingEvent",
            dependencies: [
                "CFuzzDriver",
                .product(name: "Accounting", package: "ledgerwire"),
                .product(name: "Ingestion", package: "ledgerwire"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "FuzzJSON",
            dependencies: ["CFuzzDriver", .product(name: "Accounting", package: "ledgerwire")],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "FuzzQuickBooksWebhook",
            dependencies: [
                "CFuzzDriver",
                .product(name: "Accounting", package: "ledgerwire"),
                .product(name: "Connectors", package: "ledgerwire"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "FuzzXeroWebhook",
            dependencies: [
                "CFuzzDriver",
                .product(name: "Accounting", package: "ledgerwire"),
                .product(name: "Connectors", package: "ledgerwire"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "FuzzTallyXML",
            dependencies: [
                "CFuzzDriver",
                .product(name: "Accounting", package: "ledgerwire"),
                .product(name: "Connectors", package: "ledgerwire"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "FuzzWebConnectorSOAP",
            dependencies: ["CFuzzDriver", .product(name: "Connectors", package: "ledgerwire")],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "FuzzQBXML",
            dependencies: ["CFuzzDriver", .product(name: "Connectors", package: "ledgerwire")],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "FuzzSage50CSV",
            dependencies: ["CFuzzDriver", .product(name: "Connectors", package: "ledgerwire")],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "FuzzNumbers",
            dependencies: ["CFuzzDriver", .product(name: "Accounting", package: "ledgerwire")],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "FuzzForms",
            dependencies: ["CFuzzDriver", .product(name: "Accounting", package: "ledgerwire")],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "FuzzMultipart",
            dependencies: ["CFuzzDriver", .product(name: "Accounting", package: "ledgerwire")],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "FuzzDates",
            dependencies: [
                "CFuzzDriver",
                .product(name: "Accounting", package: "ledgerwire"),
                .product(name: "Connectors", package: "ledgerwire"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
