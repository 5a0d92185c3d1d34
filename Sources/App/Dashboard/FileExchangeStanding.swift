import Accounting
import Connectors
import Persistence

/// Where a Sage 50 integration's work stands, in words. Sage 50 has no API, so no connector claims its jobs: they stay
/// `pending` until a download holds their record (its link `exported`) and Sage 50's own audit trail confirms it
/// (`synced`, the jobs `succeeded`). "pending" would say that for ever; this says which of the two steps each record
/// waits for. Jobs that failed, died or wait for a mapping keep their own status everywhere.
struct FileExchangeStanding: Sendable, Hashable {
    /// Records with work no download holds yet.
    var waitingForExport = 0
    /// Records downloaded and not yet confirmed by Sage 50's audit trail.
    var awaitingImport = 0
    /// Records the next download would leave out, and why: a failure to put right, not something waiting. Worked out
    /// only while at most `leftOutCheckLimit` records wait for the export.
    var leftOut: [LeftOut] = []

    static let openStatuses: [Job.Status] = [.pending, .running, .awaitingPlatform]

    /// The standing of `integration`'s records (its links and its open jobs, one record counted once), and what the
    /// next download would leave out.
    static func read(_ database: AppDatabase, integration: Integration) async throws -> Self {
        let counts = try await database.fileExchangeCounts(integrationID: integration.id)
        var standing = Self(waitingForExport: counts.waitingForExport, awaitingImport: counts.awaitingImport)
        if standing.waitingForExport > 0, standing.waitingForExport <= leftOutCheckLimit {
            standing.leftOut = try await leftOut(database, integration: integration)
        }
        return standing
    }

    /// A record the next download would leave out, and why (a code not mapped, a currency Sage 50 does not take).
    struct LeftOut: Sendable, Hashable {
        var localID: String
        var reason: String
    }

    /// Up to this many records waiting, the pages work out what the next download leaves out (as many record reads).
    static let leftOutCheckLimit = 1_000

    /// What the next downloads (customers, then transactions) would leave out: worked out as the download does, but
    /// nothing is marked. Only a real failure to write a record is here, never a record merely waiting.
    static func leftOut(_ database: AppDatabase, integration: Integration) async throws -> [LeftOut] {
        let style = (try? Sage50AccountReferenceStyle(settings: integration.settings)) ?? .name
        var found: [LeftOut] = []
        for customers in [true, false] {
            var work = try await Sage50ExportWork(
                database: database, integration: integration, since: nil, customers: customers, style: style)
            while let page = try await work.next() {
                found += page.refused.map { LeftOut(localID: $0.localID, reason: $0.reason) }
            }
        }
        return found
    }

    /// The status a person reads instead of `pending`.
    var status: String {
        waitingForExport > 0 ? "waiting for the export" : awaitingImport > 0 ? "awaiting the import" : "up to date"
    }

    /// The status's colour: red while a download would leave a record out, amber while something waits, green when
    /// Sage 50 holds everything.
    var statusClass: String {
        !leftOut.isEmpty ? "failed" : waitingForExport > 0 || awaitingImport > 0 ? "pending" : "connected"
    }

    /// "3 records waiting for the next Sage 50 export; 4 exported to Sage 50, awaiting the import".
    var summary: String {
        var parts: [String] = []
        if waitingForExport > 0 {
            parts.append(
                "\(Self.records(waitingForExport)) waiting for the next Sage 50 export")
        }
        if awaitingImport > 0 {
            parts.append("\(Self.records(awaitingImport)) exported to Sage 50, awaiting the import")
        }
        if !leftOut.isEmpty {
            parts.append("the next download leaves out \(Self.records(leftOut.count)) until put right")
        }
        return parts.isEmpty ? "Sage 50 holds every record: nothing waits for a file" : parts.joined(separator: "; ")
    }

    static func records(_ count: Int) -> String { count == 1 ? "1 record" : "\(count) records" }

    // MARK: One record

    /// Where one record stands in a Sage 50 integration, from its link (`nil`: never downloaded).
    static func standing(_ link: RecordLink?, recordType: String) -> String {
        let account = recordType == RecordType.customer.rawValue
        switch link?.status {
        case nil: return "waiting for the next Sage 50 export"
        case "exported":
            let named = account ? link?.remoteID.map { " as A/C \($0)" } ?? "" : ""
            return "exported to Sage 50\(named), awaiting the import"
        case "synced":
            // Sage 50 numbers each transaction; a customer is known by its A/C.
            guard let remoteID = link?.remoteID else { return "in the books" }
            return "in the books as \(account ? "A/C" : "transaction") \(remoteID)"
        case "excluded": return "excluded from the sync"
        case "deleted": return "deleted in the books"
        default: return "waiting for the next Sage 50 export"
        }
    }

    /// What one of its open jobs waits for, given its record's link.
    static func jobStanding(_ job: Job, link: AppDatabase.LinkState?) -> (status: String, message: String)? {
        guard openStatuses.contains(job.status) else { return nil }
        if let link, link.status == "exported", let version = link.version, version < job.version {
            return (
                "awaiting the import",
                "Changed since its export (version \(version)): Sage 50's audit trail must confirm the version "
                    + "exported first."
            )
        }
        if link?.status == "exported" {
            return (
                "awaiting the import",
                "Exported to Sage 50, awaiting the import: upload Sage 50's audit trail on the integration's page."
            )
        }
        return (
            "waiting for the export",
            "Waiting for the next Sage 50 export: download the files on the integration's page."
        )
    }
}
