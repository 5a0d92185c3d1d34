import Accounting
import Connectors
import Foundation
import Hummingbird
import Persistence
import SyncEngine

/// Connecting an integration as a finance manager would: `/integrations/new` (choose the platform, fill its own
/// settings form), `/integrations/{id}` (its status, connect through the platform's consent page, its sync schedule,
/// conflict policy, on/off), and the "Sync now" / "Full sync" buttons. Every form goes through the API's own code
/// (`IntegrationsController`, `OAuthController`, `SyncOperationsController`), so it checks and audits the same.
struct IntegrationPages {
    let database: AppDatabase
    let renderer: DashboardRenderer
    let integrations: IntegrationsController
    let oauth: OAuthController
    let checks: ConnectCheckController
    /// Told once a sync is requested: the scheduler starts it at once.
    let syncRequested: WorkSignal
    /// One download at a time per integration, shared with the API's (`ExportsController`).
    let downloads: KeyedGates

    var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.get("/integrations/new", use: new)
        routes.post("/integrations", use: create)
        routes.get("/integrations/{id}", use: show)
        routes.post("/integrations/{id}", use: update)
        routes.get("/integrations/{id}/connect", use: connect)
        routes.post("/integrations/{id}/connect-check", use: check)
        routes.post("/integrations/{id}/sync", use: sync)
        routes.post("/integrations/{id}/files", use: download)
        routes.post("/integrations/{id}/files/upload", use: upload)
        routes.get("/integrations/{id}/qwc", use: webConnectorFile)
        return routes
    }

    // MARK: New

    struct NewView: Sendable {
        var platforms: [Choice]
        /// The chosen platform's form, once one is chosen.
        var form: PlatformForm?
        var tenantFixed: String?
    }

    struct PlatformForm: Sendable {
        var platform: String
        var label: String
        var fields: [SettingField]
        var hasOAuth: Bool
        var policies: [Choice]
    }

    struct SettingField: Sendable {
        var key: String
        var label: String
        var hint: String?
        var secret: Bool
        var required: Bool
        /// Whether the setting takes one of `choices` rather than any text.
        var isChoice: Bool
        var choices: [Choice]
    }

    @Sendable func new(request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.require(.financeManager)
        let chosen = request.uri.queryParameters.get("platform").flatMap(Platform.init(rawValue:))
            .flatMap { integrations.platforms.contains($0) ? $0 : nil }
        let view = NewView(
            platforms: integrations.platforms.map {
                Choice(value: $0.rawValue, label: $0.displayName, chosen: $0 == chosen)
            },
            form: chosen.map(Self.form(for:)), tenantFixed: principal.tenantID)
        return try renderer.response(
            Screen("integration-new", title: "Connect an integration", section: .overview, context: context, page: view)
        )
    }

    @Sendable func create(request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.require(.financeManager)
        var object: [String: JSONValue] = [:]
        var settings: [String: JSONValue] = [:]
        var sync: [String: JSONValue] = [:]
        for (name, value) in context.form {
            switch name {
            case "platform", "name", "tenant_id":
                if !value.isEmpty { object[name] = .string(value) }
            case "interval_minutes":
                sync["interval_seconds"] = Self.seconds(minutes: value)
            case "conflict_policy":
                sync["conflict_policy"] = .string(value)
            default:
                if name.hasPrefix("settings."), !value.isEmpty { settings[String(name.dropFirst(9))] = .string(value) }
            }
        }
        object["settings"] = .object(settings)
        object["sync"] = .object(sync)
        let integration = try await integrations.create(object, by: principal)
        return Response(status: .seeOther, headers: [.location: "/integrations/\(integration.id)?created=1"])
    }

    /// Each platform's own settings: the OAuth keys (and where its endpoints are, for a sandbox), or nothing yet for a
    /// platform this server has no connector for.
    static func form(for platform: Platform) -> PlatformForm {
        let keys = IntegrationSettingsKeys.known(for: platform) ?? []
        // A company is chosen after connecting, not typed in; Xero and Sage have one host each, so no environment to
        // pick (their connectors never read one).
        let shown = keys.filter {
            $0 != platform.remoteTenantName && !([.xero, .sageBusinessCloud].contains(platform) && $0 == "environment")
        }
        let fields = shown.map { key in
            let choices = IntegrationSettingsKeys.allowedValues(of: key, for: platform) ?? []
            return SettingField(
                key: key, label: settingLabels[key] ?? key, hint: settingHints[key],
                secret: key.hasSuffix("secret") || key == "password",
                required: ["client_id", "client_secret", "company", "password"].contains(key),
                isChoice: !choices.isEmpty,
                choices: choices.map { Choice(value: $0, label: choiceLabels[$0] ?? $0.capitalized, chosen: false) })
        }
        return PlatformForm(
            platform: platform.rawValue, label: platform.displayName, fields: fields,
            hasOAuth: keys.contains("client_id"), policies: policyChoices(.init()))
    }

    static let settingLabels = [
        "client_id": "Client ID", "client_secret": "Client secret", "redirect_uri": "Redirect URI",
        "environment": "Environment", "api_base_url": "API base URL", "oauth_authorize_url": "Authorization URL",
        "oauth_token_url": "Token URL", "oauth_revoke_url": "Revocation URL", "connections_url": "Connections URL",
        "url": "Tally's address", "company": "Company (as loaded in Tally)", "version": "Tally version",
        "encoding": "Encoding", "state": "The company's GST state", "gstin": "The company's GSTIN",
        "round_off_ledger": "Round-off ledger", "time_zone": "Time zone", "connection": "How Ledgerwire reaches Tally",
        "username": "Web Connector user name", "password": "Web Connector password",
        "run_every_minutes": "Run every (minutes)", "app_url": "This server's /qbwc address",
        "sales_tax_item": "Sales-tax item (US)", "country": "QuickBooks edition's country",
    ]

    static let settingHints = [
        "username": "What the Web Connector signs in with (default: the integration's name).",
        "password": "12 characters or more; typed once into the Web Connector. Stored as a hash only.",
        "app_url": "Leave empty to use this server's address as you reach it, like https://ledgerwire.example/qbwc.",
        "sales_tax_item": "The ListID of the sales-tax item a US company charges (see the integration's lists).",
        "country": "Leave empty: the first Web Connector run reports it.",
        "client_id": "From your app's Keys & credentials page at the platform.",
        "client_secret": "Stored encrypted; never shown again.",
        "redirect_uri": "Leave empty to use this server's /oauth/callback.",
        "api_base_url": "Only for a sandbox or emulator; leave empty for the platform's own.",
        "oauth_authorize_url": "Only for a sandbox or emulator.", "oauth_token_url": "Only for a sandbox or emulator.",
        "oauth_revoke_url": "Only for a sandbox or emulator.", "connections_url": "Only for a sandbox or emulator.",
        "url": "Where Tally's XML server listens, like http://192.168.1.20:9000 (default http://127.0.0.1:9000).",
        "company": "Exactly as Tally shows it in the list of companies.",
        "encoding": "UTF-16 keeps names in every script exactly as typed; UTF-8 suits older set-ups.",
        "state": "A customer billed in another state is charged IGST; in this state, CGST and SGST.",
        "round_off_ledger": "Takes the paisa an odd CGST/SGST split leaves over (default Round Off).",
        "time_zone": "Where payment times become voucher dates (default Asia/Kolkata).",
        "connection": "Choose the agent when Tally is on the school's network and Ledgerwire cannot reach it.",
    ]

    /// The words for a setting's fixed choices, where its value is not a word already.
    static let choiceLabels = [
        "prime": "TallyPrime", "erp9": "Tally.ERP 9", "utf-8": "UTF-8", "utf-16": "UTF-16",
        "direct": "Directly, at its address", "agent": "Through the Tally agent beside Tally",
    ]

    /// What the platform calls the company an integration works in, as its people say it.
    static func companyLabel(_ platform: Platform) -> String {
        switch platform {
        case .xero: "Organisation"
        case .sageBusinessCloud: "Business"
        default: "Company"
        }
    }

    static func policyChoices(_ sync: Integration.SyncSettings) -> [Choice] {
        Integration.ConflictPolicy.allCases.map {
            Choice(
                value: $0.rawValue, label: policyLabels[$0] ?? $0.rawValue, chosen: $0 == sync.conflictPolicy)
        }
    }

    static let policyLabels: [Integration.ConflictPolicy: String] = [
        .lastModifiedWins: "The side changed last wins", .billingWins: "Billing wins",
        .ledgerWins: "The books win", .manual: "Hold for me to decide",
    ]

    /// Minutes from a form as JSON seconds, or the text as given so the API's check names the field.
    static func seconds(minutes text: String) -> JSONValue {
        guard let minutes = Int(text.trimmingCharacters(in: .whitespaces)), (1...525_600).contains(minutes) else {
            return .string(text)
        }
        return .number(String(minutes * 60))
    }

    // MARK: Show and change

    struct IntegrationView: Sendable {
        var id: String
        var name: String
        var platform: String
        var tenant: String
        /// The status in words: the integration's status, or for Sage 50 the step its records wait for.
        var status: String
        /// The status's colour (its CSS class).
        var statusClass: String
        var statusReason: String?
        var connected: Bool
        var canConnect: Bool
        /// Connected by asking the platform (Tally): "Check connection".
        var canCheck: Bool
        var disabled: Bool
        var intervalMinutes: Int
        var policies: [Choice]
        var lastSync: String?
        /// Why the last connect came back without access, in plain words.
        var refused: String?
        /// The companies the grant opens, while one is to be chosen.
        var companies: [Choice]
        /// Stored, not computed: the templates read a view's stored properties only (by reflection).
        var hasCompanies: Bool
        /// The company it works in, once chosen: by the name the grant listed it under, else by its id.
        var company: String?
        /// What its platform calls a company (a Xero organisation).
        var companyLabel: String
        /// The same in a sentence ("organisation").
        var companyNoun: String
        /// What is left of each of the platform's windows, in words.
        var limits: [Limit]
        var hasLimits: Bool
        /// Kept in step by files (Sage 50): the download buttons and the upload form.
        var fileExchange: Bool
        /// Records the next Sage 50 download would leave out, and why (the first 20).
        var leftOut: [FileExchangeStanding.LeftOut]
        var hasLeftOut: Bool
        /// "2 records" the next download leaves out, in all.
        var leftOutCount: String
        /// A QuickBooks Desktop integration's Web Connector: what its last run found.
        var webConnector: WebConnectorPanel?
        /// Whether Ledgerwire reads the books' changes itself (`Sync now`); QuickBooks Desktop's come with each Web
        /// Connector run.
        var readsChanges = true
    }

    /// One platform window as the page shows it: "Day (24 h)", "4,870 of 5,000 left", and per share of the work.
    struct Limit: Sendable {
        var window: String
        var left: String
        var shares: String?
    }

    /// The rows of `GET /integrations/{id}`'s `rate_limits`, in words.
    static func limits(_ json: JSONValue) -> [Limit] {
        (json.arrayValue ?? []).compactMap { window in
            guard let name = window["window"]?.stringValue, let limit = window["limit"]?.intValue,
                let remaining = window["remaining"]?.intValue, let seconds = window["period_seconds"]?.intValue
            else { return nil }
            let period = seconds >= 86_400 ? "a day" : seconds >= 60 ? "a minute" : "per \(seconds) s"
            let label = name == "requests" ? "Calls" : name.prefix(1).uppercased() + name.dropFirst() + " calls"
            var left = "\(remaining) of \(limit) left (\(period))"
            if window["paused"]?.boolValue == true { left += ", paused by the platform" }
            let byShare = window["remaining_by_share"]
            let shares = byShare.map { shares in
                [("polling", "polling"), ("live", "live work"), ("bulk", "full syncs")].compactMap { key, words in
                    shares[key]?.intValue.map { "\(words) \($0)" }
                }.joined(separator: " · ")
            }
            return Limit(window: label, left: left, shares: shares.map { "Left for " + $0 })
        }
    }

    @Sendable func show(request: Request, context: AppRequestContext) async throws -> Response {
        let integration = try await database.integration(from: context, role: .viewer)
        let query = request.uri.queryParameters
        // A company is to be chosen while the grant lists several and none is in use: the first time (none chosen
        // yet), and after connecting again (when the integration was disconnected, or switched off and on), when the
        // callback lists them again but leaves the integration as it was — it worked in one of them before, shown
        // chosen, and stays unconnected until a person confirms it.
        let choosing =
            !integration.availableTenants.isEmpty && integration.status != .connected
            && integration.status != .disabled
            && (integration.remoteTenantID == nil || integration.status == .pending || query.get("connected") != nil)
        let notice: String? =
            if query.get("connected") != nil, choosing {
                "Access granted. Choose the \(Self.companyLabel(integration.platform).lowercased()) this integration works in."
            } else if query.get("connected") != nil {
                "Connected to \(integration.platform.displayName)."
            } else if query.get("chosen") != nil {
                "\(Self.companyLabel(integration.platform)) chosen: the integration is connected."
            } else if query.get("checked") != nil {
                integration.status == .connected
                    ? "\(integration.platform.displayName) answered: the integration is connected."
                    : "\(integration.platform.displayName) could not be used: \(integration.statusReason ?? "see the status")."
            } else if query.get("created") != nil, integration.platform == .tally {
                "Integration created. Press Check connection once Tally is running with the company loaded."
            } else if query.get("created") != nil, integration.platform == .quickBooksDesktop {
                "Integration created. Download the .qwc file below and add it to the QuickBooks Web Connector on the "
                    + "PC with QuickBooks."
            } else if query.get("created") != nil {
                "Integration created. Connect it to \(integration.platform.displayName) next."
            } else if query.get("saved") != nil {
                "Settings saved."
            } else if let mode = query.get("sync") {
                mode == "full" ? "A full sync was started." : "A sync was started."
            } else if let kind = query.get("uploaded") {
                "Sage 50's \(kind == "customers" ? "customer list" : "audit trail") was read: "
                    + "\(Int(query.get("confirmed") ?? "") ?? 0) records confirmed, "
                    + "\(Int(query.get("changes") ?? "") ?? 0) changes made in Sage told to billing, "
                    + "\(Int(query.get("unknown") ?? "") ?? 0) rows Ledgerwire does not know."
            } else if let row = query.get("upload_refused") {
                "Sage 50's file was refused at row \(Int(row) ?? 0)"
                    + (query.get("column").map { ", column \($0)" } ?? "")
                    + ": nothing was imported. Upload Sage 50's audit trail export or its customer list as Sage 50 "
                    + "wrote it."
            } else { nil }
        let companies =
            choosing
            ? integration.availableTenants.map {
                Choice(value: $0.id, label: $0.name, chosen: $0.id == integration.remoteTenantID)
            } : []
        let limits = Self.limits(
            await IntegrationsController.rateLimits(
                of: integration, connectors: integrations.connectors, rateLimiters: integrations.rateLimiters))
        let scheme = integrations.connectors[integration.platform]?.authentication(settings: integration.settings)
        var status = (words: integration.status.rawValue, style: integration.status.rawValue)
        var statusReason = integration.statusReason
        var leftOut: [FileExchangeStanding.LeftOut] = []
        // A Sage 50 integration is never connected (files carry its work): `pending` would stand for ever.
        if integration.platform == .sage50, integration.sync.enabled, integration.status != .disabled {
            let files = try await FileExchangeStanding.read(database, integration: integration)
            status = (files.status, files.statusClass)
            statusReason = files.summary
            leftOut = files.leftOut
        }
        let view = IntegrationView(
            id: integration.id, name: integration.name, platform: integration.platform.displayName,
            tenant: integration.tenantID, status: status.words, statusClass: status.style, statusReason: statusReason,
            connected: integration.status == .connected,
            canConnect: integration.status != .disabled && scheme?.oauthEndpoints != nil,
            canCheck: integration.status != .disabled
                && (scheme == AuthenticationScheme.none || scheme == .sharedSecret),
            disabled: integration.status == .disabled, intervalMinutes: integration.sync.intervalSeconds / 60,
            policies: Self.policyChoices(integration.sync), lastSync: integration.lastSyncAt?.rfc3339,
            refused: query.get("refused").map { code in
                "\(integration.platform.displayName) did not grant access (\(OAuthController.isErrorCode(String(code)) ? String(code) : "an error")): "
                    + "nothing changed. Press Connect to try again, and choose Connect on the consent page."
            },
            companies: companies, hasCompanies: !companies.isEmpty,
            company: integration.remoteTenantID.map { id in
                integration.availableTenants.first { $0.id == id }?.name ?? id
            },
            companyLabel: Self.companyLabel(integration.platform),
            companyNoun: Self.companyLabel(integration.platform).lowercased(), limits: limits,
            hasLimits: !limits.isEmpty, fileExchange: integration.platform == .sage50,
            leftOut: Array(leftOut.prefix(20)), hasLeftOut: !leftOut.isEmpty,
            leftOutCount: FileExchangeStanding.records(leftOut.count),
            webConnector: try await WebConnectorPanel.read(database, integration: integration),
            readsChanges: integrations.connectors[integration.platform]?.capabilities.changeFeed ?? true)
        return try renderer.response(
            Screen(
                "integration", title: integration.name, section: .overview, context: context, notice: notice, page: view
            ))
    }

    /// The `.qwc` file to load into the school's QuickBooks Web Connector.
    @Sendable func webConnectorFile(request: Request, context: AppRequestContext) async throws -> Response {
        _ = try context.require(.financeManager)
        let integration = try await database.integration(from: context, role: .financeManager)
        let file = try WebConnectorFileController.file(for: integration, host: request.head.authority)
        return WebConnectorFileController.response(file, integration: integration)
    }

    /// What a QuickBooks Desktop integration's page shows of its Web Connector.
    struct WebConnectorPanel: Sendable {
        var lastRun: String
        var companyFile: String?
        var product: String?
        var country: String?
        var version: String?
        var lastError: String?

        static func read(_ database: AppDatabase, integration: Integration) async throws -> WebConnectorPanel? {
            guard integration.platform == .quickBooksDesktop else { return nil }
            let company = try await database.webConnectorCompany(integrationID: integration.id)
            return WebConnectorPanel(
                lastRun: company?.lastRunAt.map { DashboardTime.format($0) } ?? "never: load the .qwc file",
                companyFile: company?.companyFile, product: company?.product, country: company?.country,
                version: company?.qbXMLVersion, lastError: integration.unreachable?.lastError.message)
        }
    }

    @Sendable func update(request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.require(.financeManager)
        let current = try await database.integration(from: context, role: .financeManager)
        var object: [String: JSONValue] = [:]
        var sync: [String: JSONValue] = [:]
        for (name, value) in context.form {
            switch name {
            case "name": object["name"] = .string(value)
            case "interval_minutes": sync["interval_seconds"] = Self.seconds(minutes: value)
            case "conflict_policy": sync["conflict_policy"] = .string(value)
            case "status": object["status"] = .string(value)
            case "company":
                if let key = current.platform.remoteTenantName { object["settings"] = [key: .string(value)] }
            default: break
            }
        }
        if !sync.isEmpty { object["sync"] = .object(sync) }
        _ = try await integrations.update(current, with: object, by: principal)
        let outcome = object["settings"] != nil ? "chosen" : "saved"
        return Response(status: .seeOther, headers: [.location: "/integrations/\(current.id)?\(outcome)=1"])
    }

    /// A link, not a form: the browser follows its redirect to the platform's consent page, which a form's
    /// `form-action 'self'` would stop. It carries the session's form token all the same.
    @Sendable func connect(request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.require(.financeManager)
        guard let signedIn = context.signedIn,
            let given = request.uri.queryParameters.get(WebSessionMiddleware.formTokenField),
            ConstantTime.equal(Array(given.utf8), Array(signedIn.csrfToken.utf8))
        else { throw WebSessionMiddleware.forgedForm }
        let integration = try await database.integration(from: context, role: .financeManager)
        let url = try await oauth.authorizationURL(for: integration, by: principal)
        return Response(status: .seeOther, headers: [.location: url.absoluteString])
    }

    /// "Download": a Sage 50 import file, as the API gives it: its records marked exported, the download audited.
    @Sendable func download(request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.require(.operator)
        let integration = try await database.integration(from: context, role: .operator)
        let format = context.form.first { $0.name == "format" }?.value ?? ""
        guard integration.platform == .sage50, ["sage50-customers-csv", "sage50-audit-csv"].contains(format) else {
            throw Problem.invalid(
                [
                    FieldError(
                        field: "format", message: "a Sage 50 integration's files are its customers and its transactions"
                    )
                ])
        }
        return try await ExportsController(database: database, downloads: downloads).sage50Export(
            integration: integration, format: format, since: nil, actor: principal.actor)
    }

    /// "Upload": Sage 50's audit trail export (or customer list) read back as the API reads it; the page says what
    /// it confirmed, or the row and column it refused.
    @Sendable func upload(request: Request, context: AppRequestContext) async throws -> Response {
        let integration = try await database.integration(from: context, role: .operator)
        var query: String
        do {
            let answer = try await Sage50ImportsController(database: database).read(request, context: context)
            func count(_ name: String) -> Int { answer[name]?.arrayValue?.count ?? answer[name]?.intValue ?? 0 }
            query =
                "uploaded=\(answer["kind"]?.stringValue == "customers" ? "customers" : "audit_trail")"
                + "&confirmed=\(count("confirmed"))&changes=\(count("changes"))&unknown=\(count("unknown"))"
        } catch let problem as Problem where problem.status == .unprocessableContent {
            query = "upload_refused=\(problem.extensions["row"]?.intValue ?? 0)"
            // Only a column's name as Sage 50 writes it is repeated on the page.
            if let column = problem.extensions["column"]?.stringValue, (1...30).contains(column.count),
                column.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || " ./".contains($0)) })
            {
                query += "&column=" + (column.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")
            }
        }
        return Response(status: .seeOther, headers: [.location: "/integrations/\(integration.id)?\(query)"])
    }

    /// "Check connection": asks the platform now (Tally: is the company loaded) and shows the answer.
    @Sendable func check(request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.require(.operator)
        let integration = try await database.integration(from: context, role: .operator)
        _ = try await checks.check(integration, actor: principal.actor, logger: context.logger)
        return Response(status: .seeOther, headers: [.location: "/integrations/\(integration.id)?checked=1"])
    }

    @Sendable func sync(request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.require(.operator)
        let integration = try await database.integration(from: context, role: .operator)
        let mode = SyncOperation.Mode(rawValue: context.form.first { $0.name == "mode" }?.value ?? "") ?? .incremental
        try SyncOperationsController.requireConnected(integration)
        guard
            try await database.requestSync(
                integrationID: integration.id, tenantID: principal.tenantID, mode: mode, actor: principal.actor) != nil
        else { throw Problem.notFound("no integration \(integration.id)") }
        syncRequested.signal()
        let back = context.form.first { $0.name == "back" }?.value ?? ""
        let location = back == "activity" ? "/activity" : "/integrations/\(integration.id)?sync=\(mode.rawValue)"
        return Response(status: .seeOther, headers: [.location: location])
    }
}
