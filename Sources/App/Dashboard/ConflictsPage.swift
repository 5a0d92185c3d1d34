import Accounting
import Foundation
import Hummingbird
import Persistence

/// `/conflicts`: records billing and the books both changed. Each shows billing's version and the books' side by
/// side, the differing fields highlighted, and is resolved with billing's, the books', or edited values, through the
/// API's own code (`ConflictsController`), which checks the values make a valid record and audits the decision.
struct ConflictsPage {
    let database: AppDatabase
    let renderer: DashboardRenderer
    let api: ConflictsController

    var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.get("/conflicts", use: list)
        routes.get("/conflicts/{id}", use: show)
        routes.post("/conflicts/{id}/resolve", use: resolve)
        return routes
    }

    struct ListView: Sendable {
        var conflicts: [Row]
        var showingResolved: Bool
        var nextPage: String?
    }

    struct Row: Sendable {
        var id: String
        var record: String
        var integrationID: String
        var status: String
        var detectedAt: String
        var differing: String
    }

    @Sendable func list(request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.require(.viewer)
        let resolved = request.uri.queryParameters.get("status") == "resolved"
        let page = try await database.conflicts(
            status: resolved ? .resolved : .open, integrationID: nil, tenantID: principal.tenantID,
            page: try PageRequest(limit: 50, cursor: request.uri.queryParameters.get("cursor").map { String($0) }))
        let view = ListView(
            conflicts: page.items.map { conflict in
                Row(
                    id: conflict.id, record: "\(conflict.recordType) \(conflict.localID)",
                    integrationID: conflict.integrationID, status: conflict.status.rawValue,
                    detectedAt: conflict.detectedAt.rfc3339,
                    differing: Self.fields(conflict).filter(\.differs).map(\.name).joined(separator: ", "))
            }, showingResolved: resolved,
            nextPage: page.nextCursor.map { "/conflicts?status=\(resolved ? "resolved" : "open")&cursor=\($0)" })
        return try renderer.response(
            Screen("conflicts", title: "Conflicts", section: .conflicts, context: context, page: view))
    }

    struct DetailView: Sendable {
        var id: String
        var record: String
        var open: Bool
        var fields: [Field]
        var editable: [Field]
        var localVersion: String
        var remoteVersion: String
        var resolution: String?
        var resolvedBy: String?
    }

    /// One field of the record on both sides.
    struct Field: Sendable {
        var name: String
        var local: String
        var remote: String
        var differs: Bool
    }

    @Sendable func show(request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.require(.viewer)
        let id = try context.parameters.require("id")
        guard let conflict = try await database.conflict(id: id, tenantID: principal.tenantID) else {
            throw Problem.notFound("no conflict \(id)")
        }
        let fields = Self.fields(conflict)
        let notice = request.uri.queryParameters.get("resolved") != nil ? "Conflict resolved." : nil
        let view = DetailView(
            id: conflict.id, record: "\(conflict.recordType) \(conflict.localID)", open: conflict.status == .open,
            fields: fields,
            editable: fields.filter { $0.differs && !Self.fixed.contains($0.name) && Self.isScalar(conflict, $0.name) },
            localVersion: conflict.local.version, remoteVersion: conflict.remote.version,
            resolution: conflict.resolution?.rawValue, resolvedBy: conflict.resolvedBy)
        return try renderer.response(
            Screen(
                "conflict", title: "Conflict · \(view.record)", section: .conflicts, context: context, notice: notice,
                page: view))
    }

    @Sendable func resolve(request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.require(.operator)
        let id = try context.parameters.require("id")
        let form = context.form
        guard let choice = form.first(where: { $0.name == "resolution" })?.value,
            let resolution = Conflict.Resolution(rawValue: choice)
        else {
            throw Problem.invalid([
                FieldError(field: "resolution", message: "choose billing's version, the books' or your own values")
            ])
        }
        var values: [String: JSONValue]?
        if resolution == .custom {
            guard let conflict = try await database.conflict(id: id, tenantID: principal.tenantID) else {
                throw Problem.notFound("no conflict \(id)")
            }
            let local = conflict.local.data.objectValue ?? [:]
            var given: [String: JSONValue] = [:]
            for (name, text) in form where name.hasPrefix("value.") {
                let field = String(name.dropFirst(6))
                given[field] = Self.value(text, like: local[field] ?? conflict.remote.data.objectValue?[field])
            }
            values = given
        }
        _ = try await api.resolve(id: id, resolution, values: values, by: principal)
        return Response(status: .seeOther, headers: [.location: "/conflicts/\(id)?resolved=1"])
    }

    /// Fields a person cannot set.
    static let fixed: Set<String> = ["id", "updated_at"]

    /// Every top-level field of either side, in name order, each side as text.
    static func fields(_ conflict: Conflict) -> [Field] {
        let local = conflict.local.data.objectValue ?? [:]
        let remote = conflict.remote.data.objectValue ?? [:]
        let currency = (local["currency"] ?? remote["currency"])?.stringValue.flatMap(Currency.init(code:))
        func shown(_ value: JSONValue?, _ name: String) -> String {
            guard let value else { return "—" }
            if amountFields.contains(name), let currency,
                let money = try? Money(parsing: text(value), currency: currency)
            {
                return money.displayed
            }
            return text(value)
        }
        return Set(local.keys).union(remote.keys).sorted().map { name in
            Field(
                name: name, local: shown(local[name], name), remote: shown(remote[name], name),
                differs: differ(local[name], remote[name], name: name))
        }
    }

    /// The fields of billing's records that are amounts in the record's currency.
    static let amountFields: Set<String> = [
        "amount", "balance", "subtotal", "tax_total", "total", "amount_paid", "discount_total", "unapplied_amount",
    ]

    /// Whether a field says something different on each side: both have it, it is not an id (each side names
    /// records its own way), and the values differ — amounts compared as numbers (`8820` is `8820.00`). Lines and
    /// other nested values are shown, not flagged: each side writes them in its own shape.
    static func differ(_ local: JSONValue?, _ remote: JSONValue?, name: String) -> Bool {
        guard let local, let remote, local != .null, remote != .null, name != "id", !name.hasSuffix("_id") else {
            return false
        }
        switch (local, remote) {
        case (.object, _), (_, .object), (.array, _), (_, .array):
            return false
        default:
            let (left, right) = (text(local), text(remote))
            if isAmount(left), isAmount(right), let leftAmount = Decimal(string: left),
                let rightAmount = Decimal(string: right)
            {
                return leftAmount != rightAmount
            }
            return left != right
        }
    }

    /// Whether `text` is a plain decimal number: an optional minus, digits, and at most one point among them.
    static func isAmount(_ text: String) -> Bool {
        let digits = text.hasPrefix("-") ? text.dropFirst() : Substring(text)
        return !digits.isEmpty && digits.filter { $0 == "." }.count <= 1
            && digits.allSatisfy { $0.isNumber || $0 == "." }
            && digits.first != "." && digits.last != "."
    }

    static func isScalar(_ conflict: Conflict, _ name: String) -> Bool {
        switch conflict.local.data.objectValue?[name] ?? conflict.remote.data.objectValue?[name] {
        case .object, .array: false
        default: true
        }
    }

    static func text(_ value: JSONValue) -> String {
        switch value {
        case .string(let text): text
        case .null: "—"
        default: value.canonicalString
        }
    }

    /// `text` as a JSON value of the same kind as `example` (a number stays a number), else a string.
    static func value(_ text: String, like example: JSONValue?) -> JSONValue {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        switch example {
        case .number?:
            return trimmed.utf8.count <= 40 && Double(trimmed)?.isFinite == true ? .number(trimmed) : .string(text)
        case .bool?:
            return trimmed == "true" ? .bool(true) : trimmed == "false" ? .bool(false) : .string(text)
        default:
            return trimmed.isEmpty && example == .null ? .null : .string(text)
        }
    }
}
