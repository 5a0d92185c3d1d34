public import Foundation

/// The process's transport, with requests to `agent://<integration id>/` sent through the integration's agent
/// (`AgentRelay`) and every other request through `base`. Connectors whose integration is reached through an agent
/// (`settings.connection: "agent"`) address it so, and know no other difference.
public struct AgentRoutingTransport: HTTPTransport {
    /// The URL scheme that goes through the relay.
    public static let scheme = "agent"

    public let base: any HTTPTransport
    public let relay: AgentRelay

    public init(base: any HTTPTransport, relay: AgentRelay) {
        self.base = base
        self.relay = relay
    }

    /// `agent://<integration id>/`: where a connector sends the requests of an integration reached through its agent.
    public static func url(integrationID: String) -> URL? {
        var components = URLComponents()
        components.scheme = scheme
        components.host = integrationID
        components.path = "/"
        return components.url
    }

    public func send(_ request: TransportRequest) async throws(TransportError) -> TransportResponse {
        guard request.url.scheme?.lowercased() == Self.scheme else { return try await base.send(request) }
        guard let integrationID = request.url.host(percentEncoded: false), !integrationID.isEmpty else {
            throw .destinationRefused("an agent URL names its integration: agent://<integration id>/")
        }
        return try await relay.send(request, integrationID: integrationID)
    }
}
