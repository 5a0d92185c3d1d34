import Accounting
import Hummingbird
import Ingestion
import Persistence
import SyncEngine

/// `/api/v1/conflicts`: records billing and the books both changed, with both versions, and a person's resolution
/// (manual override): `use_local`, `use_remote`, or `custom` values, which must make a valid billing record.
struct ConflictsController {
    let database: AppDatabase

    var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.get("/conflicts", use: list)
        routes.get("/conflicts/{id}", use: show)
        routes.post("/conflicts/{id}/resolve", use: resolve)
        return routes
    }

    @Sendable func list(request: Request, context: AppRequestContext) async throws -> JSONResponse {
        let principal = try context.require(.viewer)
        let status = try request.query("status", as: Conflict.Status.self)
        let page = try await database.conflicts(
            status: status, integrationID: request.query("integration_id"), tenantID: principal.tenantID,
            page: request.pageRequest())
        return .page(page) { .object($0.json) }
    }

    @Sendable func show(request: Request, context: AppRequestContext) async throws -> JSONResponse {
        let principal = try context.require(.viewer)
        let id = try context.parameters.require("id")
        guard let conflict = try await database.conflict(id: id, tenantID: principal.tenantID) else {
            throw Problem.notFound("no conflict \(id)")
        }
        return JSONResponse(.object(conflict.json))
    }

    @Sendable func resolve(request: Request, context: AppRequestContext) async throws -> JSONResponse {
        let principal = try context.require(.operator)
        let id = try context.parameters.require("id")
        guard try await database.conflict(id: id, tenantID: principal.tenantID) != nil else {
            throw Problem.notFound("no conflict \(id)")
        }
        var request = request
        let body = try await request.jsonObject(context: context)
        let allowed = Conflict.Resolution.allCases.map(\.rawValue).joined(separator: ", ")
        guard let text = body["resolution"]?.stringValue else {
            throw Problem.invalid([FieldError(field: "resolution", message: "is required: one of \(allowed)")])
        }
        guard let resolution = Conflict.Resolution(rawValue: text) else {
            throw Problem.invalid([FieldError(field: "resolution", message: "must be one of \(allowed)")])
        }
        var values: [String: JSONValue]?
        if resolution == .custom {
            guard case .object(let given)? = body["values"], !given.isEmpty else {
                throw Problem.invalid([
                    FieldError(
                        field: "values",
                        message: "is required for a custom resolution: an object of the record's fields to set")
                ])
            }
            values = given
        }
        return JSONResponse(.object(try await resolve(id: id, resolution, values: values, by: principal).json))
    }

    /// Resolves conflict `id` as `principal` decided (`values`: the fields a custom resolution sets), for the
    /// dashboard too. Audited.
    func resolve(
        id: String, _ resolution: Conflict.Resolution, values: [String: JSONValue]?, by principal: Principal
    ) async throws -> Conflict {
        guard let conflict = try await database.conflict(id: id, tenantID: principal.tenantID) else {
            throw Problem.notFound("no conflict \(id)")
        }
        let decision: ConflictDecision
        switch resolution {
        case .useLocal:
            decision = .useLocal
        case .useRemote:
            decision = .useRemote
        case .custom:
            decision = try await customDecision(for: conflict, values: values ?? [:])
        }
        guard
            let resolved = try await database.resolveConflict(
                id: id, tenantID: principal.tenantID, decision: decision, actor: principal.actor, at: .now(),
                decide: ConflictDecision.outcome)
        else { throw Problem.notFound("no conflict \(id)") }
        return resolved
    }

    /// Billing's current record with `values` set, checked as billing's own event for it would be.
    private func customDecision(for conflict: Conflict, values: [String: JSONValue]) async throws -> ConflictDecision {
        guard let record = try await database.record(id: conflict.recordID),
            case .object(var data) = record.data
        else { throw Problem.notFound("no record \(conflict.recordID)") }
        for key in ["id", "updated_at"] where values[key] != nil {
            throw Problem.invalid([FieldError(field: "values.\(key)", message: "cannot be changed")])
        }
        data.merge(values) { _, new in new }
        let now = Timestamp.now()
        data["updated_at"] = .string(now.rfc3339)
        let type: BillingEvent.Kind =
            switch RecordType(rawValue: conflict.recordType) {
            case .customer: .customerUpdated
            case .payment: .paymentReceived
            case .creditNote: .creditNoteIssued
            case .refund: .refundIssued
            default: .invoiceUpdated
            }
        let event = BillingEvent(
            json: [
                "type": .string(type.rawValue), "timestamp": .string(now.rfc3339),
                "tenant_id": .string(record.tenantID),
                "data": .object(data),
            ])
        // An invoice's event carries its customer too: only the record itself is taken.
        let command = event.commands.first {
            $0.recordType.rawValue == conflict.recordType && $0.localID == conflict.localID
        }
        guard event.errors.isEmpty, let command else {
            throw Problem.invalid(
                event.errors.map { error in
                    FieldError(
                        field: error.field.hasPrefix("data.") ? "values." + error.field.dropFirst(5) : error.field,
                        message: error.message)
                },
                detail: "the values do not make a valid \(conflict.recordType)")
        }
        return .custom(values: .object(values), data: command.data, baseVersion: record.version)
    }
}
