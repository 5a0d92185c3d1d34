import Accounting
import Foundation
import Hummingbird
import Persistence

/// `/records`: billing's records found by number, customer or id; each record's every version with what changed
/// from the one before, where it stands in each integration's books, its audit trail, and the manual override of
/// that standing (find the books' record and link it, unlink, exclude from the sync or include again, push again),
/// through the API's own code (`RecordsController`).
struct RecordsPage {
    let database: AppDatabase
    let renderer: DashboardRenderer
    let api: RecordsController

    var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.get("/records", use: list)
        routes.get("/records/{id}", use: show)
        routes.get("/records/{id}/links/{integration_id}/find", use: find)
        routes.post("/records/{id}/links/{integration_id}/link", use: link)
        routes.post("/records/{id}/links/{integration_id}/unlink", use: unlink)
        routes.post("/records/{id}/links/{integration_id}/exclude", use: exclude)
        routes.post("/records/{id}/links/{integration_id}/include", use: include)
        routes.post("/records/{id}/links/{integration_id}/push", use: pushAgain)
        return routes
    }

    // MARK: The list

    struct ListView: Sendable {
        var query: String
        var searched: Bool
        var recordTypes: [Choice]
        var records: [Row]
        var nextPage: String?
    }

    /// A record as a line of the list.
    struct Row: Sendable {
        var id: String
        var kind: String
        var localID: String
        var number: String
        var customer: String
        var amount: String
        var version: Int
        var books: String
        var updated: String
    }

    @Sendable func list(request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.require(.viewer)
        let parameters = request.uri.queryParameters
        let query = String(parameters.get("q") ?? "").trimmingCharacters(in: .whitespaces)
        guard query.utf8.count <= 200 else {
            throw Problem.invalid([FieldError(field: "q", message: "must be at most 200 characters")])
        }
        let recordType = parameters.get("type").flatMap(RecordType.init(rawValue:))
        let page = try PageRequest(limit: 50, cursor: parameters.get("cursor").map { String($0) })
        let found =
            query.isEmpty
            ? try await database.records(tenantID: principal.tenantID, recordType: recordType?.rawValue, page: page)
            : try await database.searchRecords(
                query, tenantID: principal.tenantID, recordType: recordType?.rawValue, page: page)
        // Each link's standing is worded for its integration's platform (Sage 50's files).
        var platforms: [String: Platform] = [:]
        if found.items.contains(where: { !$0.links.isEmpty }) {
            for integration in try await database.integrations(
                tenantID: principal.tenantID, page: try PageRequest(limit: PageRequest.maximumLimit)
            ).items {
                platforms[integration.id] = integration.platform
            }
        }
        var next = URLComponents()
        next.path = "/records"
        next.queryItems = [
            URLQueryItem(name: "q", value: query), URLQueryItem(name: "type", value: recordType?.rawValue ?? ""),
        ]
        let view = ListView(
            query: query, searched: !query.isEmpty,
            recordTypes: RecordType.allCases.map {
                Choice(value: $0.rawValue, label: $0.title, chosen: $0 == recordType)
            },
            records: found.items.map { Self.row($0, platforms: platforms) },
            nextPage: found.nextCursor.map { cursor in
                next.queryItems?.append(URLQueryItem(name: "cursor", value: cursor))
                return next.string ?? "/records"
            })
        return try renderer.response(
            Screen("records", title: "Records", section: .records, context: context, page: view))
    }

    static func row(_ record: StoredRecord, platforms: [String: Platform] = [:]) -> Row {
        Row(
            id: record.id, kind: RecordType(rawValue: record.recordType)?.title ?? record.recordType,
            localID: record.localID, number: record.data["number"]?.stringValue ?? "—",
            customer: record.data["customer_id"]?.stringValue ?? record.data["name"]?.stringValue ?? "—",
            amount: Self.amount(record.data) ?? "—", version: record.version,
            books: record.links.isEmpty
                ? "not yet in the books"
                : record.links.map { link in
                    "\(link.integrationID): \(Self.standing(link, of: record, on: platforms[link.integrationID]))"
                }.joined(separator: "; "),
            updated: DashboardTime.format(record.updatedAt))
    }

    /// A record's total in its currency, as its users write it.
    static func amount(_ data: JSONValue) -> String? {
        guard let currency = data["currency"]?.stringValue.flatMap(Currency.init(code:)),
            let total = (data["total"] ?? data["amount"])?.stringValue,
            let money = try? Money(parsing: total, currency: currency)
        else { return nil }
        return money.displayed
    }

    /// Where `record` stands in one integration's books, from its link (`nil`: none yet), in its platform's words: a
    /// Sage 50 record downloaded is only exported until Sage 50's audit trail confirms it.
    static func standing(_ link: RecordLink?, of record: StoredRecord, on platform: Platform?) -> String {
        if platform == .sage50 { return FileExchangeStanding.standing(link, recordType: record.recordType) }
        guard let link else { return "not yet in the books" }
        return switch link.status {
        case "excluded": "excluded from the sync"
        case "deleted": "deleted in the books"
        default: link.remoteID.map { "in the books as \($0)" } ?? "not yet in the books"
        }
    }

    // MARK: One record

    struct DetailView: Sendable {
        var id: String
        var title: String
        var kind: String
        var localID: String
        var voided: Bool
        var books: [BooksView]
        var versions: [VersionView]
        var olderVersions: String?
        var audit: [AuditRow]
        var fullAudit: String?
    }

    /// Where the record stands in one integration's books, and what a person may do about it.
    struct BooksView: Sendable {
        var integrationID: String
        var integrationName: String
        var platform: String
        var remoteID: String?
        var standing: String
        var lastSynced: String
        var excluded: Bool
        var linked: Bool
        /// Whether the platform can be searched for the record ("Find it in the books"): Sage 50 has no API.
        var searchable: Bool
    }

    struct VersionView: Sendable {
        var version: Int
        var action: String
        var stored: String
        var delivery: String
        var changes: [Change]
        var changed: Bool
        var first: Bool
    }

    /// A field one version changed from the one before.
    struct Change: Sendable {
        var field: String
        var before: String
        var after: String
    }

    struct AuditRow: Sendable {
        var when: String
        var actor: String
        var action: String
        var detail: String
    }

    /// Versions and audit entries shown on a record's page; the rest are a page away.
    static let shown = 50

    @Sendable func show(request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.require(.viewer)
        let id = try context.parameters.require("id")
        guard let record = try await database.record(id: id, tenantID: principal.tenantID) else {
            throw Problem.notFound("no record \(id)")
        }
        let parameters = request.uri.queryParameters
        let cursor = parameters.get("versions").map { String($0) }
        let versions = try await database.recordVersions(
            recordID: id, page: try PageRequest(limit: Self.shown, cursor: cursor))
        // The version before this page's first, to say what its first changed.
        var before: RecordVersion?
        if let first = versions.items.first, first.version > 1 {
            before = try await database.recordVersions(
                recordID: id, page: try PageRequest(limit: 1, cursor: String(first.version - 2))
            ).items.first
        }
        let integrations = try await database.integrations(
            tenantID: record.tenantID, page: try PageRequest(limit: PageRequest.maximumLimit)
        ).items
        let audit = try await database.auditEntries(
            tenantID: principal.tenantID, recordID: id, page: try PageRequest(limit: Self.shown))
        let view = DetailView(
            id: record.id, title: Self.title(record), kind: RecordType(rawValue: record.recordType)?.title ?? "",
            localID: record.localID, voided: record.action == "void",
            books: integrations.map { integration in
                let link = record.links.first { $0.integrationID == integration.id }
                return BooksView(
                    integrationID: integration.id, integrationName: integration.name,
                    platform: integration.platform.displayName, remoteID: link?.remoteID,
                    standing: Self.standing(link, of: record, on: integration.platform),
                    lastSynced: link?.lastSyncedAt.map(DashboardTime.format) ?? "never",
                    excluded: link?.status == "excluded", linked: link?.remoteID != nil,
                    searchable: integration.platform != .sage50)
            },
            versions: Self.versions(versions.items, after: before),
            olderVersions: versions.nextCursor.map { "/records/\(id)?versions=\($0)" },
            audit: audit.items.map { entry in
                AuditRow(
                    when: DashboardTime.format(entry.occurredAt), actor: entry.actor, action: entry.action,
                    detail: [entry.oldValue.map { "was \($0)" }, entry.newValue].compactMap { $0 }.joined(
                        separator: " → "))
            },
            fullAudit: audit.nextCursor.map { _ in "/api/v1/audit?record_id=\(id)" })
        return try renderer.response(
            Screen(
                "record", title: view.title, section: .records, context: context,
                notice: parameters.get("done").flatMap { Self.notices[String($0)] }, page: view))
    }

    static let notices = [
        "linked": "Linked. Its next push updates that record of the books.",
        "unlinked": "Unlinked. Its next push makes a new record in the books.",
        "excluded": "Excluded from the sync: nothing of it is written to those books until it is included again.",
        "included": "Included again: its newest version is pushed unless the books already hold it.",
        "pushed": "Queued: its newest version is pushed again.",
    ]

    static func title(_ record: StoredRecord) -> String {
        let kind = RecordType(rawValue: record.recordType)?.title.dropLast() ?? Substring(record.recordType)
        let known = record.data["number"]?.stringValue ?? record.data["name"]?.stringValue ?? record.localID
        return "\(kind) \(known)"
    }

    /// Each version with the fields it changed from the one before (`before`: the version before the first).
    static func versions(_ versions: [RecordVersion], after before: RecordVersion?) -> [VersionView] {
        var previous = before
        return versions.map { version in
            defer { previous = version }
            let changed = previous.map { changes(from: $0.data, to: version.data) } ?? []
            return VersionView(
                version: version.version, action: version.action, stored: DashboardTime.format(version.createdAt),
                delivery: version.deliveryID ?? "—", changes: changed, changed: !changed.isEmpty,
                first: previous == nil)
        }
    }

    /// The top-level fields that differ between two versions, in name order; nested values (lines) as their JSON.
    static func changes(from old: JSONValue, to new: JSONValue) -> [Change] {
        let before = old.objectValue ?? [:]
        let after = new.objectValue ?? [:]
        return Set(before.keys).union(after.keys).sorted().compactMap { field in
            guard before[field] != after[field], field != "updated_at" else { return nil }
            return Change(
                field: field, before: before[field].map(ConflictsPage.text) ?? "—",
                after: after[field].map(ConflictsPage.text) ?? "—")
        }
    }

    // MARK: Finding the books' record

    struct FindView: Sendable {
        var recordID: String
        var title: String
        var integrationID: String
        var platform: String
        var query: String
        var candidates: [CandidateView]
    }

    struct CandidateView: Sendable {
        var remoteID: String
        var summary: String
        var amount: String
        var linkedTo: String?
        var linkable: Bool
    }

    @Sendable func find(request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.require(.operator)
        let (record, integration) = try await api.target(context, principal)
        let typed = request.uri.queryParameters.get("q").map { String($0) }
        let candidates = try await api.candidates(
            for: record, in: integration, text: typed, logger: context.logger)
        let view = FindView(
            recordID: record.id, title: Self.title(record), integrationID: integration.id,
            platform: integration.platform.displayName,
            query: typed ?? RecordsController.defaultSearch(for: record) ?? "",
            candidates: candidates.map { candidate in
                let data = candidate.record.data
                return CandidateView(
                    remoteID: candidate.record.remoteID,
                    summary: [data["number"], data["name"], data["issue_date"] ?? data["date"]]
                        .compactMap { $0?.stringValue }.joined(separator: " · "),
                    amount: Self.amount(data) ?? data["total"]?.stringValue ?? "—",
                    linkedTo: candidate.linkedTo,
                    linkable: candidate.linkedTo == nil || candidate.linkedTo == record.localID)
            })
        return try renderer.response(
            Screen(
                "record-find", title: "Find \(view.title) in \(view.platform)", section: .records, context: context,
                page: view))
    }

    // MARK: Overrides

    @Sendable func link(request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.require(.operator)
        let (record, integration) = try await api.target(context, principal)
        guard let remoteID = context.form.first(where: { $0.name == "remote_id" })?.value, !remoteID.isEmpty,
            remoteID.utf8.count <= 100
        else {
            throw Problem.invalid([FieldError(field: "remote_id", message: "choose a record of the books to link")])
        }
        _ = try await api.link(record, in: integration, to: remoteID, by: principal, logger: context.logger)
        return Self.done(record.id, "linked")
    }

    @Sendable func unlink(request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.require(.operator)
        let (record, integration) = try await api.target(context, principal)
        _ = try await database.unlinkRecord(
            id: record.id, integrationID: integration.id, tenantID: principal.tenantID, actor: principal.actor,
            at: .now())
        return Self.done(record.id, "unlinked")
    }

    @Sendable func exclude(request: Request, context: AppRequestContext) async throws -> Response {
        try await setExcluded(true, context: context)
    }

    @Sendable func include(request: Request, context: AppRequestContext) async throws -> Response {
        try await setExcluded(false, context: context)
    }

    private func setExcluded(_ excluded: Bool, context: AppRequestContext) async throws -> Response {
        let principal = try context.require(.operator)
        let (record, integration) = try await api.target(context, principal)
        _ = try await database.setRecordExcluded(
            excluded, id: record.id, integrationID: integration.id, tenantID: principal.tenantID,
            actor: principal.actor, at: .now())
        return Self.done(record.id, excluded ? "excluded" : "included")
    }

    @Sendable func pushAgain(request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.require(.operator)
        let (record, integration) = try await api.target(context, principal)
        _ = try await database.pushRecordAgain(
            id: record.id, integrationID: integration.id, tenantID: principal.tenantID, actor: principal.actor,
            at: .now())
        return Self.done(record.id, "pushed")
    }

    static func done(_ recordID: String, _ what: String) -> Response {
        Response(status: .seeOther, headers: [.location: "/records/\(recordID)?done=\(what)"])
    }
}

extension RecordType {
    /// The kind of record, plural, as a heading: "Invoices", "Credit notes", …
    var title: String {
        switch self {
        case .customer: "Customers"
        case .invoice: "Invoices"
        case .payment: "Payments"
        case .creditNote: "Credit notes"
        case .refund: "Refunds"
        }
    }
}
