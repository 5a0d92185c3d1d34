import Accounting
import Foundation
import Hummingbird
import Persistence

/// `/audit`: the audit trail, newest first, filtered by integration, actor, action and a range of days; and "Verify
/// chain", which walks the whole chain as `ledgerwire audit verify` does (`AppDatabase.verifyAuditChain`) and says
/// plainly whether it holds or which entry is broken.
struct AuditPage {
    let database: AppDatabase
    let renderer: DashboardRenderer

    var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.get("/audit", use: list)
        routes.post("/audit/verify", use: verify)
        return routes
    }

    /// Actions the filter suggests (any action may be typed).
    static let knownActions = [
        "record.created", "record.updated", "record.voided", "record.linked", "delivery.replayed",
        "delivery.corrected", "conflict.detected", "conflict.resolved", "job.retried", "job.succeeded", "job.dead",
        "job.failed", "job.needs_mapping", "mappings.saved", "mappings.changed", "integration.created",
        "integration.updated", "integration.status_changed", "integration.deleted", "sync.requested",
        "sync.completed", "api_key.created", "api_key.deleted", "user.created", "user.removed", "user.signed_in",
        "user.sign_in_failed", "webhook_source.created", "subscription.created",
    ]

    struct View: Sendable {
        var entries: [Row]
        var integrations: [Choice]
        var integration: String
        var actor: String
        var action: String
        var from: String
        var to: String
        var actions: [String]
        var filtered: Bool
        /// Whether "Verify chain" is offered: to an admin of every school (the chain is every school's).
        var canVerify: Bool
        var verification: Verification?
        var nextPage: String?
    }

    struct Row: Sendable {
        var seq: Int64
        var occurred: String
        var actor: String
        var action: String
        var entity: String
        var integrationID: String?
        var recordID: String?
        var change: String
    }

    /// What "Verify chain" found, in words.
    struct Verification: Sendable {
        var holds: Bool
        var message: String
    }

    /// The filter as given: each value, or a field error saying what to fix.
    struct Filter {
        var integrationID: String?
        var actor: String?
        var action: String?
        var from: String?
        var to: String?
        var since: Timestamp?
        var until: Timestamp?

        /// - Parameter given: the query's value of a name, if any.
        init(_ given: (String) -> String?) throws {
            func value(_ name: String) -> String? {
                given(name).map { $0.trimmingCharacters(in: .whitespaces) }.flatMap { $0.isEmpty ? nil : $0 }
            }
            integrationID = value("integration")
            actor = value("actor")
            action = value("action")
            from = value("from")
            to = value("to")
            var errors: [FieldError] = []
            func day(_ text: String?, _ field: String, adding days: Int64) -> Timestamp? {
                guard let text else { return nil }
                guard let date = LocalDate(parsing: text) else {
                    errors.append(FieldError(field: field, message: "must be a date like 2026-12-01"))
                    return nil
                }
                return Timestamp(secondsSinceEpoch: (date.daysSinceEpoch + days) * 86_400)
            }
            since = day(from, "from", adding: 0)
            // Through the whole of the last day.
            until = day(to, "to", adding: 1)
            if let since, let until, until <= since {
                errors.append(FieldError(field: "to", message: "must be the same day as \"from\" or after it"))
            }
            if !errors.isEmpty { throw Problem.invalid(errors) }
        }
    }

    @Sendable func list(request: Request, context: AppRequestContext) async throws -> Response {
        try await page(request: request, context: context, verification: nil)
    }

    @Sendable func verify(request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.require(.admin)
        guard principal.tenantID == nil else {
            throw Problem(
                status: .forbidden, title: "Forbidden",
                detail: "the chain holds every school's entries: verifying it needs an admin of every school")
        }
        let verification =
            switch try await database.verifyAuditChain() {
            case .intact(let entries):
                Verification(
                    holds: true, message: "The chain holds: \(entries) \(entries == 1 ? "entry" : "entries") checked.")
            case .broken(let seq, let id, let reason):
                Verification(
                    holds: false,
                    message: id == "checkpoint"
                        ? "The chain is broken at its signed checkpoint (entry \(seq)): \(reason)."
                        : "The chain is broken at entry \(seq) (\(id)): \(reason).")
            }
        return try await page(request: request, context: context, verification: verification)
    }

    func page(request: Request, context: AppRequestContext, verification: Verification?) async throws -> Response {
        let principal = try context.require(.viewer)
        // The verify form posts to its own path with the filter shown as its fields; the list is then its first page.
        let isList = request.method == .get
        let query = request.uri.queryParameters
        func given(_ name: String) -> String? {
            isList
                ? query.get(name).map { String($0) }
                : name == "cursor" ? nil : context.form.first { $0.name == name }?.value
        }
        let filter = try Filter(given)
        let page = try await database.auditEntries(
            tenantID: principal.tenantID, integrationID: filter.integrationID, actor: filter.actor,
            action: filter.action, since: filter.since, until: filter.until, newestFirst: true,
            page: try PageRequest(limit: 50, cursor: given("cursor")))
        let integrations = try await database.integrations(
            tenantID: principal.tenantID, page: PageRequest(limit: PageRequest.maximumLimit))
        let view = View(
            entries: page.items.map(Self.row),
            integrations: integrations.items.map {
                Choice(value: $0.id, label: $0.name, chosen: $0.id == filter.integrationID)
            },
            integration: filter.integrationID ?? "", actor: filter.actor ?? "", action: filter.action ?? "",
            from: filter.from ?? "", to: filter.to ?? "",
            actions: Self.knownActions,
            filtered: filter.integrationID != nil || filter.actor != nil || filter.action != nil || filter.from != nil
                || filter.to != nil,
            canVerify: principal.role == .admin && principal.tenantID == nil, verification: verification,
            nextPage: page.nextCursor.map { cursor in
                "/audit?"
                    + DashboardQuery.encode([
                        ("integration", filter.integrationID), ("actor", filter.actor), ("action", filter.action),
                        ("from", filter.from), ("to", filter.to), ("cursor", cursor),
                    ])
            })
        return try renderer.response(
            Screen("audit", title: "Audit log", section: .audit, context: context, page: view))
    }

    static func row(_ entry: AuditEntry) -> Row {
        Row(
            seq: entry.seq, occurred: DashboardTime.format(entry.occurredAt), actor: entry.actor,
            action: entry.action,
            entity: "\(entry.entityType.replacingOccurrences(of: "_", with: " ")) \(entry.entityID)",
            integrationID: entry.integrationID, recordID: entry.recordID,
            change: change(from: entry.oldValue, to: entry.newValue))
    }

    /// What changed, short: the old value and the new one, each cut to 120 characters.
    static func change(from old: String?, to new: String?) -> String {
        func short(_ text: String) -> String { text.count > 120 ? text.prefix(119) + "…" : text }
        switch (old, new) {
        case (nil, nil): return ""
        case (nil, let new?): return short(new)
        case (let old?, nil): return "was " + short(old)
        case (let old?, let new?): return short(old) + " → " + short(new)
        }
    }
}
