import Accounting
import Foundation
import Hummingbird

/// `GET /{resource}`: the list envelope (`$total`, `$page`, `$next`, `$back`, `$items_per_page`, `$items`), summaries
/// unless `attributes` asks for more, paging, and the change-tracking filters the spec declares for each list.
extension SageBusinessCloudSandbox {
    /// The lists that take `deleted_since` (the spec's list operations that declare it).
    static let deletable: Set<String> = [
        "contacts", "sales_invoices", "sales_credit_notes", "contact_payments", "contact_allocations",
        "bank_accounts", "products", "services",
    ]

    /// Items a page holds when the request does not say, and at most (the spec: `default: 20`, `maximum: 200`).
    static let defaultItemsPerPage = 20
    static let maximumItemsPerPage = 200

    /// The attributes every item carries (`attributes` adds to them).
    static let baseAttributes: Set<String> = ["id", "displayed_as", "$path"]

    func list(businessID: String, resource: String, request: Request) throws(SageBusinessCloudFailure)
        -> (Int, JSONValue?)
    {
        guard Self.resources[resource] != nil, let business = business(businessID) else { throw .notFound }
        let query = FormURLEncoded.fields(request.uri.query ?? "")
        let parameter = { (name: String) in query.last { $0.name == name }?.value }
        let page = try Self.number(parameter("page"), "page", default: 1, range: 1...1_000_000)
        let perPage = try Self.number(
            parameter("items_per_page"), "items_per_page", default: Self.defaultItemsPerPage,
            range: 1...Self.maximumItemsPerPage)
        var items: [[String: JSONValue]]
        if let text = parameter("deleted_since"), Self.deletable.contains(resource) {
            // "Not inclusive of the passed timestamp" (the spec's description of `deleted_since`).
            guard let since = SageBusiness.since(text) else { throw .invalid("deleted_since", "is invalid") }
            items = business.deletions(resource).filter { $0.at > since }.map { deleted in
                var object = deleted.object.filter { Self.baseAttributes.contains($0.key) }
                object["deleted_at"] = deleted.object["deleted_at"]
                return object
            }
        } else {
            items = business.all(resource)
            if let text = parameter("updated_or_created_since") {
                // "Inclusive of the passed timestamp".
                guard let since = SageBusiness.since(text) else {
                    throw .invalid("updated_or_created_since", "is invalid")
                }
                items = items.filter { business.changedAt(resource, $0["id"]?.stringValue ?? "") >= since }
            }
            for (name, path) in [
                ("contact_id", ["contact", "id"]), ("status_id", ["status", "id"]),
                ("transaction_type_id", ["transaction_type", "id"]), ("bank_account_id", ["bank_account", "id"]),
            ] {
                guard let wanted = parameter(name) else { continue }
                items = items.filter { item in
                    path.reduce(JSONValue.object(item)) { $0[$1] ?? .null }.stringValue == wanted
                }
            }
            if resource == "contacts", let type = parameter("contact_type_id") {
                items = items.filter {
                    $0["contact_types"]?.arrayValue?.contains { $0["id"]?.stringValue == type } == true
                }
            }
            if let term = parameter("search"), let fields = Self.searched[resource] {
                items = items.filter { item in Self.matches(item, term, in: fields) }
            }
            if let from = parameter("from_date") { items = items.filter { ($0["date"]?.stringValue ?? from) >= from } }
            if let to = parameter("to_date") { items = items.filter { ($0["date"]?.stringValue ?? to) <= to } }
            let attributes = parameter("attributes")
            let allocations = parameter("show_payments_allocations") == "true"
            items = items.map { Self.select(Self.shown($0, allocations: allocations), attributes: attributes) }
        }
        let total = items.count
        let start = (page - 1) * perPage
        let slice = start < total ? Array(items[start..<min(total, start + perPage)]) : []
        let link = { (target: Int) -> JSONValue in
            var fields = query.filter { $0.name != "page" && $0.name != "items_per_page" }
            fields.append((name: "page", value: String(target)))
            fields.append((name: "items_per_page", value: String(perPage)))
            return .string("/\(resource)?\(FormURLEncoded.encode(fields))")
        }
        let envelope: JSONValue = [
            "$total": .number(String(total)), "$page": .number(String(page)),
            "$next": start + perPage < total ? link(page + 1) : .null,
            "$back": page > 1 ? link(page - 1) : .null,
            "$items_per_page": .number(String(perPage)), "$items": .array(slice.map(JSONValue.object)),
        ]
        return (200, envelope)
    }

    /// The fields `search` looks in, per list that takes it: "the contact name, company name or reference" on
    /// contacts, "the invoice reference or contact name" on sales invoices (and credit notes), as the spec describes
    /// the parameter.
    static let searched: [String: [String]] = [
        "contacts": ["name", "reference"], "sales_invoices": ["reference", "contact_name"],
        "sales_credit_notes": ["reference", "contact_name"],
    ]

    /// Whether one of `fields` of `item` holds `term`, ignoring case (an empty term holds everything).
    static func matches(_ item: [String: JSONValue], _ term: String, in fields: [String]) -> Bool {
        let wanted = term.trimmingCharacters(in: .whitespaces).lowercased()
        guard !wanted.isEmpty else { return true }
        return fields.contains { item[$0]?.stringValue?.lowercased().contains(wanted) == true }
    }

    /// An item as the list shows it: the base attributes, plus `all` or the comma list `attributes` names.
    static func select(_ item: [String: JSONValue], attributes: String?) -> [String: JSONValue] {
        guard let attributes, !attributes.isEmpty else { return item.filter { baseAttributes.contains($0.key) } }
        if attributes == "all" { return item }
        let wanted = baseAttributes.union(
            attributes.split(separator: ",").prefix(200).map { $0.trimmingCharacters(in: .whitespaces) })
        return item.filter { wanted.contains($0.key) }
    }

    /// A whole-number query parameter within `range`.
    static func number(
        _ text: String?, _ source: String, default value: Int, range: ClosedRange<Int>
    ) throws(SageBusinessCloudFailure) -> Int {
        guard let text else { return value }
        guard text.utf8.count <= 9, let number = Int(text), range.contains(number) else {
            throw .invalid(source, "must be a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return number
    }
}
