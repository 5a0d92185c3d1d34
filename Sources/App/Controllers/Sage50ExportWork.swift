import Accounting
import Connectors
import Foundation
import Ingestion
import Persistence

/// What a download of a Sage 50 integration holds, read and written a page of records at a time, so a download of
/// tens of thousands holds one page, whatever its size: the integration's records with work not yet succeeded (no
/// `since`) whose link does not hold that version already, or every record whose work changed since `since`; each
/// once, at its newest version, in the order the work arrived. The customer file holds customers, with their A/C
/// (kept from an earlier export, else made by `account_ref_style`); the transactions file the other records, with
/// their customers' A/Cs.
struct Sage50ExportWork {
    /// One page: its rows, what they hold (to mark exported) and the records left out, with why.
    struct Page {
        var text: String
        var exported: [AppDatabase.ExportedRecord]
        var refused: [(localID: String, reason: String)]
    }

    let database: AppDatabase
    let integration: Integration
    let since: Timestamp?
    /// The customer file, or the transactions file.
    let customers: Bool
    private let style: Sage50AccountReferenceStyle
    /// The A/Cs in use, a new customer's taken from the rest (the customer file only).
    private var taken: Set<String> = []
    private var mappings = CodeMappings()
    private var timeZone = TimeZone(identifier: "Europe/London") ?? TimeZone.current
    /// The last job read: the next page starts after it.
    private var cursor: Int64 = 0

    init(
        database: AppDatabase, integration: Integration, since: Timestamp?, customers: Bool,
        style: Sage50AccountReferenceStyle
    ) async throws {
        (self.database, self.integration, self.since, self.customers, self.style) =
            (database, integration, since, customers, style)
        if customers {
            taken = try await database.customerReferencesInUse(integrationID: integration.id)
        } else {
            mappings = try await database.mappings(integrationID: integration.id)
            if let zone = integration.settings["time_zone"]?.stringValue.flatMap(TimeZone.init(identifier:)) {
                timeZone = zone
            }
        }
    }

    /// The file's header row.
    var header: String { Sage50Export.header(customers: customers) }

    /// Records read at once.
    static let pageSize = 500

    /// The next page, or nil once every record is written.
    mutating func next() async throws -> Page? {
        let jobs = try await database.exportJobs(
            integrationID: integration.id, tenantID: integration.tenantID, customers: customers, since: since,
            after: cursor, limit: Self.pageSize)
        guard let last = jobs.last else { return nil }
        cursor = last.seq
        let records = try await database.records(ids: jobs.map(\.recordID), tenantID: integration.tenantID)
        return customers ? customerPage(jobs, records) : try await transactionPage(jobs, records)
    }

    private mutating func customerPage(
        _ jobs: [AppDatabase.ExportJob], _ records: [String: StoredRecord]
    ) -> Page {
        var rows: [(customer: Customer, reference: String)] = []
        var page = Page(text: "", exported: [], refused: [])
        for job in jobs {
            guard let stored = records[job.recordID], stored.action != "void",
                case .customer(let customer)? = try? CanonicalRecord(recordType: .customer, json: stored.data)
            else { continue }
            let kept = stored.links.first { $0.integrationID == integration.id }?.remoteID
            guard let reference = kept ?? style.reference(for: customer, taken: taken) else {
                page.refused.append((stored.localID, "no free A/C is left for \(customer.name)"))
                continue
            }
            taken.insert(reference)
            rows.append((customer, reference))
            page.exported.append(.init(recordID: stored.id, version: job.version, remoteID: reference))
        }
        page.text = Sage50Export.customers(rows, header: false).text
        return page
    }

    private func transactionPage(
        _ jobs: [AppDatabase.ExportJob], _ records: [String: StoredRecord]
    ) async throws -> Page {
        var parsed: [(job: AppDatabase.ExportJob, stored: StoredRecord, record: CanonicalRecord, link: RecordLink?)] =
            []
        var page = Page(text: "", exported: [], refused: [])
        for job in jobs {
            guard let stored = records[job.recordID],
                let recordType = RecordType(rawValue: stored.recordType),
                let record = try? CanonicalRecord(recordType: recordType, json: stored.data)
            else { continue }
            let link = stored.links.first { $0.integrationID == integration.id }
            if link?.status == "exported", let version = link?.localVersion, version < job.version {
                // Each imported row is a new transaction in Sage 50: writing the new version would book the record
                // twice once the earlier file is imported. Sage's audit trail confirms the earlier one first; the
                // change is then made in Sage.
                page.refused.append(
                    (
                        stored.localID,
                        "changed since its export (version \(version)); upload Sage's audit trail, then change it in "
                            + "Sage 50"
                    ))
                continue
            }
            parsed.append((job, stored, record, link))
        }
        let accounts = try await database.customerReferences(
            localIDs: Set(
                parsed.flatMap { $0.record.dependencies.filter { $0.recordType == .customer }.map(\.localID) }),
            integrationID: integration.id, tenantID: integration.tenantID)
        var requests: [PushRequest] = []
        var recordIDs: [RecordReference: (id: String, version: Int)] = [:]
        for (job, stored, record, link) in parsed {
            // A link that is only `exported` has no Sage transaction yet.
            let remoteID = link?.status == "synced" ? link?.remoteID : nil
            requests.append(
                PushRequest(
                    integrationID: integration.id, tenantID: integration.tenantID, localID: stored.localID,
                    version: job.version, action: stored.action == "void" ? .void : remoteID == nil ? .create : .update,
                    record: record, remoteID: remoteID, remoteVersion: link?.remoteVersion, idempotencyKey: job.id,
                    mappings: mappings, references: [:]))
            recordIDs[RecordReference(record.recordType, stored.localID)] = (stored.id, job.version)
        }
        let file = Sage50Export.transactions(requests, accounts: accounts, timeZone: timeZone, header: false)
        page.text = file.text
        page.refused += file.refused
        page.exported = file.written.compactMap { reference in
            recordIDs[reference].map { AppDatabase.ExportedRecord(recordID: $0.id, version: $0.version, remoteID: nil) }
        }
        return page
    }
}
