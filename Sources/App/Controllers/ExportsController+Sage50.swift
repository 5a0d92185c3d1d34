import Accounting
import Connectors
import HTTPTypes
import Hummingbird
import NIOCore
import Persistence

extension ExportsController {
    /// A Sage 50 import file: its records marked `exported` and the download audited in one transaction.
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
        let work = try await Sage50ExportWork.gather(
            database: database, integration: integration, since: since, customers: customers, style: style)
        try await database.markExported(
            work.exported, integrationID: integration.id, tenantID: integration.tenantID, format: format,
            actor: actor)
        var headers: HTTPFields = [
            .contentType: "text/csv; charset=utf-8",
            .contentDisposition:
                "attachment; filename=\"ledgerwire-\(integration.id)-\(customers ? "customers" : "transactions").csv\"",
        ]
        if !work.file.refused.isEmpty {
            // Records left out, and why, so a person sees what the file lacks.
            let names = work.file.refused.prefix(20).map { "\($0.localID): \($0.reason)" }.joined(separator: "; ")
            headers[HTTPTypes.HTTPField.Name("Ledgerwire-Left-Out")!] = String(
                names.prefix(2000).filter { $0.isASCII && $0 != "\n" && $0 != "\r" })
        }
        return Response(
            status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: work.file.text)))
    }
}
