import Accounting
import Connectors
import Foundation
import Ingestion
import Persistence

/// What an export of a Sage 50 integration holds: the integration's jobs not yet succeeded (no `since`) whose
/// record was not exported at that version already, or every job that changed since `since`; one per record at its
/// latest version. The customer file holds customers, with their A/C (kept from an earlier export, else made by
/// `account_ref_style`); the transactions file the other records, with their customers' A/Cs.
struct Sage50ExportWork {
    /// The file.
    var file: Sage50Export.File
    /// What the file holds, to mark exported.
    var exported: [AppDatabase.ExportedRecord]

    static func gather(
        database: AppDatabase, integration: Integration, since: Timestamp?, customers: Bool,
        style: Sage50AccountReferenceStyle
    ) async throws -> Sage50ExportWork {
        let links = try await database.linkStates(integrationID: integration.id)
        var latest: [String: Queued] = [:]
        for status in Job.Status.allCases where since != nil || status != .succeeded {
            var cursor: String?
            repeat {
                let page = try await database.jobs(
                    status: status, integrationID: integration.id, tenantID: integration.tenantID,
                    page: try PageRequest(limit: 500, cursor: cursor))
                for job in page.items where (job.recordType == RecordType.customer.rawValue) == customers {
                    if let since, job.updatedAt < since { continue }
                    if since == nil, let link = links[job.recordID],
                        link.status == "exported" || link.status == "synced",
                        let version = link.version, version >= job.version
                    {
                        continue
                    }
                    if let known = latest[job.recordID], known.version >= job.version { continue }
                    latest[job.recordID] = Queued(job)
                }
                cursor = page.nextCursor
            } while cursor != nil
        }
        let jobs = latest.values.sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }
        var accounts: [String: String] = [:]
        for link in links.values where link.recordType == RecordType.customer.rawValue {
            if let remoteID = link.remoteID { accounts[link.localID] = remoteID }
        }
        if customers {
            var taken = Set(accounts.values)
            var rows: [(customer: Customer, reference: String)] = []
            var exported: [AppDatabase.ExportedRecord] = []
            var refused: [(localID: String, reason: String)] = []
            for batch in batches(of: jobs) {
                let records = try await database.records(ids: batch.map(\.recordID), tenantID: integration.tenantID)
                for job in batch {
                    guard let stored = records[job.recordID], stored.action != "void",
                        case .customer(let customer)? = try? CanonicalRecord(recordType: .customer, json: stored.data)
                    else { continue }
                    guard let reference = accounts[stored.localID] ?? style.reference(for: customer, taken: taken)
                    else {
                        refused.append((stored.localID, "no free A/C is left for \(customer.name)"))
                        continue
                    }
                    taken.insert(reference)
                    rows.append((customer, reference))
                    exported.append(.init(recordID: stored.id, version: job.version, remoteID: reference))
                }
            }
            var file = Sage50Export.customers(rows)
            file.refused = refused
            return Sage50ExportWork(file: file, exported: exported)
        }
        let mappings = try await database.mappings(integrationID: integration.id)
        let timeZone =
            integration.settings["time_zone"]?.stringValue.flatMap(TimeZone.init(identifier:))
            ?? TimeZone(identifier: "Europe/London") ?? TimeZone.current
        // Written a batch of records at a time: what is held is the file, not every record of it at once.
        var file = Sage50Export.transactions([], accounts: accounts, timeZone: timeZone)
        var recordIDs: [RecordReference: (id: String, version: Int)] = [:]
        var changedSinceExport: [(localID: String, reason: String)] = []
        for batch in batches(of: jobs) {
            var requests: [PushRequest] = []
            let records = try await database.records(ids: batch.map(\.recordID), tenantID: integration.tenantID)
            for job in batch {
                guard let stored = records[job.recordID],
                    let recordType = RecordType(rawValue: stored.recordType),
                    let record = try? CanonicalRecord(recordType: recordType, json: stored.data)
                else { continue }
                if let state = links[stored.id], state.status == "exported", let version = state.version,
                    version < job.version
                {
                    // Each imported row is a new transaction in Sage 50: writing the new version would book the record
                    // twice once the earlier file is imported. Sage's audit trail confirms the earlier one first; the
                    // change is then made in Sage.
                    changedSinceExport.append(
                        (
                            stored.localID,
                            "changed since its export (version \(version)); upload Sage's audit trail, then change it in "
                                + "Sage 50"
                        ))
                    continue
                }
                let link = stored.links.first { $0.integrationID == integration.id }
                // A link that is only `exported` has no Sage transaction yet.
                let remoteID = link?.status == "synced" ? link?.remoteID : nil
                requests.append(
                    PushRequest(
                        integrationID: integration.id, tenantID: integration.tenantID, localID: stored.localID,
                        version: job.version,
                        action: stored.action == "void" ? .void : remoteID == nil ? .create : .update,
                        record: record, remoteID: remoteID, remoteVersion: link?.remoteVersion,
                        idempotencyKey: job.idempotencyKey, mappings: mappings, references: [:]))
                recordIDs[RecordReference(recordType, stored.localID)] = (stored.id, job.version)
            }
            let rows = Sage50Export.transactions(requests, accounts: accounts, timeZone: timeZone, header: false)
            file.text += rows.text
            file.written += rows.written
            file.refused += rows.refused
        }
        file.refused += changedSinceExport
        let exported = file.written.compactMap { reference in
            recordIDs[reference].map { AppDatabase.ExportedRecord(recordID: $0.id, version: $0.version, remoteID: nil) }
        }
        return Sage50ExportWork(file: file, exported: exported)
    }

    /// Records read at once: an export of thousands reads its records in a few statements, a batch at a time.
    static let batchSize = 500

    /// Of a job, what the export needs: an export of thousands keeps this, not every job's whole row.
    struct Queued {
        var id: String
        var recordID: String
        var version: Int
        var createdAt: Timestamp
        /// The job's, as `Job.idempotencyKey`: its id.
        var idempotencyKey: String { id }

        init(_ job: Job) {
            (id, recordID, version, createdAt) = (job.id, job.recordID, job.version, job.createdAt)
        }
    }

    /// `jobs` in batches of `batchSize`.
    private static func batches(of jobs: [Queued]) -> [ArraySlice<Queued>] {
        stride(from: 0, to: jobs.count, by: batchSize).map { jobs[$0..<min(jobs.count, $0 + batchSize)] }
    }
}
