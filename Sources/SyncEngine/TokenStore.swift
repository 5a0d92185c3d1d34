import Accounting
public import Connectors
import Foundation
public import Logging
public import Persistence
import Synchronization

/// Every integration's access tokens: read from the database, refreshed when expired, and refreshed once only
/// however many workers need a new token at the same time (single flight: the first caller refreshes, the others
/// wait for its result).
///
/// Tokens belong to a connection, which several integrations may share (one consent, several organisations): they
/// are cached and refreshed per connection, so two integrations whose jobs run at once refresh once, and the second
/// uses the first's new tokens instead of spending the refresh token again.
///
/// Crash safety: a refresh saves the new tokens — the rotated refresh token above all, since the old one stops
/// working — and commits before the new access token is handed to anyone. If that save fails, the new tokens are
/// not used: the caller gets a retryable error and the stored (old) refresh token is tried again later, which the
/// platforms accept within their rotation grace period. A crash between the platform's answer and the commit is the
/// same case.
///
/// A refresh the platform refuses (`invalid_grant`: revoked or expired consent), or one that cannot be made (no
/// credentials, no client secret), disconnects the integration, which sends `integration.disconnected`; its jobs wait
/// until someone connects it again.
public actor TokenStore {
    private let database: AppDatabase
    private let box: SecretBox
    /// Outbound HTTP, for the token endpoint and the connectors' calls.
    public nonisolated let transport: any HTTPTransport
    private let connectors: [Platform: any Connector]
    private let clock: any SyncClock
    private let logger: Logger
    /// Refresh when the access token has less than this left.
    private let margin: Duration

    /// The callers waiting for a refresh, per connection.
    private var waiting: [String: [CheckedContinuation<StoredCredentials, any Error>]] = [:]
    /// The credentials last read or refreshed, per connection: served again, with no read and no AES-GCM open, to a
    /// caller that knows the stored generation is still theirs.
    private var opened: [String: StoredCredentials] = [:]
    /// Refreshes made (for metrics and tests).
    public private(set) var refreshes = 0
    /// Times the stored credentials were read and opened (for tests: a round of jobs opens them once at most).
    public private(set) var opens = 0

    public init(
        database: AppDatabase,
        box: SecretBox,
        transport: any HTTPTransport,
        connectors: [any Connector],
        clock: any SyncClock = SystemSyncClock(),
        margin: Duration = .seconds(60),
        logger: Logger = Logger(label: "ledgerwire.tokens")
    ) {
        self.database = database
        self.box = box
        self.transport = transport
        self.connectors = Dictionary(connectors.map { ($0.platform, $0) }, uniquingKeysWith: { first, _ in first })
        self.clock = clock
        self.margin = margin
        self.logger = logger
    }

    /// Valid credentials for `integration`, refreshed first when the access token expires within the margin.
    /// - Parameter generation: the stored generation, when the caller has just read it (`IntegrationSnapshot`): the
    ///   credentials opened before are used while they are of that generation.
    public func credentials(for integration: Integration, generation: Int? = nil) async throws(ConnectorError)
        -> StoredCredentials
    {
        let stored: StoredCredentials
        if let generation, let connectionID = integration.connectionID, let cached = opened[connectionID],
            cached.generation == generation
        {
            stored = cached
        } else {
            stored = try await load(integration)
        }
        let deadline = clock.now().microsecondsSinceEpoch + margin.wholeMicroseconds
        guard stored.tokens.accessTokenExpiresAt.microsecondsSinceEpoch <= deadline else { return stored }
        return try await refresh(integration, from: stored)
    }

    /// New credentials after the platform refused the access token of generation `rejected`. When another caller
    /// already refreshed past it, that result is used and nothing is refreshed again.
    public func credentials(for integration: Integration, rejecting rejected: Int) async throws(ConnectorError)
        -> StoredCredentials
    {
        let stored = try await load(integration)
        guard stored.generation == rejected else { return stored }
        return try await refresh(integration, from: stored)
    }

    private func load(_ integration: Integration) async throws(ConnectorError) -> StoredCredentials {
        let stored: StoredCredentials?
        do {
            opens += 1
            stored = try await database.credentials(integrationID: integration.id, box: box)
        } catch {
            throw .retryable(code: "credentials_unreadable", message: "\(error)", retryAfter: nil)
        }
        guard let stored else {
            if let connectionID = integration.connectionID { opened[connectionID] = nil }
            let reason = "integration \(integration.id) has no credentials: connect it first"
            try await disconnect(integration, reason: reason)
            throw .credentialsRefused(message: reason)
        }
        opened[Self.key(of: stored, integration)] = stored
        return stored
    }

    /// What caches and refreshes are keyed by: the connection (an integration's own id while none is known).
    private static func key(of stored: StoredCredentials, _ integration: Integration) -> String {
        stored.connectionID ?? integration.connectionID ?? integration.id
    }

    private func refresh(_ integration: Integration, from stored: StoredCredentials) async throws(ConnectorError)
        -> StoredCredentials
    {
        let key = Self.key(of: stored, integration)
        if waiting[key] != nil {
            // One refresh of the connection is already on its way (for this integration or another sharing it):
            // wait for its outcome.
            do {
                return try await withCheckedThrowingContinuation { waiting[key, default: []].append($0) }
            } catch let error as ConnectorError {
                throw error
            } catch {
                throw .retryable(code: "refresh_failed", message: "\(error)", retryAfter: nil)
            }
        }
        waiting[key] = []
        let result: Result<StoredCredentials, ConnectorError>
        do {
            // What the caller read may be stale by now: a refresh that finished meanwhile has already spent the
            // refresh token it holds.
            let latest = try await load(integration)
            result = .success(
                latest.generation == stored.generation ? try await performRefresh(integration, from: latest) : latest)
        } catch {
            result = .failure(error)
        }
        if case .success(let fresh) = result { opened[key] = fresh }
        for waiter in waiting.removeValue(forKey: key) ?? [] {
            waiter.resume(with: result.mapError { $0 as any Error })
        }
        return try result.get()
    }

    private func performRefresh(_ integration: Integration, from stored: StoredCredentials) async throws(ConnectorError)
        -> StoredCredentials
    {
        guard let refreshToken = stored.tokens.refreshToken else {
            try await disconnect(integration, reason: "the access token expired and there is no refresh token")
            throw .credentialsRefused(message: "the access token expired and there is no refresh token")
        }
        let client = try await oauthClient(for: integration)
        let grant: TokenGrant
        do {
            refreshes += 1
            grant = try await client.refresh(refreshToken: refreshToken)
        } catch .credentialsRefused(let message) {
            try await disconnect(integration, reason: message)
            throw .credentialsRefused(message: message)
        }
        let now = clock.now()
        let tokens = OAuthTokens(
            accessToken: grant.accessToken,
            refreshToken: grant.refreshToken ?? refreshToken,
            accessTokenExpiresAt: now.adding(.seconds(grant.expiresIn)),
            refreshTokenExpiresAt: grant.refreshTokenExpiresIn.map { now.adding(.seconds($0)) }
                ?? stored.tokens.refreshTokenExpiresAt,
            remoteTenantID: stored.tokens.remoteTenantID)
        // Saved and committed before anyone uses the new access token: the rotated refresh token is never only
        // in memory while the platform already considers the old one spent.
        let generation: Int?
        do {
            generation = try await database.saveCredentials(
                integrationID: integration.id, tokens, expectedGeneration: stored.generation, source: .refreshed,
                box: box, actor: "token-refresh", at: clock.now())
        } catch {
            logger.critical(
                "refreshed tokens could not be saved; they are not used",
                metadata: ["integration.id": "\(integration.id)", "error": "\(String(describing: error))"])
            throw .retryable(
                code: "credentials_unsaved", message: "the refreshed tokens could not be saved: \(error)",
                retryAfter: nil)
        }
        guard let generation else {
            // Someone saved newer credentials meanwhile (a person reconnected): theirs win.
            return try await load(integration)
        }
        logger.info("access token refreshed", metadata: ["integration.id": "\(integration.id)"])
        return StoredCredentials(tokens: tokens, generation: generation, connectionID: stored.connectionID)
    }

    private func oauthClient(for integration: Integration) async throws(ConnectorError) -> OAuthClient {
        switch try await makeClient(for: integration) {
        case .success(let client):
            return client
        case .failure(let unavailable):
            try await disconnect(integration, reason: unavailable.reason)
            throw .credentialsRefused(message: unavailable.reason)
        }
    }

    private struct ClientUnavailable: Error {
        var reason: String
    }

    /// The integration's OAuth client, or why it cannot have one.
    private func makeClient(for integration: Integration) async throws(ConnectorError) -> Result<
        OAuthClient, ClientUnavailable
    > {
        guard
            let endpoints = connectors[integration.platform]?.authentication(settings: integration.settings)
                .oauthEndpoints
        else {
            return .failure(ClientUnavailable(reason: "\(integration.platform.rawValue) has no OAuth endpoints"))
        }
        let secrets: [String: String]
        do {
            secrets = try await database.integrationSecrets(id: integration.id, box: box)
        } catch {
            throw .retryable(code: "credentials_unreadable", message: "\(error)", retryAfter: nil)
        }
        guard let clientID = integration.settings["client_id"]?.stringValue, let clientSecret = secrets["client_secret"]
        else {
            return .failure(
                ClientUnavailable(reason: "settings.client_id and settings.client_secret are required to refresh"))
        }
        return .success(
            OAuthClient(
                clientID: clientID, clientSecret: clientSecret,
                redirectURI: integration.settings["redirect_uri"]?.stringValue ?? "", endpoints: endpoints,
                transport: transport))
    }

    /// Revokes the integration's grant at the platform (its refresh token, else its access token) before the
    /// integration is deleted, so no working grant outlives it — unless another integration still uses its
    /// connection, whose grant it is too. Best effort: says whether the platform confirmed, and logs why not;
    /// deleting goes on either way.
    public func revoke(_ integration: Integration) async -> Bool {
        do {
            guard let stored = try await database.credentials(integrationID: integration.id, box: box) else {
                return false
            }
            if let connectionID = stored.connectionID,
                try await database.integrationIDs(connectionID: connectionID) != [integration.id]
            {
                logger.info(
                    "grant kept: other integrations use its connection",
                    metadata: ["integration.id": "\(integration.id)", "connection.id": "\(connectionID)"])
                return false
            }
            guard case .success(let client) = try await makeClient(for: integration),
                client.endpoints.revokeURL != nil
            else { return false }
            try await client.revoke(token: stored.tokens.refreshToken ?? stored.tokens.accessToken)
            logger.info("grant revoked", metadata: ["integration.id": "\(integration.id)"])
            return true
        } catch {
            logger.warning(
                "grant not revoked", metadata: ["integration.id": "\(integration.id)", "error": "\(error)"])
            return false
        }
    }

    private func disconnect(_ integration: Integration, reason: String) async throws(ConnectorError) {
        logger.error(
            "integration disconnected: its credentials were refused",
            metadata: ["integration.id": "\(integration.id)", "reason": "\(reason)"])
        do {
            try await database.setIntegrationStatus(
                id: integration.id, to: .disconnected, actor: "token-refresh", reason: reason, at: clock.now())
        } catch {
            throw .retryable(code: "status_unsaved", message: "\(error)", retryAfter: nil)
        }
    }
}

