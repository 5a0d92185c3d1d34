import Accounting
import Connectors
import Foundation
import Hummingbird
import Persistence
import SyncEngine

/// `GET /api/v1/integrations/{id}/gst-summary?from=YYYY-MM-DD&to=YYYY-MM-DD` (Tally integrations): the period's
/// outward supplies by GST rate — taxable value, CGST, SGST, IGST — as Tally's books hold them and as billing's
/// invoices and credit notes say, side by side, with every difference named. What reconciling a GST return starts
/// from. Viewers read it.
struct GSTSummaryController {
    let database: AppDatabase
    let platforms: PlatformAccess

    var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.get("/integrations/{id}/gst-summary", use: show)
        return routes
    }

    @Sendable func show(request: Request, context: AppRequestContext) async throws -> JSONResponse {
        let integration = try await database.integration(from: context, role: .viewer)
        guard integration.platform == .tally else {
            throw Problem(
                status: .conflict, title: "Conflict",
                detail: "a GST summary is read from Tally; integration \(integration.id) is "
                    + integration.platform.rawValue)
        }
        let query = request.uri.queryParameters
        var errors: [FieldError] = []
        let from = query.get("from").flatMap { LocalDate(parsing: String($0)) }
        let to = query.get("to").flatMap { LocalDate(parsing: String($0)) }
        if from == nil { errors.append(FieldError(field: "from", message: "must be a date, YYYY-MM-DD")) }
        if to == nil { errors.append(FieldError(field: "to", message: "must be a date, YYYY-MM-DD")) }
        guard let from, let to, errors.isEmpty else { throw Problem.invalid(errors) }
        guard !(to < from) else { throw Problem.invalid([FieldError(field: "to", message: "must not be before from")]) }
        let settings: TallySettings
        do {
            settings = try TallySettings(integration.settings)
        } catch {
            throw Problem.invalid([FieldError(field: "settings", message: error.message)])
        }
        let books: (summary: TallyGSTSummary, ledgerRates: [String: Decimal])
        do {
            books = try await platforms.using(integration, logger: context.logger) { connector, call in
                guard let tally = connector as? TallyConnector else {
                    throw ConnectorError.validation(code: "no_connector", message: "no Tally connector")
                }
                return try await tally.gstSummary(from: from, to: to, context: call)
            }
        } catch let error as ConnectorError {
            throw Problem(
                status: .badGateway, title: "Bad Gateway", detail: "Tally could not be read: \(error.message)")
        }
        let billing = try await billingSummary(
            of: integration, from: from, to: to, settings: settings, ledgerRates: books.ledgerRates)
        return JSONResponse(
            [
                "integration_id": .string(integration.id), "from": .string(from.description),
                "to": .string(to.description), "books": books.summary.json, "billing": billing.json,
                "differences": .array(TallyGSTSummary.differences(books: books.summary, billing: billing)),
            ])
    }

    /// Billing's invoices and credit notes issued in the period (voided ones left out): each line's amount at the
    /// rate of its tax code's mapped ledgers, its tax split as the connector splits it.
    private func billingSummary(
        of integration: Integration, from: LocalDate, to: LocalDate, settings: TallySettings,
        ledgerRates: [String: Decimal]
    ) async throws -> TallyGSTSummary {
        let mappings = try await database.mappings(integrationID: integration.id)
        var summary = TallyGSTSummary(rows: [])
        var states: [String: String?] = [:]
        for (recordType, sign) in [(RecordType.invoice, Int64(1)), (.creditNote, -1)] {
            var cursor: String?
            repeat {
                let page = try await database.records(
                    tenantID: integration.tenantID, recordType: recordType.rawValue,
                    page: try PageRequest(limit: 500, cursor: cursor))
                for stored in page.items where stored.action != "void" {
                    guard let date = stored.data["issue_date"]?.stringValue.flatMap(LocalDate.init(parsing:)),
                        !(date < from), !(to < date), let customer = stored.data["customer_id"]?.stringValue
                    else { continue }
                    if states[customer] == nil {
                        states[customer] = try await database.records(
                            tenantID: integration.tenantID, recordType: RecordType.customer.rawValue,
                            localID: customer, page: try PageRequest(limit: 1)
                        ).items.first?.data["billing_address"]?["region"]?.stringValue
                    }
                    let party = TallyMapping.Party(guid: "", name: "", state: states[customer] ?? nil)
                    let intra = TallyMapping.isIntraState(party: party, settings: settings)
                    for line in stored.data["lines"]?.arrayValue ?? [] {
                        let amount = Self.paise(line["amount"]) * sign
                        let tax = Self.paise(line["tax_amount"]) * sign
                        let ledgers = line["tax_code"]?.stringValue
                            .flatMap { mappings.remoteID(.taxCode, for: $0) }.flatMap(TallyTaxLedgers.init(mapping:))
                        let rate =
                            ledgers?.igst.flatMap { ledgerRates[$0] }
                            ?? ledgers?.cgst.flatMap { ledgerRates[$0].map { $0 * 2 } } ?? 0
                        if intra {
                            let half = tax / 2
                            summary.add(rate: tax == 0 ? 0 : rate, taxable: amount, cgst: half, sgst: half)
                        } else {
                            summary.add(rate: tax == 0 ? 0 : rate, taxable: amount, igst: tax)
                        }
                    }
                }
                cursor = page.nextCursor
            } while cursor != nil
        }
        return summary
    }

    static func paise(_ value: JSONValue?) -> Int64 {
        guard let text = value?.stringValue, let money = try? Money(parsing: text, currency: Currency(code: "INR")!)
        else { return 0 }
        return money.minorUnits
    }
}
