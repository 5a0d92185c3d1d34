import Accounting
import Connectors
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Persistence
import SyncEngine

/// `POST /api/v1/integrations/{id}/imports` (operator): a Sage 50 integration's read-back. Takes Sage 50's audit
/// trail export or its customer list as the body (`text/csv`) or as the multipart field `file` (API.md, "Sage
/// specifics"), and answers what it did:
///
/// - rows carrying Ledgerwire's key confirm the records exported (`synced`, Sage's transaction number as remote id,
///   their jobs `succeeded`), and the customers whose A/C they are on; a customer list confirms the customers
///   exported under their A/C;
/// - documents and receipts as Sage holds them go through the engine's change handling (`Sage50ReadBack`), so an
///   invoice changed in Sage is `ledger.invoice.changed` and a receipt typed in Sage `ledger.payment.recorded`, with
///   the conflict policy and the echo rules of every platform;
/// - every other row is listed in `unknown`, never guessed at.
///
/// A file that is not a Sage 50 export, or that has a value Sage does not write, is refused whole with a 422 naming
/// the row (the header is row 1) and the column, and nothing changes. Every upload is audited
/// (`integration.imported`).
struct Sage50ImportsController {
    let database: AppDatabase

    /// The largest upload: a year of a school's audit trail is far smaller.
    static let maximumBytes = 16 << 20

