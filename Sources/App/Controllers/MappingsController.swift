import Accounting
import Connectors
import Hummingbird
import Logging
import Persistence
import SyncEngine

/// `/api/v1/integrations/{id}/mappings`: billing's codes (revenue accounts, tax codes, courses, deposit accounts)
/// mapped to the platform's ids, `{accounts{code: id}, tax_codes{…}, items{…}, deposit_accounts{…}}`.
///
/// `PUT` replaces the whole mapping: a code left out is no longer mapped, and the answer lists what that removed.
/// `PATCH` merges: a code given an id is mapped to it, a code given `null` is no longer mapped, the others stay.
/// Each id given is checked against the platform's chart (the `remote-accounts` call): it must be there, active,
/// and of the mapping's kind (an income account, a deposit account, a tax code, a service item); a wrong one is a
/// 422 naming `mappings.<kind>.<code>`. An integration not connected cannot be asked: its ids are saved unchecked
/// and the answer says `validated: false`. Operators save; viewers read; every save is audited and resumes the
/// jobs parked for a mapping.
struct MappingsController {
    let database: AppDatabase
    let platforms: PlatformAccess

    var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.get("/integrations/{id}/mappings", use: show)
        routes.put("/integrations/{id}/mappings", use: replace)
        routes.patch("/integrations/{id}/mappings", use: merge)
        return routes
    }

    @Sendable func show(request: Request, context: AppRequestContext) async throws -> JSONResponse {
        let integration = try await database.integration(from: context, role: .viewer)
        return JSONResponse(try await database.mappings(integrationID: integration.id).json)
    }

    @Sendable func replace(request: Request, context: AppRequestContext) async throws -> JSONResponse {
        let principal = try context.require(.operator)
        let integration = try await database.integration(from: context, role: .operator)
        var request = request
        let changes = try Self.changes(
            try await request.jsonObject(context: context), removals: false, kinds: kinds(of: integration))
        var mappings = CodeMappings()
        for (kind, codes) in changes {
            for (code, remoteID) in codes { mappings[kind][code] = remoteID }
        }
        let validation = try await validate(changes, of: integration, logger: context.logger)
        let saved = try await database.replaceMappings(integrationID: integration.id, mappings, actor: principal.actor)
        var removed = CodeMappings()
        for kind in saved.before.kinds {
            removed[kind] = saved.before[kind].filter { saved.after[kind][$0.key] == nil }
        }
        return JSONResponse(Self.answer(saved, validation: validation, removed: removed))
    }

    @Sendable func merge(request: Request, context: AppRequestContext) async throws -> JSONResponse {
        let principal = try context.require(.operator)
        let integration = try await database.integration(from: context, role: .operator)
        var request = request
        let changes = try Self.changes(
            try await request.jsonObject(context: context), removals: true, kinds: kinds(of: integration))
        let validation = try await validate(changes, of: integration, logger: context.logger)
        let saved = try await database.changeMappings(integrationID: integration.id, changes, actor: principal.actor)
        return JSONResponse(Self.answer(saved, validation: validation, removed: nil))
    }

    /// The kinds of mapping the integration's platform uses (`ConnectorCapabilities.mappingKinds`); the well-known
    /// ones for a platform this server has no connector for.
    func kinds(of integration: Integration) -> Set<CodeMappings.Kind> {
        platforms.connectors[integration.platform]?.capabilities.mappingKinds ?? Set(CodeMappings.Kind.wellKnown)
    }

    /// The body's mappings by kind; `null` (no longer mapped) only where `removals` are taken. A member of a kind the
    /// platform does not use (`kinds`) is refused unless it is empty (the four members of the documented shape may
    /// always be sent).
    static func changes(
        _ object: [String: JSONValue], removals: Bool, kinds: Set<CodeMappings.Kind>
    ) throws -> [CodeMappings.Kind: [String: String?]] {
        let diagnostics = Diagnostics()
        var changes: [CodeMappings.Kind: [String: String?]] = [:]
        let used = kinds.sorted().map(\.member).joined(separator: ", ")
        for member in object.keys.sorted() {
            let value = object[member] ?? .null
            guard let kind = CodeMappings.Kind(member: member),
                kinds.contains(kind) || (CodeMappings.Kind.wellKnown.contains(kind) && value == .object([:]))
            else {
                diagnostics.add(
                    "mappings.\(member)", "is not a kind of mapping this integration's platform uses (\(used))")
                continue
            }
            guard case .object(let entries) = value else {
                diagnostics.add("mappings.\(kind.member)", "must be an object of billing code to platform id")
                continue
            }
            var codes: [String: String?] = [:]
            for (code, remote) in entries {
                let field = "mappings.\(kind.member).\(code)"
                if remote == .null {
                    if removals {
                        codes[code] = String?.none
                    } else {
                        diagnostics.add(
                            field,
                            "must be the platform's id; PUT replaces every mapping, so leave the code out to "
                                + "unmap it (or send null with PATCH)")
                    }
                } else if let remoteID = remote.stringValue, !remoteID.isEmpty {
                    codes[code] = remoteID
                } else if case .object(let parts) = remote, kind == .taxCode,
                    parts.values.allSatisfy({ $0.stringValue.map { !$0.isEmpty } ?? false })
                {
                    // Several ledgers for one tax code (Tally's `{cgst, sgst, igst}`), kept as the object's text.
                    codes[code] = remote.canonicalString
                } else {
                    diagnostics.add(
                        field, "must be the platform's id, a non-empty string\(removals ? ", or null" : "")")
                }
            }
            changes[kind] = codes
        }
        guard diagnostics.errors.isEmpty else { throw Problem.invalid(diagnostics.errors) }
        return changes
    }

    /// Whether the ids given were checked against the platform's chart, and if not, why.
    enum Validation {
        case checked
        case unchecked(reason: String)
    }

    /// Checks every id given against the platform's chart, throwing a 422 that names each wrong one. An integration
    /// that is not connected cannot be asked: its ids are taken unchecked.
    func validate(
        _ changes: [CodeMappings.Kind: [String: String?]], of integration: Integration, logger: Logger
    ) async throws -> Validation {
        let given: [(CodeMappings.Kind, String, String)] = changes.flatMap { kind, codes in
            codes.compactMap { code, remoteID in remoteID.map { (kind, code, $0) } }
        }
        guard !given.isEmpty else { return .checked }
        guard integration.status == .connected else {
            return .unchecked(
                reason: "the integration is \(integration.status.rawValue), so \(integration.platform.rawValue) "
                    + "could not be asked whether these ids exist; save them again once it is connected to have them "
                    + "checked")
        }
        let chart: RemoteChart
        do {
            chart = try await platforms.remoteChart(of: integration, logger: logger)
        } catch let error as ConnectorError {
            throw Problem(
                status: .badGateway, title: "Bad Gateway",
                detail: "nothing was saved: the ids could not be checked because \(integration.platform.rawValue) "
                    + "could not be read (\(error.message)); try again")
        }
        let errors = given.compactMap { kind, code, remoteID in
            chart.problem(mapping: kind, to: remoteID).map {
                FieldError(field: "mappings.\(kind.member).\(code)", message: $0)
            }
        }
        guard errors.isEmpty else {
            throw Problem.invalid(
                errors.sorted { $0.field < $1.field },
                detail: "nothing was saved: some ids are not what their mapping needs in this \(chart.books); "
                    + "GET …/remote-accounts lists the choices for each kind")
        }
        return .checked
    }

    /// The mappings now, whether the ids given were checked, the parked jobs resumed and (for `PUT`) the
    /// mappings the replacement removed.
    private static func answer(
        _ saved: AppDatabase.MappingsSaved, validation: Validation, removed: CodeMappings?
    ) -> JSONValue {
        guard case .object(var members) = saved.after.json else { return saved.after.json }
        switch validation {
        case .checked:
            members["validated"] = true
        case .unchecked(let reason):
            members["validated"] = false
            members["validation"] = .string(reason)
        }
        members["resumed_jobs"] = .number(String(saved.resumedJobs))
        if let removed { members["removed"] = removed.json }
        return .object(members)
    }
}
