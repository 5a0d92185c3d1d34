public import Accounting
import Foundation

/// Tally (TallyPrime and Tally.ERP 9) through its XML server: no OAuth, no webhooks, one request at a time.
///
/// Billing's customers become party ledgers and its documents vouchers (`TallyMapping`), each written with a
/// `REMOTEID` derived from billing's record, which Tally keeps as the object's GUID: writing it again alters it, so a
/// retry after a lost answer never duplicates. Up to 100 objects go in one import, and each one's outcome is read from
/// Tally's answer. Changes come back by polling the company's ALTERIDs (`changes`).
public struct TallyConnector: Connector {
    public let platform = Platform.tally
    public let capabilities: ConnectorCapabilities = {
        var capabilities = ConnectorCapabilities(
            webhooks: false, maximumBatchSize: TallyConnector.batchSize, changeFeed: true,
            mappingKinds: CodeMappings.commonKinds, adoptsExisting: [.customer])
        capabilities.unreachableRecheck = .seconds(60)
        capabilities.batchesInFlight = 8
        return capabilities
    }()

    /// Objects in one import request: a hundred vouchers are about 150 KB, which Tally takes in a few seconds.
    public static let batchSize = 100

    let gates = KeyedGates()
    let directories = TallyDirectories()

    public init() {}

    public func authentication(settings: JSONValue) -> AuthenticationScheme { .none }

    public func confirmsAccess(to remoteTenantID: String, context: ConnectorContext) async throws(ConnectorError)
        -> Bool
    { true }

    /// The client and cache of the integration's company.
    func session(_ context: ConnectorContext) throws(ConnectorError) -> TallySession {
        let settings = try TallySettings(context.settings)
        return TallySession(
            client: TallyClient(
                settings: settings, integrationID: context.integrationID, transport: context.transport, gates: gates),
            directory: directories.directory(integrationID: context.integrationID, settings: settings),
            tenantID: context.tenantID)
    }

    public func push(_ request: PushRequest, context: ConnectorContext) async throws -> PushResult {
        try await push(batch: [request], context: context)[0].get()
    }

    public func push(batch requests: [PushRequest], context: ConnectorContext) async throws -> [Result<
        PushResult, ConnectorError
    >] {
        let session = try session(context)
        var results = [Result<PushResult, ConnectorError>?](repeating: nil, count: requests.count)
        var writes: [(index: Int, write: TallySession.Write)] = []
        // Ledger names this import creates: a second customer of one name in the same import is named apart.
        var named: Set<String> = []
        for (index, request) in requests.enumerated() {
            do {
                if let write = try await session.write(for: request, named: &named) {
                    writes.append((index, write))
                } else {
                    // Nothing to write: a customer "voided" (Tally keeps its ledger and its history).
                    results[index] = .success(
                        PushResult(remoteID: request.remoteID ?? session.remoteID(of: request), remoteVersion: nil))
                }
            } catch let error as ConnectorError {
                results[index] = .failure(error)
            }
        }
        for report in [TallyEnvelope.ImportReport.masters, .vouchers] {
            let group = writes.filter { $0.write.report == report }
            guard !group.isEmpty else { continue }
            let outcomes = try await session.apply(group.map(\.write), report: report)
            for (entry, outcome) in zip(group, outcomes) { results[entry.index] = outcome }
        }
        return results.map { $0 ?? .failure(.validation(code: "tally_unanswered", message: "no outcome")) }
    }

    public func find(matching requests: [PushRequest], context: ConnectorContext) async throws -> [[RemoteMatch]] {
        guard requests.contains(where: { $0.recordType == .customer }) else {
            return Array(repeating: [], count: requests.count)
        }
        let session = try session(context)
        try await session.refreshLedgers()
        var found: [[RemoteMatch]] = []
        for request in requests {
            guard case .customer(let customer) = request.record,
                let ledger = await session.directory.ledger(named: customer.name)
            else {
                found.append([])
                continue
            }
            let version = TallyMapping.fingerprint(name: ledger.name, state: ledger.state, gstin: ledger.gstin)
            found.append([
                RemoteMatch(
                    remoteID: ledger.guid, matchedBy: "name",
                    adoption: .success(PushResult(remoteID: ledger.guid, remoteVersion: version)))
            ])
        }
        return found
    }
}