/// One attempt's credentials: the token store, bound to one integration, remembering which generation of token it
/// handed out so that a 401 refreshes past exactly that one.
final class AttemptCredentials: CredentialProvider {
    private let store: TokenStore
    private let integration: Integration
    /// The stored generation as the round read it, if it did.
    private let generation: Int?
    private let handedOut = Mutex<Int?>(nil)

    init(store: TokenStore, integration: Integration, generation: Int? = nil) {
        self.store = store
        self.integration = integration
        self.generation = generation
    }

    func accessToken() async throws(ConnectorError) -> String {
        let credentials = try await store.credentials(for: integration, generation: current)
        handedOut.withLock { $0 = credentials.generation }
        return credentials.tokens.accessToken
    }

    /// The company the integration works in: its own (integrations sharing one grant each have theirs), else the
    /// one its credentials were granted for.
    func remoteTenantID() async throws(ConnectorError) -> String? {
        if let own = integration.remoteTenantID { return own }
        return try await store.credentials(for: integration, generation: current).tokens.remoteTenantID
    }

    /// The generation to ask for: the one handed out last in this attempt (after a refresh), else the round's.
    private var current: Int? { handedOut.withLock { $0 } ?? generation }

    /// After a 401: new credentials, refreshed once for every attempt that was refused the same token.
    func refreshAfterRejection() async throws(ConnectorError) {
        let rejected = handedOut.withLock { $0 }
        guard let rejected else { return }
        let credentials = try await store.credentials(for: integration, rejecting: rejected)
        handedOut.withLock { $0 = credentials.generation }
    }
}
