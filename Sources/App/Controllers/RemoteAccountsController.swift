import Accounting
import Connectors
import Hummingbird
import Persistence
import SyncEngine

/// `GET /api/v1/integrations/{id}/remote-accounts`: the platform's chart of accounts, tax codes and items, read from
/// the platform, with a suggested mapping for each code billing uses (its records', and `?codes=` given): by account
/// number first, then by name.
struct RemoteAccountsController {
    let database: AppDatabase
    let platforms: PlatformAccess

    var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.get("/integrations/{id}/remote-accounts", use: show)
        return routes
    }

    @Sendable func show(request: Request, context: AppRequestContext) async throws -> JSONResponse {
        let integration = try await database.integration(from: context, role: .viewer)
        let chart: RemoteChart
        do {
            chart = try await platforms.remoteChart(of: integration, logger: context.logger)
        } catch let error as ConnectorError {
            throw Problem(
                status: .badGateway, title: "Bad Gateway",
                detail: "\(integration.platform.rawValue) could not be read: \(error.message)")
        }
        var codes = try await database.billingCodes(tenantID: integration.tenantID)
        for code in (request.uri.queryParameters.get("codes") ?? "").split(separator: ",") {
            for kind in CodeMappings.Kind.allCases { codes[kind, default: []].insert(String(code)) }
        }
        let mappings = try await database.mappings(integrationID: integration.id)
        var suggested: [String: JSONValue] = [:]
        for (kind, key, entries) in [
            (CodeMappings.Kind.account, "accounts", chart.accounts), (.taxCode, "tax_codes", chart.taxCodes),
            (.item, "items", chart.items), (.depositAccount, "deposit_accounts", chart.accounts),
        ] {
            var byCode: [String: JSONValue] = [:]
            for code in (codes[kind] ?? []).sorted() {
                guard let (entry, basis) = Self.suggest(code, in: entries.filter(\.active)) else { continue }
                byCode[code] = [
                    "remote_id": .string(entry.id), "name": .string(entry.name), "by": .string(basis),
                    "mapped_to": mappings[kind][code].map(JSONValue.string) ?? .null,
                ]
            }
            suggested[key] = .object(byCode)
        }
        func list(_ entries: [RemoteChart.Entry]) -> JSONValue {
            .array(
                entries.map {
                    [
                        "id": .string($0.id), "name": .string($0.name), "code": $0.code.map(JSONValue.string) ?? .null,
                        "active": .bool($0.active),
                    ]
                })
        }
        return JSONResponse([
            "integration_id": .string(integration.id), "accounts": list(chart.accounts),
            "tax_codes": list(chart.taxCodes), "items": list(chart.items), "suggested_mappings": .object(suggested),
        ])
    }

    /// The entry billing's `code` most likely means: the one whose number is the code's leading number
    /// (`4000-TUITION` → account 4000), else the one whose name holds the code's words (`GST18` → "GST 18%",
    /// `4100-TRANSPORT` → "Transport Income").
    static func suggest(_ code: String, in entries: [RemoteChart.Entry]) -> (RemoteChart.Entry, String)? {
        let number = code.prefix(while: \.isNumber)
        if !number.isEmpty, let entry = entries.first(where: { $0.code == String(number) || $0.code == code }) {
            return (entry, "number")
        }
        func squeezed(_ text: some StringProtocol) -> String { text.lowercased().filter { $0.isLetter || $0.isNumber } }
        let words = code.split(whereSeparator: { !$0.isLetter && !$0.isNumber }).map(squeezed)
            .filter { !$0.isEmpty && !$0.allSatisfy(\.isNumber) }
        let whole = squeezed(code)
        if let entry = entries.first(where: { squeezed($0.name) == whole }) { return (entry, "name") }
        if !words.isEmpty,
            let entry = entries.first(where: { entry in words.allSatisfy { squeezed(entry.name).contains($0) } })
        {
            return (entry, "name")
        }
        return nil
    }
}
