import Accounting
import Connectors
import Foundation
import Synchronization

/// A platform that answers pushes from a script, then succeeds, and keeps what was written by idempotency key the way
/// a platform with idempotent writes does: the same key twice makes one record.
public final class ScriptedConnector: Connector {
    public struct Push: Sendable, Hashable {
        public var integrationID: String
        public var recordType: RecordType
        public var idempotencyKey: String
        public var localID: String
        public var version: Int
        public var action: PushRequest.Action
    }

    public let platform: Platform = .quickBooksOnline
    public let capabilities = ConnectorCapabilities(webhooks: true, maximumBatchSize: 30, changeFeed: true)
    private struct State {
        var script: [ConnectorError] = []
        var pushes: [Push] = []
        var written: [String: String] = [:]
        var nextID = 1
    }

    private let state = Mutex(State())
    /// When set, every push needs an access token this authority holds valid, as a platform's API does (401).
    public let authority: TokenAuthority?
    /// Called with each push that got past authentication, and the access token it carried.
    public let inspect: (@Sendable (PushRequest, String?) async -> Void)?

    /// How long each push takes (real time).
    let latency: Duration

    public init(
        failing script: [ConnectorError] = [], authority: TokenAuthority? = nil, latency: Duration = .zero,
        inspect: (@Sendable (PushRequest, String?) async -> Void)? = nil
    ) {
        self.authority = authority
        self.inspect = inspect
        self.latency = latency
        state.withLock { $0.script = script }
    }

    /// Every push the engine made, in order (including the refused ones).
    public var pushes: [Push] { state.withLock { $0.pushes } }
    /// The records the platform holds, by idempotency key.
    public var written: [String: String] { state.withLock { $0.written } }

    public func push(_ request: PushRequest, context: ConnectorContext) async throws -> PushResult {
        var token: String?
        if let authority {
            token = try await context.credentials.accessToken()
            guard authority.isValid(accessToken: token!) else {
                throw ConnectorError.authentication(message: "AuthenticationFailed: token expired or revoked")
            }
        }
        await inspect?(request, token)
        if latency > .zero { try await Task.sleep(for: latency) }
        let result: Result<PushResult, ConnectorError> = state.withLock { state in
            state.pushes.append(
                Push(
                    integrationID: request.integrationID, recordType: request.recordType,
                    idempotencyKey: request.idempotencyKey, localID: request.localID, version: request.version,
                    action: request.action))
            if !state.script.isEmpty { return .failure(state.script.removeFirst()) }
            if let existing = state.written[request.idempotencyKey] { return .success(PushResult(remoteID: existing)) }
            let remoteID = request.remoteID ?? "\(state.nextID)"
            state.nextID += 1
            state.written[request.idempotencyKey] = remoteID
            return .success(PushResult(remoteID: remoteID))
        }
        return try result.get()
    }

    public func pull(recordType: RecordType, remoteID: String, context: ConnectorContext) async throws -> RemoteRecord?
    { nil }

    public func changes(since cursor: String?, context: ConnectorContext) async throws -> ChangePage {
        ChangePage(changes: [], nextCursor: cursor, hasMore: false)
    }

    public func remoteChart(context: ConnectorContext) async throws -> RemoteChart {
        RemoteChart(accounts: [], taxCodes: [], items: [])
    }

    public func oauthEndpoints(settings: JSONValue) -> OAuthEndpoints? {
        OAuthEndpoints(
            authorizeURL: URL(string: "https://appcenter.books.test/connect/oauth2")!,
            tokenURL: URL(string: "https://oauth.books.test/tokens/bearer")!, revokeURL: nil,
            scopes: ["com.intuit.quickbooks.accounting"], usesPKCE: true
        ).overridden(by: settings)
    }
}
