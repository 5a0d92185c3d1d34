import ArgumentParser
import Connectors
import Foundation
import Logging
import ServiceLifecycle
import UnixSignals

/// `ledgerwire tally-agent`: runs beside Tally (on the school's Windows PC) and relays Ledgerwire's requests to it
/// over an outgoing connection, for a Tally the server cannot reach (docs/tally-agent.md). Until SIGINT or SIGTERM.
struct TallyAgent: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tally-agent",
        abstract: "Relay Ledgerwire's requests to a Tally on this network (run it beside Tally).",
        discussion: """
            Connects out to Ledgerwire over HTTPS, fetches the requests Ledgerwire wants sent to Tally, sends each to \
            Tally and posts Tally's answer back. Nothing needs to reach this PC from outside; Tally's port stays on \
            the LAN. The token is the integration's agent token (POST /api/v1/integrations/{id}/agent-token); it can \
            also be given as LEDGERWIRE_AGENT_TOKEN, which keeps it out of the process list.
            """
    )

    @Option(help: "Ledgerwire's URL, e.g. https://ledgerwire.example.org.")
    var server: String

    @Option(help: "The integration's agent token (lwa_…); default: LEDGERWIRE_AGENT_TOKEN.")
    var token: String?

    @Option(help: "Tally's XML server on this network.")
    var tally: String = "http://127.0.0.1:9000"

    @Option(help: "Seconds one poll waits for a request, 1 to 30 (less behind a proxy that cuts quiet connections).")
    var wait: Int = 25

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    func run() async throws {
        guard let serverURL = URL(string: server), let scheme = serverURL.scheme?.lowercased(),
            ["http", "https"].contains(scheme), serverURL.host != nil
        else { throw CommandFailure("--server must be Ledgerwire's http(s) URL, e.g. https://ledgerwire.example.org") }
        guard let tallyURL = URL(string: tally), tallyURL.scheme?.lowercased() == "http", tallyURL.host != nil else {
            throw CommandFailure("--tally must be Tally's http URL, e.g. http://127.0.0.1:9000")
        }
        guard (1...30).contains(wait) else { throw CommandFailure("--wait must be from 1 to 30 seconds") }
        guard
            let token = token ?? ProcessInfo.processInfo.environment["LEDGERWIRE_AGENT_TOKEN"],
            token.hasPrefix("lwa_")
        else {
            throw CommandFailure(
                "--token (or LEDGERWIRE_AGENT_TOKEN) must be the integration's agent token (lwa_…); issue one with "
                    + "POST /api/v1/integrations/{id}/agent-token")
        }
        var logger = Logger(label: "ledgerwire.tally-agent")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        if scheme == "http" {
            logger.warning(
                "agent.server_insecure",
                metadata: ["agent.server": "\(server)", "agent.reason": "the token travels in the clear; use https"])
        }
        // Ledgerwire may be on this network too (an on-premise server), and Tally is: neither is a public address.
        let policy = DestinationPolicy(allowsInsecure: true, allowsPrivateNetworks: true)
        let agent = RelayAgent(
            configuration: .init(server: serverURL, token: token, books: tallyURL, wait: .seconds(wait)),
            // A poll carries a request of up to the server's 10 MiB limit in base64 (4/3 of it), plus its JSON.
            server: HTTPClientTransport(policy: policy, maximumResponseBytes: 16 << 20),
            books: HTTPClientTransport(policy: policy), logger: logger)
        FileHandle.standardOutput.write(Data("ledgerwire tally-agent relaying \(server) to \(tally)\n".utf8))
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: AgentLoop(agent: agent))], gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        try await group.run()
    }
}

/// The agent's loop as a service: stops when the process is told to.
struct AgentLoop: Service {
    let agent: RelayAgent

    /// How long a stop may take before the process leaves anyway.
    static let stopGrace: DispatchTimeInterval = .seconds(5)

    func run() async throws {
        await withGracefulShutdownHandler {
            await cancelWhenGracefulShutdown { await agent.run() }
        } onGracefulShutdown: {
            // The poll in flight is cancelled, which ends the loop at once; an exchange the network library does not
            // give up (one CI run saw the agent still running 30 s after SIGINT) must not keep a person's Ctrl-C or
            // the service manager's stop from working: the agent holds nothing to save.
            DispatchQueue.global().asyncAfter(deadline: .now() + Self.stopGrace) { exit(0) }
        }
    }
}
