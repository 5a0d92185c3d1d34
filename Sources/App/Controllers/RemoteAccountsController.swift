import Accounting
import Connectors
import Hummingbird
import Persistence
import SyncEngine

/// `GET /api/v1/integrations/{id}/remote-accounts`: the platform's chart of accounts, tax codes and items, read from
/// the platform, each entry with its type and the mappings it can be the target of; the `choices` for each kind of
/// mapping; and `suggested_mappings`, in the very shape `PUT`/`PATCH …/mappings` take, proposing only entries of the
/// right kind.
///
/// Suggestions cover the codes billing uses (its records' current versions, the codes the integration's parked jobs
/// wait for, and `?codes=` given) and the default item where the platform needs items: a code already mapped to a
/// fitting entry keeps it; else by account number first, then by name; the default item (`"*"`) is the one whose
/// income account is a suggested revenue account (or the only item).
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
        var codes = try await codesInUse(by: integration)
        for code in (request.uri.queryParameters.get("codes") ?? "").split(separator: ",") {
            for kind in CodeMappings.Kind.wellKnown { codes[kind, default: []].insert(String(code)) }
        }
        let current = try await database.mappings(integrationID: integration.id)
        let (suggested, details) = Self.suggestions(codes: codes, current: current, chart: chart)
        let explained = details.mapValues { suggestions in JSONValue.object(suggestions.mapValues(\.json)) }
        var choices: [String: JSONValue] = [:]
        for kind in CodeMappings.Kind.wellKnown {
            choices[kind.member] = .array(chart.choices(for: kind).map(\.json))
        }
        return JSONResponse([
            "integration_id": .string(integration.id), "accounts": .array(chart.accounts.map(\.json)),
            "tax_codes": .array(chart.taxCodes.map(\.json)), "items": .array(chart.items.map(\.json)),
            "choices": .object(choices), "suggested_mappings": suggested.json,
            "suggestion_details": .object(
                Dictionary(uniqueKeysWithValues: CodeMappings.Kind.wellKnown.map { ($0.member, explained[$0] ?? [:]) })),
        ])
    }

    /// The codes billing uses with `integration`, by kind: its records' current versions', the codes its parked jobs
    /// wait for, and the default item where the platform needs items.
    func codesInUse(by integration: Integration) async throws -> [CodeMappings.Kind: Set<String>] {
        var codes = try await database.billingCodes(tenantID: integration.tenantID)
        for (kind, parked) in try await database.parkedCodes(integrationID: integration.id) {
            codes[kind, default: []].formUnion(parked)
        }
        let kinds = platforms.connectors[integration.platform]?.capabilities.mappingKinds ?? CodeMappings.commonKinds
        if kinds.contains(.item) { codes[.item, default: []].insert(CodeMappings.fallbackCode) }
        return codes
    }

    /// Why an entry was proposed for a code.
    struct Suggestion: Sendable {
        var entry: RemoteChart.Entry
        /// `mapped` (already mapped to it), `number`, `name`, `income_account`, `only_choice`.
        var basis: String
        /// What the code is mapped to now, if anything.
        var mappedTo: String?

        /// `{remote_id, name, by, mapped_to}`.
        var json: JSONValue {
            [
                "remote_id": .string(entry.id), "name": .string(entry.name), "by": .string(basis),
                "mapped_to": mappedTo.map(JSONValue.string) ?? .null,
            ]
        }
    }

    /// A mapping for every code it can place, in `PUT`'s shape, and why each was proposed, by kind and code.
    static func suggestions(
        codes: [CodeMappings.Kind: Set<String>], current: CodeMappings, chart: RemoteChart
    ) -> (CodeMappings, [CodeMappings.Kind: [String: Suggestion]]) {
        var suggested = CodeMappings()
        var details: [CodeMappings.Kind: [String: Suggestion]] = [:]
        // Items last: the default item follows the revenue accounts proposed.
        for kind in [CodeMappings.Kind.account, .taxCode, .depositAccount, .item] {
            let choices = chart.choices(for: kind)
            var explained: [String: Suggestion] = [:]
            for code in (codes[kind] ?? []).union(current[kind].keys).sorted() {
                let mapped = current[kind][code]
                let found: (RemoteChart.Entry, String)?
                if let mapped, let entry = choices.first(where: { $0.id == mapped }) {
                    found = (entry, "mapped")
                } else if kind == .item, code == CodeMappings.fallbackCode {
                    found = defaultItem(in: choices, accounts: suggested.accounts)
                } else {
                    found = suggest(code, in: choices)
                }
                guard let (entry, basis) = found else { continue }
                suggested[kind][code] = entry.id
                explained[code] = Suggestion(entry: entry, basis: basis, mappedTo: mapped)
            }
            details[kind] = explained
        }
        return (suggested, details)
    }

    /// The item for lines without a course of their own: one whose income account is a revenue account proposed
    /// (taken in the order of billing's codes), else the only item there is.
    static func defaultItem(
        in choices: [RemoteChart.Entry], accounts: [String: String]
    ) -> (RemoteChart.Entry, String)? {
        for (_, account) in accounts.sorted(by: { $0.key < $1.key }) {
            if let item = choices.first(where: { $0.incomeAccountID == account }) { return (item, "income_account") }
        }
        return choices.count == 1 ? (choices[0], "only_choice") : nil
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

extension RemoteChart.Entry {
    /// As `remote-accounts` lists it: `{id, name, code, active, type, classification, sub_type, income_account_id,
    /// mappable_as[]}` (`mappable_as`: the mappings' members it can be the target of).
    var json: JSONValue {
        [
            "id": .string(id), "name": .string(name), "code": code.map(JSONValue.string) ?? .null,
            "active": .bool(active), "type": type.map(JSONValue.string) ?? .null,
            "classification": classification.map(JSONValue.string) ?? .null,
            "sub_type": subType.map(JSONValue.string) ?? .null,
            "income_account_id": incomeAccountID.map(JSONValue.string) ?? .null,
            "mappable_as": .array(uses.sorted().map { .string($0.member) }),
        ]
    }
}
