import Accounting
import Connectors
import HTTPTypes
import Hummingbird
import NIOCore
import Persistence

extension ExportsController {
    /// A Sage 50 import file, written a page of records at a time (`Sage50ExportWork`) to a spool file, each page's
    /// records marked `exported` as it is written, then answered from the spool: memory holds a page, whatever the
    /// download's size. The download is audited once, with how many records it holds; records left out are named in
    /// the `Ledgerwire-Left-Out` header (the integration's page lists them too). An integration's downloads go one
    /// at a time: a second one waits for the first, then holds only what the first did not.
    func sage50Export(integration: Integration, format: String, since: Timestamp?, actor: String) async throws
        -> Response
    {
        let style: Sage50AccountReferenceStyle
        do {
            style = try Sage50AccountReferenceStyle(settings: integration.settings)
        } catch {
            throw Problem.invalid([FieldError(field: "settings.account_ref_style", message: "must be name or id")])
        }
        let customers = format == "sage50-customers-csv"
        return try await downloads.run(integration.id) {
            try await writeSage50Export(
                integration: integration, format: format, since: since, customers: customers, style: style,
                actor: actor)
        }
    }

    /// The download itself, under the integration's gate.
    private func writeSage50Export(
        integration: Integration, format: String, since: Timestamp?, customers: Bool,
        style: Sage50AccountReferenceStyle, actor: String
    ) async throws -> Response {
        var work = try await Sage50ExportWork(
            database: database, integration: integration, since: since, customers: customers, style: style)
        let spool = try SpoolFile()
        try await spool.append(work.header)
        var held = 0
        var leftOut = ExportsController.LeftOut()
        do {
            while let page = try await work.next() {
                try await spool.append(page.text)
                try await database.markExported(page.exported, integrationID: integration.id)
                held += page.exported.count
                leftOut.add(page.refused)
            }
        } catch {
            // What was marked before the failure is the download's too: audited, then the problem answered.
            if held > 0 {
                try? await database.recordExport(
                    integrationID: integration.id, tenantID: integration.tenantID, format: format, records: held,
                    actor: actor)
            }
            throw error
        }
        try await database.recordExport(
            integrationID: integration.id, tenantID: integration.tenantID, format: format, records: held, actor: actor)
        var headers: HTTPFields = [
            .contentType: "text/csv; charset=utf-8",
            .contentDisposition:
                "attachment; filename=\"ledgerwire-\(integration.id)-\(customers ? "customers" : "transactions").csv\"",
        ]
        if let names = leftOut.text { headers[LeftOut.header] = names }
        let size = try spool.size()
        return Response(
            status: .ok, headers: headers,
            body: ResponseBody(contentLength: size) { writer in
                try await spool.write(to: &writer)
                try await writer.finish(nil)
            })
    }
}
