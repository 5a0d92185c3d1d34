import Accounting
import Hummingbird
import Logging
import Persistence

/// `/api/v1/audit`: the append-only, hash-chained log.
struct AuditController {
    let database: AppDatabase

    var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.get("/audit", use: list)
        return routes
    }

    @Sendable func list(request: Request, context: AppRequestContext) async throws -> JSONResponse {
        let principal = try context.require(.viewer)
        var since: Timestamp?
        if let text = request.query("since") {
            guard let instant = Timestamp(rfc3339: text) else {
                throw Problem.invalid([FieldError(field: "since", message: "must be an RFC 3339 instant")])
            }
            since = instant
        }
        let page = try await database.auditEntries(
            tenantID: principal.tenantID ?? request.query("tenant_id"),
            integrationID: request.query("integration_id"),
            recordID: request.query("record_id"),
            since: since,
            page: request.pageRequest()
        )
        return .page(page, \.json)
    }
}

extension AuditEntry {
    var json: JSONValue {
        func text(_ value: String?) -> JSONValue { value.map(JSONValue.string) ?? .null }
        func document(_ value: String?) -> JSONValue {
            value.flatMap { try? JSONValue(parsing: Array($0.utf8)) } ?? .null
        }
        var members: [String: JSONValue] = [:]
        members["seq"] = .number(String(seq))
        members["id"] = .string(id)
        members["occurred_at"] = occurredAt.json
        members["tenant_id"] = text(tenantID)
        members["integration_id"] = text(integrationID)
        members["record_id"] = text(recordID)
        members["actor"] = .string(actor)
        members["action"] = .string(action)
        members["entity_type"] = .string(entityType)
        members["entity_id"] = .string(entityID)
        members["old_value"] = document(oldValue)
        members["new_value"] = document(newValue)
        members["prev_hash"] = .string(previousHash)
        members["hash"] = .string(hash)
        return .object(members)
    }
}