    var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.post("/integrations/{id}/imports", use: upload)
        return routes
    }

    @Sendable func upload(request: Request, context: AppRequestContext) async throws -> Response {
        try Self.answer(await read(request, context: context))
    }

    /// Reads the upload and applies it; the answer: `kind`, `rows`, `confirmed`, `changes` and the `unknown` rows.
    func read(_ request: Request, context: AppRequestContext) async throws -> JSONValue {
        let principal = try context.require(.operator)
        let integration = try await database.integration(from: context, role: .operator)
        guard integration.platform == .sage50 else {
            throw Problem.invalid(
                [
                    FieldError(
                        field: "integration",
                        message: "imports are for sage_50 integrations; this one is \(integration.platform.rawValue)")
                ])
        }
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: Self.maximumBytes)
        } catch {
            throw Problem(
                status: .contentTooLarge, title: "Content Too Large",
                detail: "the upload is more than \(Self.maximumBytes >> 20) MiB")
        }
        let text = try Self.csv(in: Data(buffer.readableBytesView), contentType: request.headers[.contentType] ?? "")
        let upload: Sage50Upload
        do {
            upload = try Sage50Upload.read(text)
        } catch {
            throw Self.refusal(error)
        }
        let now = Timestamp.now()
        let links = try await database.linkStates(integrationID: integration.id)
        switch upload {
        case .customers(let customers):
            var byReference: [String: AppDatabase.LinkState] = [:]
            for link in links.values where link.recordType == RecordType.customer.rawValue {
                if let reference = link.remoteID { byReference[reference] = link }
            }
            var confirmations: [AppDatabase.ConfirmedRecord] = []
            var unknown: [JSONValue] = []
            for customer in customers {
                guard let link = byReference[customer.reference] else {
                    unknown.append(
                        Self.unknown(row: customer.row, reference: customer.reference, "an A/C billing does not know"))
                    continue
                }
                if link.status == "exported" {
                    confirmations.append(
                        .init(recordID: link.recordID, remoteID: customer.reference, remoteVersion: nil))
                }
            }
            let confirmed = try await database.confirmImported(
                confirmations, integrationID: integration.id, tenantID: integration.tenantID,
                summary: ["kind": "customers", "rows": .number(String(customers.count))], actor: principal.actor,
                at: now)
            return [
                "kind": "customers", "rows": .number(String(customers.count)),
                "confirmed": .number(String(confirmed)), "changes": 0, "unknown": .array(unknown),
            ]
        case .auditTrail(let lines):
            var known: [String: Sage50ReadBack.Known] = [:]
            var accounts: Set<String> = []
            for link in links.values where link.status == "exported" || link.status == "synced" {
                guard let recordType = RecordType(rawValue: link.recordType) else { continue }
                if recordType == .customer {
                    if let reference = link.remoteID { accounts.insert(reference) }
                    continue
                }
                let key = Sage50Export.key(
                    tenantID: integration.tenantID, recordType: recordType, localID: link.localID)
                known[key] = .init(
                    recordID: link.recordID, recordType: recordType, localID: link.localID, status: link.status,
                    remoteID: link.remoteID)
            }
            let readBack = Sage50ReadBack(lines: lines, known: known, accounts: accounts, at: now)
            var confirmations = readBack.confirmations.map {
                AppDatabase.ConfirmedRecord(
                    recordID: $0.recordID, remoteID: $0.remoteID, remoteVersion: $0.remoteVersion)
            }
            // Sage 50 refuses a transaction for an account it does not hold, so Ledgerwire's own row on an A/C
            // proves the customer record was imported too.
            var exportedCustomers: [String: String] = [:]
            for link in links.values
            where link.recordType == RecordType.customer.rawValue && link.status == "exported" {
                if let reference = link.remoteID { exportedCustomers[reference] = link.recordID }
            }
            var provenAccounts: Set<String> = []
            for line in lines where !line.isDeleted && known[line.extraReference] != nil {
                provenAccounts.insert(line.account)
            }
            for reference in provenAccounts.sorted() {
                if let recordID = exportedCustomers[reference] {
                    confirmations.append(.init(recordID: recordID, remoteID: reference, remoteVersion: nil))
                }
            }
            let confirmed = try await database.confirmImported(
                confirmations, integrationID: integration.id, tenantID: integration.tenantID,
                summary: [
                    "kind": "audit_trail", "rows": .number(String(lines.count)),
                    "unknown": .number(String(readBack.unknown.count)),
                ], actor: principal.actor, at: now)
            var handled = LedgerChangeSummary()
            if !readBack.changes.isEmpty {
                try await database.recordLedgerChanges(
                    integrationID: integration.id, readBack.changes, source: "sage50_import", at: now)
                handled = try await database.processLedgerChanges(integrationID: integration.id, at: now)
            }
            return [
                "kind": "audit_trail", "rows": .number(String(lines.count)),
                "confirmed": .number(String(confirmed)),
                "changes": .number(String(handled.applied + handled.conflicts)),
                "unknown": .array(
                    readBack.unknown.map {
                        [
                            "row": .number(String($0.row)), "number": .number(String($0.number)),
                            "reason": .string($0.reason),
                        ]
                    }),
            ]
        }
    }

    static func unknown(row: Int, reference: String, _ reason: String) -> JSONValue {
        ["row": .number(String(row)), "reference": .string(reference), "reason": .string(reason)]
    }

    static func answer(_ json: JSONValue) throws -> Response {
        Response(
            status: .ok, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: json.canonicalBytes)))
    }

    /// A 422 naming the row and the column.
    static func refusal(_ error: Sage50ReadError) -> Problem {
        let place = error.column.map { "row \(error.row), column \($0)" } ?? "row \(error.row)"
        var problem = Problem.invalid(
            [FieldError(field: "file", message: "\(place): \(error.message)")],
            detail: "the file is not a Sage 50 export Ledgerwire can read (\(place)); nothing was imported")
        problem.extensions["row"] = .number(String(error.row))
        problem.extensions["column"] = error.column.map(JSONValue.string) ?? .null
        return problem
    }

    /// The CSV text of the body: the whole body (`text/csv`), or the multipart field `file`. Sage 50 writes
    /// Windows-1252 ("Sage 50 UK uses ANSI encoding by default"), so a body that is not UTF-8 is read as that.
    static func csv(in body: Data, contentType: String) throws -> String {
        var bytes = body
        let lowered = contentType.lowercased()
        if lowered.hasPrefix("multipart/form-data") {
            guard let boundary = MultipartFormData.boundary(ofContentType: contentType),
                let part = MultipartFormData.part(named: "file", in: Array(body), boundary: boundary)
            else {
                throw Problem.invalid([FieldError(field: "file", message: "the multipart body has no field named file")]
                )
            }
            bytes = Data(part)
        } else if !lowered.hasPrefix("text/csv") && !lowered.hasPrefix("text/plain") && !lowered.isEmpty {
            throw Problem(
                status: .unsupportedMediaType, title: "Unsupported Media Type",
                detail: "send the CSV as text/csv or as the multipart field file")
        }
        if let text = String(data: bytes, encoding: .utf8) {
            return text.hasPrefix("\u{FEFF}") ? String(text.dropFirst()) : text
        }
        return String(data: bytes, encoding: .windowsCP1252) ?? ""
    }
}
