import Accounting
import Connectors
import Hummingbird
import Logging
import Persistence
import SyncEngine

/// `/api/v1/integrations`: each tenant's connections to its books (their code mappings: `MappingsController`).
///
/// Admins create, change and delete integrations; viewers read. A tenant's key sees and
/// changes only its tenant's integrations. Secret settings (`client_secret`) are sealed and only ever shown as set.
struct IntegrationsController {
    let database: AppDatabase
    let box: SecretBox
    /// Revokes a deleted integration's grant at its platform.
    let tokens: TokenStore
    /// Where the platform URLs in settings may point: checked when they are saved.
    let destinations: DestinationPolicy
    /// The platforms an integration may be made for: the contract's, and any other the server has a connector for.
    let platforms: [Platform]
    /// Each platform's connector, to confirm that a grant opens the company a person chooses.
    let connectors: [Platform: any Connector]
    let transport: any HTTPTransport
    /// The integrations' rate limiters: what is left of each platform window, shown with the integration.
    let rateLimiters: RateLimiters

    var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.post("/integrations", use: create)
        routes.get("/integrations", use: list)
        routes.get("/integrations/{id}", use: show)
        routes.patch("/integrations/{id}", use: update)
        routes.delete("/integrations/{id}", use: delete)
        routes.post("/integrations/{id}/share-connection", use: shareConnection)
        return routes
    }

    @Sendable func create(request: Request, context: AppRequestContext) async throws -> JSONResponse {
        let principal = try context.require(.financeManager)
        var request = request
        let (integration, password) = try await createShowingPassword(
            try await request.jsonObject(context: context), by: principal)
        var json = integration.json
        if let password, var members = json.objectValue {
            // A QuickBooks Web Connector password Ledgerwire made: shown this once, kept only as a hash.
            var settings = members["settings"]?.objectValue ?? [:]
            settings["password"] = .string(password)
            members["settings"] = .object(settings)
            json = .object(members)
        }
        return JSONResponse(json, status: .created)
    }

    /// Makes the integration `object` describes (`POST /integrations`' body), for the dashboard's form too.
    /// - Throws: a 422 naming every field that is wrong.
    func create(_ object: [String: JSONValue], by principal: Principal) async throws -> Integration {
        try await createShowingPassword(object, by: principal).integration
    }

    /// Makes the integration, and the password Ledgerwire made for its QuickBooks Web Connector when none was given.
    func createShowingPassword(_ object: [String: JSONValue], by principal: Principal) async throws -> (
        integration: Integration, password: String?
    ) {
        let body = FieldReader(object, path: "", diagnostics: Diagnostics())
        let platformText = body.string("platform")
        let platform = platformText.flatMap(Platform.init(rawValue:)).flatMap { platforms.contains($0) ? $0 : nil }
        if platformText != nil, platform == nil {
            body.diagnostics.add("platform", "must be one of \(platforms.map(\.rawValue).joined(separator: ", "))")
        }
        let name = body.string("name")
        var tenantID = body.optionalString("tenant_id") ?? principal.tenantID ?? "default"
        if let scope = principal.tenantID {
            if tenantID != scope {
                body.diagnostics.add("tenant_id", "a key of tenant \(scope) can only create that tenant's integrations")
            }
            tenantID = scope
        }
        var settings = Self.settings(object["settings"], diagnostics: body.diagnostics)
        body.diagnostics.add(destinations.problems(withSettings: settings ?? [:]), under: "")
        if let platform {
            body.diagnostics.add(
                IntegrationSettingsKeys.problems(with: settings ?? [:], for: platform, removing: false), under: "")
        }
        var password: (text: String, generated: Bool)?
        if platform == .quickBooksDesktop {
            body.diagnostics.add(WebConnectorSettings.problems(with: settings ?? [:]), under: "")
            if let userName = settings?["username"]?.stringValue ?? name,
                !(try await database.webConnectorLogins(userName: userName)).isEmpty
            {
                // The Web Connector signs in by user name: one integration each.
                body.diagnostics.add(
                    "settings.username",
                    "\(userName) is the Web Connector user name of another QuickBooks Desktop integration; choose "
                        + "another")
            }
            let given = settings?.removeValue(forKey: "password")?.stringValue
            password = given.map { ($0, false) } ?? (WebConnectorSettings.generatePassword(), true)
        }
        let sync = Self.sync(object["sync"], current: .init(), diagnostics: body.diagnostics)
        guard body.diagnostics.errors.isEmpty, let platform, let name else {
            throw Problem.invalid(body.diagnostics.errors)
        }
        let integration = try await database.createIntegration(
            tenantID: tenantID, platform: platform, name: name, settings: .object(settings ?? [:]), sync: sync,
            box: box, actor: principal.actor)
        guard let password else { return (integration, nil) }
        try await database.setWebConnectorPassword(
            integrationID: integration.id, passwordHash: try await database.hashWebConnectorPassword(password.text),
            actor: principal.actor)
        return (integration, password.generated ? password.text : nil)
    }

    @Sendable func list(request: Request, context: AppRequestContext) async throws -> JSONResponse {
        let principal = try context.require(.viewer)
        let page = try await database.integrations(
            tenantID: principal.tenantID ?? request.query("tenant_id"), page: request.pageRequest())
        return .page(page, \.json)
    }

    @Sendable func show(request: Request, context: AppRequestContext) async throws -> JSONResponse {
        let integration = try await database.integration(from: context, role: .viewer)
        var members = integration.json.objectValue ?? [:]
        members["rate_limits"] = await Self.rateLimits(
            of: integration, connectors: connectors, rateLimiters: rateLimiters)
        return JSONResponse(.object(members))
    }

    /// The platform's limits on the integration's calls, window by window, with what is left of each: in all, and
    /// for each share of the work where the window keeps shares (Xero's day: polling, live work, a full sync). A
    /// window this server has not called through since it started is shown whole. `null` for a platform without
    /// limits.
    static func rateLimits(
        of integration: Integration, connectors: [Platform: any Connector], rateLimiters: RateLimiters
    ) async -> JSONValue {
        guard let policy = connectors[integration.platform]?.capabilities.rateLimit else { return .null }
        let budgets = await rateLimiters.existing(integrationID: integration.id)?.budgets() ?? []
        return .array(
            policy.windows.map { window in
                let budget = budgets.first { $0.window == window.name }
                let remaining = budget?.remaining ?? window.limit
                let used = window.limit - remaining
                var members: [String: JSONValue] = [
                    "window": .string(window.name), "limit": .number(String(window.limit)),
                    "period_seconds": .number(String(window.period.components.seconds)),
                    "remaining": .number(String(remaining)), "paused": .bool(budget?.paused ?? false),
                ]
                if !window.reserved.isEmpty {
                    members["remaining_by_share"] = .object(
                        Dictionary(
                            uniqueKeysWithValues: RateLimitShare.allCases.map {
                                ($0.rawValue, JSONValue.number(String(max(0, window.allowance(for: $0) - used))))
                            }))
                    members["reserved"] = .object(
                        Dictionary(
                            uniqueKeysWithValues: window.reserved.map {
                                ($0.key.rawValue, JSONValue.number(String($0.value)))
                            }))
                }
                return .object(members)
            })
    }

    @Sendable func update(request: Request, context: AppRequestContext) async throws -> JSONResponse {
        let principal = try context.require(.financeManager)
        let current = try await database.integration(from: context, role: .financeManager)
        var request = request
        return JSONResponse(
            try await update(current, with: try await request.jsonObject(context: context), by: principal).json)
    }

    /// Changes `current` as `object` says (`PATCH /integrations/{id}`' body), for the dashboard's form too.
    /// - Throws: a 422 naming every field that is wrong.
    func update(
        _ current: Integration, with object: [String: JSONValue], by principal: Principal
    ) async throws -> Integration {
        let body = FieldReader(object, path: "", diagnostics: Diagnostics())
        var change = AppDatabase.IntegrationChange()
        if object["name"] != nil { change.name = body.string("name") }
        if let status = object["status"] {
            // People switch an integration off and on; `connected` and `disconnected` come from its credentials.
            switch status.stringValue {
            case "disabled": change.status = .disabled
            case "enabled": change.status = current.status == .disabled ? .pending : current.status
            default: body.diagnostics.add("status", "must be disabled or enabled")
            }
        }
        change.settings = Self.settings(object["settings"], diagnostics: body.diagnostics)
        body.diagnostics.add(destinations.problems(withSettings: change.settings ?? [:]), under: "")
        body.diagnostics.add(
            IntegrationSettingsKeys.problems(with: change.settings ?? [:], for: current.platform, removing: true),
            under: "")
        if object["sync"] != nil {
            change.sync = Self.sync(object["sync"], current: current.sync, diagnostics: body.diagnostics)
        }
        var newPassword: String?
        if current.platform == .quickBooksDesktop, change.settings != nil {
            body.diagnostics.add(WebConnectorSettings.problems(with: change.settings ?? [:]), under: "")
            if let userName = change.settings?["username"]?.stringValue,
                try await database.webConnectorLogins(userName: userName).contains(where: {
                    $0.integrationID != current.id
                })
            {
                body.diagnostics.add(
                    "settings.username",
                    "\(userName) is the Web Connector user name of another QuickBooks Desktop integration; choose "
                        + "another")
            }
            newPassword = change.settings?.removeValue(forKey: "password")?.stringValue
        }
        // The company a grant opens, chosen by a person: the integration's own, not a setting (once it has a grant).
        var chosen: (key: String, value: JSONValue)?
        if let key = current.platform.remoteTenantName, current.connectionID != nil,
            let value = change.settings?.removeValue(forKey: key)
        {
            chosen = (key, value)
        }
        guard body.diagnostics.errors.isEmpty else { throw Problem.invalid(body.diagnostics.errors) }
        guard
            var updated = try await database.updateIntegration(
                id: current.id, tenantID: principal.tenantID, change, box: box, actor: principal.actor)
        else { throw Problem.notFound("no integration \(current.id)") }
        if let chosen {
            updated = try await choose(chosen.value, field: "settings.\(chosen.key)", for: updated, by: principal)
        }
        if let newPassword {
            try await database.setWebConnectorPassword(
                integrationID: updated.id, passwordHash: try await database.hashWebConnectorPassword(newPassword),
                actor: principal.actor)
        }
        return updated
    }

    /// `POST /integrations/{id}/share-connection {integration_id}`: connects the integration through the consent
    /// another integration of the school already holds (another organisation of the same Xero grant) — no second
    /// consent, and one refresh token, refreshed once for both. Where the platform names the companies only after
    /// the grant (Xero), the companies the consent opens that the other integration does not work in are listed: the
    /// one is chosen at once; among several the integration waits, `pending` with `available_tenants`, for a person's
    /// choice (`PATCH … settings.xero_tenant_id`). Audited as `integration.connection_attached`.
    @Sendable func shareConnection(request: Request, context: AppRequestContext) async throws -> JSONResponse {
        let principal = try context.require(.financeManager)
        let target = try await database.integration(from: context, role: .financeManager)
        var request = request
        let body = FieldReader(try await request.jsonObject(context: context), path: "", diagnostics: Diagnostics())
        let sourceID = body.string("integration_id")
        guard body.diagnostics.errors.isEmpty, let sourceID else { throw Problem.invalid(body.diagnostics.errors) }
        guard let source = try await database.integration(id: sourceID, tenantID: principal.tenantID),
            source.tenantID == target.tenantID
        else {
            throw Problem.invalid([
                FieldError(field: "integration_id", message: "no integration \(sourceID) of school \(target.tenantID)")
            ])
        }
        guard source.id != target.id, source.platform == target.platform, let connectionID = source.connectionID else {
            throw Problem.invalid([
                FieldError(
                    field: "integration_id",
                    message: "must be another \(target.platform.rawValue) integration of the school that is connected")
            ])
        }
        // The companies the consent opens, less the one the other integration works in.
        var choices: [RemoteCompany]?
        if connectors[target.platform] != nil {
            let stored: StoredCredentials
            do {
                stored = try await tokens.credentials(for: source)
            } catch {
                throw Problem(
                    status: .badGateway, title: "Companies not listed",
                    detail: "the consent's credentials could not be used: \(error.message)")
            }
            choices = try await OAuthController.companies(
                of: source, accessToken: stored.tokens.accessToken, connectors: connectors, transport: transport,
                rateLimiters: rateLimiters
            )?.filter { $0.id != source.remoteTenantID }
            if let choices, choices.isEmpty {
                throw Problem(
                    status: .conflict, title: "Nothing left to connect",
                    detail: "the consent opens no company but the one \(source.name) works in: connect this "
                        + "integration with its own consent, allowing the organisation")
            }
        }
        var attached = try await database.attachIntegration(
            id: target.id, tenantID: principal.tenantID, toConnection: connectionID, actor: principal.actor,
            connects: choices == nil)
        if let choices {
            if choices.count == 1 {
                attached = try await choose(
                    .string(choices[0].id), field: "integration_id", for: attached, by: principal)
            } else {
                attached =
                    try await database.updateIntegration(
                        id: target.id, tenantID: principal.tenantID,
                        AppDatabase.IntegrationChange(
                            settings: [Integration.availableTenantsKey: OAuthController.json(choices)]),
                        box: box, actor: principal.actor) ?? attached
            }
        }
        return JSONResponse(attached.json)
    }

    /// Makes `value` the company the integration works in: one its grant opens (one of `available_tenants` when it
    /// lists them) and that the platform confirms the grant opens, claimed by no other active integration.
    private func choose(_ value: JSONValue, field: String, for integration: Integration, by principal: Principal)
        async throws -> Integration
    {
        guard let id = value.stringValue, !id.isEmpty, id.count <= 64, DestinationPolicy.isSafePathSegment(id) else {
            throw Problem.invalid([FieldError(field: field, message: "must be the id of the company to work in")])
        }
        let available = integration.availableTenants
        if !available.isEmpty, !available.contains(where: { $0.id == id }) {
            let listed = available.map { "\($0.name) (\($0.id))" }.joined(separator: ", ")
            throw Problem.invalid([
                FieldError(field: field, message: "must be one of the companies the grant opens: \(listed)")
            ])
        }
        if let connector = connectors[integration.platform] {
            let opens: Bool
            do {
                let stored = try await tokens.credentials(for: integration)
                let context = ConnectorContext(
                    integrationID: integration.id, tenantID: integration.tenantID, settings: integration.settings,
                    credentials: FixedCredentials(accessToken: stored.tokens.accessToken, remoteTenantID: id),
                    transport: transport, logger: Logger(label: "ledgerwire.integrations"))
                opens = try await connector.confirmsAccess(to: id, context: context)
            } catch {
                throw Problem(
                    status: .badGateway, title: "Company not confirmed",
                    detail: "the platform could not confirm access to the company: \(error.message)")
            }
            guard opens else {
                throw Problem.invalid([FieldError(field: field, message: "the grant does not open this company")])
            }
        }
        return try await database.chooseRemoteTenant(
            id, integrationID: integration.id, tenantID: principal.tenantID, actor: principal.actor)
    }

    @Sendable func delete(request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.require(.financeManager)
        let id = try context.parameters.require("id")
        // The grant is revoked first, while its tokens are still stored; a platform that cannot be reached does not
        // keep the integration from being deleted.
        if let integration = try await database.integration(id: id),
            principal.tenantID.map({ $0 == integration.tenantID }) ?? true
        {
            _ = await tokens.revoke(integration)
        }
        guard try await database.deleteIntegration(id: id, tenantID: principal.tenantID, actor: principal.actor) else {
            throw Problem.notFound("no integration \(id)")
        }
        return Response(status: .noContent)
    }

    private static func settings(_ value: JSONValue?, diagnostics: Diagnostics) -> [String: JSONValue]? {
        guard let value else { return nil }
        guard case .object(let members) = value else {
            diagnostics.add("settings", "must be an object")
            return nil
        }
        return members
    }

    private static func sync(
        _ value: JSONValue?, current: Integration.SyncSettings, diagnostics: Diagnostics
    ) -> Integration.SyncSettings {
        guard let value else { return current }
        let reader = FieldReader(value.objectValue ?? [:], path: "sync", diagnostics: diagnostics)
        if value.objectValue == nil { diagnostics.add("sync", "must be an object") }
        var sync = current
        if let interval = value["interval_seconds"] {
            if let seconds = interval.intValue, seconds >= 60 {
                sync.intervalSeconds = seconds
            } else {
                diagnostics.add(reader.field("interval_seconds"), "must be a whole number of seconds, at least 60")
            }
        }
        if let payments = value["payments_interval_seconds"] {
            if payments == .null {
                sync.paymentsIntervalSeconds = nil
            } else if let seconds = payments.intValue, seconds >= 60 {
                sync.paymentsIntervalSeconds = seconds
            } else {
                diagnostics.add(
                    reader.field("payments_interval_seconds"), "must be a whole number of seconds, at least 60, or null"
                )
            }
        }
        if let policy = value["conflict_policy"] {
            if let parsed = policy.stringValue.flatMap(Integration.ConflictPolicy.init(rawValue:)) {
                sync.conflictPolicy = parsed
            } else {
                let allowed = Integration.ConflictPolicy.allCases.map(\.rawValue).joined(separator: ", ")
                diagnostics.add(reader.field("conflict_policy"), "must be one of \(allowed)")
            }
        }
        if let enabled = value["enabled"] {
            if let flag = enabled.boolValue {
                sync.enabled = flag
            } else {
                diagnostics.add(reader.field("enabled"), "must be true or false")
            }
        }
        if let attempts = value["max_attempts"] {
            if let count = attempts.intValue, (1...20).contains(count) {
                sync.maxAttempts = count
            } else {
                diagnostics.add(reader.field("max_attempts"), "must be a whole number from 1 to 20")
            }
        }
        return sync
    }
}

