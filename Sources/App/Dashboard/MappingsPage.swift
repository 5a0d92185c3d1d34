import Accounting
import Connectors
import Hummingbird
import Persistence
import SyncEngine

/// `/integrations/{id}/mappings`: the mapping editor. Every code billing uses with the integration (revenue accounts,
/// tax codes, deposit accounts, items by course), each with a choice of the platform's entries of the right kind,
/// the suggestion preselected and why it was suggested; codes billing's records need are marked required, and codes
/// holding jobs are highlighted with how many. Saving goes through the API's own checks (every id must be in the
/// platform's chart and of the mapping's kind), is audited, and resumes the parked jobs.
struct MappingsPage {
    let database: AppDatabase
    let renderer: DashboardRenderer
    let api: MappingsController
    let accounts: RemoteAccountsController

    var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.get("/integrations/{id}/mappings", use: show)
        routes.post("/integrations/{id}/mappings", use: save)
        return routes
    }

    struct View: Sendable {
        var integrationID: String
        var integrationName: String
        var platform: String
        /// Why the platform's entries could not be listed, when they could not.
        var chartProblem: String?
        var kinds: [KindView]
        /// How many of the integration's jobs are held for a mapping; `nil` when none are.
        var held: Int?
        var heldOne: Bool
    }

    struct KindView: Sendable {
        var title: String
        var rows: [RowView]
    }

    struct RowView: Sendable {
        var code: String
        var field: String
        var fieldID: String
        var options: [OptionView]
        var reason: String?
        var required: Bool
        /// How many parked jobs wait for this code; `nil` when none do.
        var held: Int?
    }

    struct OptionView: Sendable {
        var value: String
        var label: String
        var selected: Bool
    }

    static let fieldPrefix = "mapping."

    @Sendable func show(request: Request, context: AppRequestContext) async throws -> Response {
        let integration = try await database.integration(from: context, role: .viewer)
        let notice = request.uri.queryParameters.get("resumed").flatMap(Int.init).map { resumed in
            "Mappings saved. " + (resumed == 1 ? "1 held job was resumed." : "\(resumed) held jobs were resumed.")
        }
        return try renderer.response(
            Screen(
                "mappings", title: "Mappings · \(integration.name)", section: .overview, context: context,
                notice: notice, page: try await view(of: integration, context: context)))
    }

    @Sendable func save(request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.require(.operator)
        let integration = try await database.integration(from: context, role: .operator)
        let kinds = api.kinds(of: integration)
        var changes: [CodeMappings.Kind: [String: String?]] = [:]
        for (name, value) in context.form where name.hasPrefix(Self.fieldPrefix) {
            let path = name.dropFirst(Self.fieldPrefix.count)
            guard let dot = path.firstIndex(of: "."), let kind = CodeMappings.Kind(member: String(path[..<dot])),
                kinds.contains(kind)
            else { continue }
            let code = String(path[path.index(after: dot)...])
            changes[kind, default: [:]][code] = value.isEmpty ? String?.none : value
        }
        _ = try await api.validate(changes, of: integration, logger: context.logger)
        let saved = try await database.changeMappings(integrationID: integration.id, changes, actor: principal.actor)
        return Response(
            status: .seeOther,
            headers: [.location: "/integrations/\(integration.id)/mappings?resumed=\(saved.resumedJobs)"])
    }

    private func view(of integration: Integration, context: AppRequestContext) async throws -> View {
        let current = try await database.mappings(integrationID: integration.id)
        let codes = try await accounts.codesInUse(by: integration)
        let parked = try await database.parkedCodeCounts(integrationID: integration.id)
        let held = parked.codes
        var chart: RemoteChart?
        var chartProblem: String?
        if integration.status == .connected {
            do {
                chart = try await accounts.platforms.remoteChart(of: integration, logger: context.logger)
            } catch let error as ConnectorError {
                chartProblem =
                    "\(integration.platform.displayName) could not be read just now (\(error.message)), so its "
                    + "accounts cannot be offered. Try again in a moment."
            }
        } else {
            chartProblem =
                "This integration is \(integration.status.rawValue), so \(integration.platform.displayName)'s "
                + "accounts cannot be listed. Connect it first."
        }
        let suggestions = chart.map {
            RemoteAccountsController.suggestions(codes: codes, current: current, chart: $0).1
        }
        var kindViews: [KindView] = []
        for (kindIndex, kind) in CodeMappings.Kind.wellKnown.enumerated()
        where api.kinds(of: integration).contains(kind) {
            let choices = chart?.choices(for: kind) ?? []
            let needed = codes[kind] ?? []
            let rows = needed.union(current[kind].keys).union((held[kind] ?? [:]).keys).sorted().enumerated().map {
                index, code in
                let suggestion = suggestions?[kind]?[code]
                let selected = current[kind][code] ?? suggestion?.entry.id
                var options = [OptionView(value: "", label: "— not mapped —", selected: selected == nil)]
                options += choices.map { entry in
                    OptionView(
                        value: entry.id, label: entry.code.map { "\($0) · \(entry.name)" } ?? entry.name,
                        selected: entry.id == selected)
                }
                if let selected, !choices.contains(where: { $0.id == selected }) {
                    options.append(
                        OptionView(value: selected, label: "\(selected) (not in the books' list)", selected: true))
                }
                return RowView(
                    code: code, field: Self.fieldPrefix + kind.member + "." + code,
                    fieldID: "map-\(kindIndex)-\(index)",
                    options: options, reason: suggestion.flatMap { Self.reason($0, current: current[kind][code]) },
                    required: needed.contains(code), held: held[kind]?[code])
            }
            kindViews.append(KindView(title: kind.title, rows: rows))
        }
        return View(
            integrationID: integration.id, integrationName: integration.name,
            platform: integration.platform.displayName, chartProblem: chartProblem, kinds: kindViews,
            held: parked.jobs.nonZero, heldOne: parked.jobs == 1)
    }

    /// Why the preselected entry was proposed, in words; nothing when the code is already mapped to it.
    static func reason(_ suggestion: RemoteAccountsController.Suggestion, current: String?) -> String? {
        guard current == nil else { return nil }
        return switch suggestion.basis {
        case "number": "Suggested: its account number matches the code."
        case "name": "Suggested: its name matches the code."
        case "income_account": "Suggested: its income account is the revenue account suggested above."
        case "only_choice": "Suggested: it is the only one."
        default: nil
        }
    }
}

extension Int {
    /// The number, or `nil` when it is zero (a template section shows only what is there).
    var nonZero: Int? { self == 0 ? nil : self }
}
