import App
import Connectors
import Foundation
import Hummingbird
import Logging
import Persistence
import ServiceLifecycle

/// Ledgerwire as `serve` builds it (SQLite file, its own workers and scheduler at their default settings, the
/// connectors at their default limits unless `registry` gives others) and a platform's emulator (`emulator`, at that
/// platform's limits), both on loopback in this process, for as long as `body` runs.
enum BenchServers {
    static func run<Emulator: HTTPResponder>(
        emulator: Emulator, serverName: String, registry: ConnectorRegistry = .standard,
        _ body: (BenchWorld) async throws -> Void
    ) async throws where Emulator.Context == BasicRequestContext {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "ledgerwire-bench-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }

        var logger = Logger(label: "ledgerwire.bench")
        logger.logLevel = .error
        var configuration = ServerConfiguration()
        configuration.port = 0
        configuration.databasePath = directory.appendingPathComponent("ledgerwire.sqlite").path
        configuration.adminToken = "bench-" + UUID().uuidString
        configuration.masterKey = Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
        // The emulator is on 127.0.0.1 over http.
        configuration.destinationPolicy = DestinationPolicy(allowsInsecure: true, allowsPrivateNetworks: true)
        let components = try Components.open(configuration: configuration, registry: registry, logger: logger)

        let (listening, announce) = AsyncStream.makeStream(of: (server: String, port: Int).self)
        let emulatorServer = Application(
            responder: emulator,
            configuration: .init(address: .hostname("127.0.0.1", port: 0), serverName: serverName),
            onServerRunning: { channel in announce.yield(("emulator", channel.localAddress?.port ?? 0)) },
            logger: logger)
        let ledgerwire = buildApplication(configuration: configuration, components: components, logger: logger) {
            _, port in announce.yield(("ledgerwire", port))
        }
        let services = ServiceGroup(configuration: .init(services: [emulatorServer, ledgerwire], logger: logger))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await services.run() }
            var ports: [String: Int] = [:]
            for await (server, port) in listening {
                ports[server] = port
                if ports.count == 2 { break }
            }
            let world = BenchWorld(
                ledgerwire: "http://127.0.0.1:\(ports["ledgerwire"] ?? 0)",
                emulator: "http://127.0.0.1:\(ports["emulator"] ?? 0)",
                adminToken: configuration.adminToken ?? "")
            do {
                try await body(world)
            } catch {
                await services.triggerGracefulShutdown()
                throw error
            }
            await services.triggerGracefulShutdown()
            try await group.waitForAll()
        }
    }
}