extension Integration {
    var json: JSONValue {
        var shownSettings = settings.objectValue ?? [:]
        for key in secretSettings { shownSettings[key] = "[redacted]" }
        let available = shownSettings.removeValue(forKey: Integration.availableTenantsKey)
        var members: [String: JSONValue] = [
            "id": .string(id), "tenant_id": .string(tenantID), "platform": .string(platform.rawValue),
            "name": .string(name), "status": .string(status.rawValue), "settings": .object(shownSettings),
            "sync": [
                "interval_seconds": .number(String(sync.intervalSeconds)),
                "conflict_policy": .string(sync.conflictPolicy.rawValue), "enabled": .bool(sync.enabled),
                "max_attempts": .number(String(sync.maxAttempts)),
                "payments_interval_seconds": sync.paymentsIntervalSeconds.map { .number(String($0)) } ?? .null,
            ],
            "last_sync_at": lastSyncAt?.json ?? .null, "created_at": createdAt.json, "updated_at": updatedAt.json,
            "remote_tenant_id": remoteTenantID.map(JSONValue.string) ?? .null,
            "status_reason": status == .disconnected ? statusReason.map(JSONValue.string) ?? .null : .null,
            "reachability": reachabilityJSON,
        ]
        // The company under the platform's own name for it, as its documentation and its people call it.
        if let name = platform.remoteTenantName { members[name] = remoteTenantID.map(JSONValue.string) ?? .null }
        // The companies the grant opens, while one is to be chosen.
        if remoteTenantID == nil, available != nil {
            let (list, id) = platform.availableTenantsNames
            members[list] = .array(availableTenants.map { [id: .string($0.id), "name": .string($0.name)] })
        }
        return .object(members)
    }

    /// `reachable`, or `unreachable` since the first failure of the outage, with the latest error and when its
    /// jobs are tried next.
    var reachabilityJSON: JSONValue {
        guard let unreachable else { return ["status": "reachable"] }
        return [
            "status": "unreachable", "since": unreachable.since.json,
            "last_error": [
                "code": .string(unreachable.lastError.code), "message": .string(unreachable.lastError.message),
            ],
            "next_check_at": unreachable.nextCheckAt?.json ?? .null,
        ]
    }
}

extension AppDatabase {
    /// The integration the route's `{id}` names, if the caller holds `role` and may see it (its tenant's); else 404.
    func integration(from context: AppRequestContext, role: APIKey.Role) async throws -> Integration {
        let principal = try context.require(role)
        let id = try context.parameters.require("id")
        guard let integration = try await integration(id: id, tenantID: principal.tenantID) else {
            throw Problem.notFound("no integration \(id)")
        }
        return integration
    }
}
