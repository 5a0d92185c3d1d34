import Accounting
import Connectors
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Persistence

/// `GET /api/v1/integrations/{id}/exports?format=…[&since=RFC 3339 instant]`: a file of the integration's work for a
/// platform (or a moment) without a way in: what would be sent, or was, as the platform's own import file.
///
/// - `tally-xml` (Tally integrations): the ledgers and vouchers of every record not yet confirmed in Tally (no
///   `since`), or of every record whose job changed since `since`, with the `REMOTEID`s the connector uses, so a file
///   loaded by hand and the connector's later writes make one voucher each.
///
/// - `sage50-customers-csv`, `sage50-audit-csv` (Sage 50 integrations): the customer records and the audit trail
///   transactions import files (`Sage50Export`) of every record not exported yet at its latest version (no `since`),
///   or of every record whose job changed since `since`. The records written are marked `exported`, never synced:
///   `POST …/imports` of Sage's own export confirms them (`Sage50ImportsController`).
///
/// Nothing is marked synced by an export; only Tally's answer (or a read-back) confirms a record. Operators download;
/// every download is audited (`integration.exported`).
struct ExportsController {
    let database: AppDatabase
    /// One download at a time per integration (`Components.downloads`): two at once would both hold a record before
    /// either marked it, and Sage 50 would book it twice.
    let downloads: KeyedGates

    var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.get("/integrations/{id}/exports", use: export)
        return routes
    }

    static let formats: [String: Platform] = [
        "tally-xml": .tally, "sage50-customers-csv": .sage50, "sage50-audit-csv": .sage50,
    ]

    @Sendable func export(request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.require(.operator)
        let integration = try await database.integration(from: context, role: .operator)
        let query = request.uri.queryParameters
        let format = query.get("format") ?? ""
        guard let platform = Self.formats[format] else {
            throw Problem.invalid(
                [
                    FieldError(
                        field: "format", message: "must be one of \(Self.formats.keys.sorted().joined(separator: ", "))"
                    )
                ])
        }
        guard platform == integration.platform else {
            throw Problem.invalid(
                [
                    FieldError(
                        field: "format",
                        message: "\(format) is for \(platform.rawValue) integrations; this one is "
                            + integration.platform.rawValue)
                ])
        }
        var since: Timestamp?
        if let text = query.get("since") {
            guard let instant = Timestamp(rfc3339: String(text)) else {
                throw Problem.invalid([FieldError(field: "since", message: "must be an RFC 3339 instant")])
            }
            since = instant
        }
        if platform == .sage50 {
            return try await sage50Export(
                integration: integration, format: format, since: since, actor: principal.actor)
        }
        let settings: TallySettings
        do {
            settings = try TallySettings(integration.settings)
        } catch {
            throw Problem.invalid([FieldError(field: "settings", message: error.message)])
        }
        let work = try await TallyExportWork.gather(database: database, integration: integration, since: since)
        let file = TallyExport.file(work.requests, parties: work.parties, bills: work.bills, settings: settings)
        try await database.recordExport(
            integrationID: integration.id, tenantID: integration.tenantID, format: format, records: file.written,
            actor: principal.actor)
        var headers: HTTPFields = [
            .contentType: settings.encoding.contentType,
            .contentDisposition: "attachment; filename=\"ledgerwire-\(integration.id)-tally.xml\"",
        ]
        var leftOut = LeftOut()
        leftOut.add(file.refused)
        if let names = leftOut.text { headers[LeftOut.header] = names }
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: file.document)))
    }

    /// The records a download leaves out, and why, so a person sees what the file lacks: the first 20 named in the
    /// `Ledgerwire-Left-Out` header, with how many more.
    struct LeftOut {
        static let header = HTTPField.Name("Ledgerwire-Left-Out")!
        private var named: [String] = []
        private var count = 0

        mutating func add(_ refused: [(localID: String, reason: String)]) {
            count += refused.count
            for record in refused.prefix(max(0, 20 - named.count)) {
                named.append("\(record.localID): \(record.reason)")
            }
        }

        /// One line of ASCII, at most 2,000 characters; nil when nothing was left out.
        var text: String? {
            guard count > 0 else { return nil }
            var text = named.joined(separator: "; ")
            if count > named.count { text += "; and \(count - named.count) more" }
            return String(text.prefix(2000).filter { $0.isASCII && $0 != "\n" && $0 != "\r" })
        }
    }
}
