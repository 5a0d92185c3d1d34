public import Accounting
public import Connectors
import Foundation
import Synchronization

/// A platform that answers pushes from a script, then succeeds, and keeps what was written by idempotency key the way
/// a platform with idempotent writes does: the same key twice makes one record. Each write moves the record's
/// version on (`"1"`, `"2"`, … like QuickBooks' `SyncToken`). Its change feed lists what tests `publish`, a page at a
/// time, with the position in the list as the cursor.
public final class ScriptedConnector: Connector {
    public struct Push: Sendable, Hashable {
        public var integrationID: String
        public var recordType: RecordType
        public var idempotencyKey: String
        public var localID: String
        public var version: Int
        public var action: PushRequest.Action
        /// The platform's version of the record the push named as the one it overwrites.
        public var remoteVersion: String?
    }

    public let platform: Platform
    public let capabilities: ConnectorCapabilities
    private struct State {
        var script: [ConnectorError] = []
        var pushes: [Push] = []
        var written: [String: String] = [:]
        var nextID = 1
        var versions: [String: Int] = [:]
        var writtenVersions: [String: String] = [:]
        var feed: [RemoteRecord] = []
        var feedScript: [ConnectorError] = []
        var feedReadsBeforeFailing = 0
        var feedCursors: [String?] = []
        var oldestCursor = 0
        var lost: Set<String> = []
        var existenceChecks: [[String]] = []
    }

    private let state = Mutex(State())
    /// When set, every push needs an access token this authority holds valid, as a platform's API does (401).
    public let authority: TokenAuthority?
    /// Called with each push that got past authentication, and the access token it carried.
    public let inspect: (@Sendable (PushRequest, String?) async -> Void)?

    /// How long each push takes (real time).
    let latency: Duration
    /// Changes per page of the change feed.
    public let feedPageSize: Int

    public init(
        failing script: [ConnectorError] = [], authority: TokenAuthority? = nil, latency: Duration = .zero,
        feedPageSize: Int = 2, platform: Platform = .quickBooksOnline,
        capabilities: ConnectorCapabilities = ConnectorCapabilities(
            webhooks: true, maximumBatchSize: 30, changeFeed: true),
        inspect: (@Sendable (PushRequest, String?) async -> Void)? = nil
    ) {
        self.platform = platform
        self.capabilities = capabilities
        self.authority = authority
        self.inspect = inspect
        self.latency = latency
        self.feedPageSize = feedPageSize
        state.withLock { $0.script = script }
    }

    /// Every push the engine made, in order (including the refused ones).
    public var pushes: [Push] { state.withLock { $0.pushes } }
    /// The records the platform holds, by idempotency key.
    public var written: [String: String] { state.withLock { $0.written } }
    /// The current version of a record the platform holds.
    public func version(of remoteID: String) -> String? { state.withLock { $0.versions[remoteID].map(String.init) } }
    /// The ids each `existing` call asked about, in order.
    public var existenceChecks: [[String]] { state.withLock { $0.existenceChecks } }

    /// The platform loses every record it holds (a company reset): links to them point at nothing.
    public func loseEverything() {
        state.withLock { state in
            state.lost.formUnion(state.written.values)
            state.lost.formUnion(state.versions.keys)
            state.written = [:]
            state.writtenVersions = [:]
        }
    }

    /// The cursors the change feed was read from, in order.
    public var feedCursors: [String?] { state.withLock { $0.feedCursors } }

    /// A change someone made in the platform (not through Ledgerwire): it moves the record's version on and shows
    /// in the change feed. Returns the record as listed, with its new version.
    @discardableResult
    public func publish(
        _ recordType: RecordType, remoteID: String, updatedAt: Timestamp, deleted: Bool = false, data: JSONValue
    ) -> RemoteRecord {
        state.withLock { state in
            let version = state.versions[remoteID, default: 0] + 1
            state.versions[remoteID] = version
            let record = RemoteRecord(
                recordType: recordType, remoteID: remoteID, remoteVersion: String(version), updatedAt: updatedAt,
                deleted: deleted, data: data)
            state.feed.append(record)
            return record
        }
    }

