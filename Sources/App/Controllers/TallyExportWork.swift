import Accounting
import Connectors
import Ingestion
import Persistence

/// The records an export of a Tally integration holds, as the connector would push them, with what the file needs of
/// the records they refer to that are not in it: the party ledgers of customers, the bills of documents.
struct TallyExportWork {
    var requests: [PushRequest] = []
    var parties: [String: TallyMapping.Party] = [:]
    var bills: [String: String] = [:]

    /// The integration's jobs not yet succeeded (no `since`), or every job that changed since `since`, one per record
    /// at its latest version.
    static func gather(database: AppDatabase, integration: Integration, since: Timestamp?) async throws
        -> TallyExportWork
    {
        var latest: [String: Job] = [:]
        for status in Job.Status.allCases where since != nil || status != .succeeded {
            var cursor: String?
            repeat {
                let page = try await database.jobs(
                    status: status, integrationID: integration.id, tenantID: integration.tenantID,
                    page: try PageRequest(limit: 500, cursor: cursor))
                for job in page.items where since.map({ job.updatedAt >= $0 }) ?? true {
                    if let known = latest[job.recordID], known.version >= job.version { continue }
                    latest[job.recordID] = job
                }
                cursor = page.nextCursor
            } while cursor != nil
        }
        let mappings = try await database.mappings(integrationID: integration.id)
        var work = TallyExportWork()
        var included: Set<RecordReference> = []
        var loaded: [(job: Job, record: CanonicalRecord, stored: StoredRecord)] = []
        let jobs = latest.values.sorted(by: { $0.createdAt < $1.createdAt })
        // The records a batch at a time: a few statements for thousands, not two a record.
        for start in stride(from: 0, to: jobs.count, by: Self.batchSize) {
            let batch = jobs[start..<min(jobs.count, start + Self.batchSize)]
            let records = try await database.records(ids: batch.map(\.recordID), tenantID: integration.tenantID)
            for job in batch {
                guard let stored = records[job.recordID], let recordType = RecordType(rawValue: stored.recordType),
                    let record = try await standing(stored, recordType: recordType, database: database)
                else { continue }
                loaded.append((job, record, stored))
                included.insert(RecordReference(recordType, stored.localID))
            }
        }
        for (job, record, stored) in loaded {
            var references: [RecordReference: String] = [:]
            for reference in record.dependencies {
                references[reference] = try await work.resolve(
                    reference, inFile: included.contains(reference), database: database, integration: integration)
            }
            let link = stored.links.first { $0.integrationID == integration.id }
            let remoteID = link?.remoteID
            work.requests.append(
                PushRequest(
                    integrationID: integration.id, tenantID: integration.tenantID, localID: stored.localID,
                    version: job.version, action: stored.action == "void" ? .void : remoteID == nil ? .create : .update,
                    record: record, remoteID: remoteID, remoteVersion: link?.remoteVersion,
                    idempotencyKey: job.idempotencyKey, mappings: mappings, references: references))
        }
        return work
    }

    /// Records read at once.
    static let batchSize = 500

    /// The record as it stands: for a void, its last version before it (what the void cancels).
    private static func standing(_ stored: StoredRecord, recordType: RecordType, database: AppDatabase) async throws
        -> CanonicalRecord?
    {
        if stored.action != "void" { return try? CanonicalRecord(recordType: recordType, json: stored.data) }
        let versions = try await database.recordVersions(recordID: stored.id, page: try PageRequest(limit: 500))
        for version in versions.items.sorted(by: { $0.version > $1.version }) where version.action != "void" {
            return try? CanonicalRecord(recordType: recordType, json: version.data)
        }
        return nil
    }

    /// The Tally GUID of a referenced record (its link, else the `REMOTEID` the connector gives it), noting its party
    /// ledger or bill when the file does not hold it.
    private mutating func resolve(
        _ reference: RecordReference, inFile: Bool, database: AppDatabase, integration: Integration
    ) async throws -> String {
        let found = try await database.records(
            tenantID: integration.tenantID, recordType: reference.recordType.rawValue, localID: reference.localID,
            page: try PageRequest(limit: 1)
        ).items.first
        let link = found?.links.first { $0.integrationID == integration.id }
        let guid =
            link?.remoteID
            ?? TallyMapping.remoteID(
                tenantID: integration.tenantID, recordType: reference.recordType, localID: reference.localID)
        guard !inFile, let data = found?.data else { return guid }
        switch reference.recordType {
        case .customer:
            // The ledger's name in Tally, as its version carries it (a family named apart from another of one name),
            // else billing's.
            if let name = link?.remoteVersion.flatMap(TallyMapping.ledgerName(inVersion:)) ?? data["name"]?.stringValue
            {
                let region = data["billing_address"]?["region"]?.stringValue
                parties[guid] = TallyMapping.Party(
                    guid: guid, name: name, state: region.map { IndianState($0)?.name ?? $0 })
            }
        case .invoice:
            bills[guid] = data["number"]?.stringValue
        case .creditNote:
            // A credit note against an invoice is allocated to the invoice's bill; one on its own is its own bill.
            if let invoiceID = data["invoice_id"]?.stringValue,
                let invoice = try await database.records(
                    tenantID: integration.tenantID, recordType: RecordType.invoice.rawValue, localID: invoiceID,
                    page: try PageRequest(limit: 1)
                ).items.first
            {
                bills[guid] = invoice.data["number"]?.stringValue
            } else {
                bills[guid] = data["number"]?.stringValue
            }
        case .payment, .refund:
            break
        }
        return guid
    }
}