    /// Lists a record in the change feed as it is, without changing it (the platform reporting a write again).
    public func relist(_ record: RemoteRecord) { state.withLock { $0.feed.append(record) } }

    /// Makes change-feed reads fail with these errors, in order, after `afterReads` more reads succeed.
    public func failFeed(_ errors: [ConnectorError], afterReads: Int = 0) {
        state.withLock {
            $0.feedScript = errors
            $0.feedReadsBeforeFailing = afterReads
        }
    }

    /// The feed forgets everything before `position`: older cursors are refused as expired.
    public func expireFeed(before position: Int) { state.withLock { $0.oldestCursor = position } }

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
                    action: request.action, remoteVersion: request.remoteVersion))
            if !state.script.isEmpty { return .failure(state.script.removeFirst()) }
            if let existing = state.written[request.idempotencyKey] {
                return .success(
                    PushResult(remoteID: existing, remoteVersion: state.writtenVersions[request.idempotencyKey]))
            }
            let remoteID = request.remoteID ?? "\(state.nextID)"
            state.nextID += 1
            state.written[request.idempotencyKey] = remoteID
            let version = state.versions[remoteID, default: 0] + 1
            state.versions[remoteID] = version
            state.writtenVersions[request.idempotencyKey] = String(version)
            return .success(PushResult(remoteID: remoteID, remoteVersion: String(version)))
        }
        return try result.get()
    }

    public func pull(recordType: RecordType, remoteID: String, context: ConnectorContext) async throws -> RemoteRecord?
    { nil }

    /// What it wrote or had published and has not lost; fails like the feed when `failFeed` scripted it.
    public func existing(recordType: RecordType, remoteIDs: [String], context: ConnectorContext) async throws
        -> Set<String>
    {
        let result: Result<Set<String>, ConnectorError> = state.withLock { state in
            state.existenceChecks.append(remoteIDs)
            if !state.feedScript.isEmpty { return .failure(state.feedScript.removeFirst()) }
            let held = Set(state.written.values).union(state.versions.keys).subtracting(state.lost)
            return .success(Set(remoteIDs).intersection(held))
        }
        return try result.get()
    }

    public func changes(since cursor: String?, context: ConnectorContext) async throws -> ChangePage {
        let result: Result<ChangePage, ConnectorError> = state.withLock { state in
            state.feedCursors.append(cursor)
            if state.feedReadsBeforeFailing > 0 {
                state.feedReadsBeforeFailing -= 1
            } else if !state.feedScript.isEmpty {
                return .failure(state.feedScript.removeFirst())
            }
            let start = cursor.flatMap(Int.init) ?? 0
            if cursor != nil, start < state.oldestCursor {
                return .failure(.cursorExpired(message: "cursor \(start) is older than the feed keeps"))
            }
            let end = min(state.feed.count, max(start, state.oldestCursor) + feedPageSize)
            let from = min(max(start, state.oldestCursor), end)
            return .success(
                ChangePage(
                    changes: Array(state.feed[from..<end]), nextCursor: String(end), hasMore: end < state.feed.count))
        }
        return try result.get()
    }

    public func remoteChart(context: ConnectorContext) async throws -> RemoteChart {
        RemoteChart(accounts: [], taxCodes: [], items: [])
    }

    /// Every company is reachable, but those named in `settings.unreachable_companies`.
    public func confirmsAccess(to remoteTenantID: String, context: ConnectorContext) async throws(ConnectorError)
        -> Bool
    {
        !(context.settings["unreachable_companies"]?.arrayValue ?? []).contains(.string(remoteTenantID))
    }

    public func authentication(settings: JSONValue) -> AuthenticationScheme {
        .oauth2(
            OAuthEndpoints(
                authorizeURL: URL(string: "https://appcenter.books.test/connect/oauth2")!,
                tokenURL: URL(string: "https://oauth.books.test/tokens/bearer")!, revokeURL: nil,
                scopes: ["com.intuit.quickbooks.accounting"], usesPKCE: true
            ).overridden(by: settings))
    }
}
