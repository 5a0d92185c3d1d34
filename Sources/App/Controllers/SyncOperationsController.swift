import Accounting
import Hummingbird
import Persistence
import SyncEngine

/// `/api/v1/integrations/{id}/sync` and `/api/v1/sync-operations`: full syncs on request, with their progress
/// (records examined, skipped as already in the books, failed with the platform's reasons, still in flight).
struct SyncOperationsController {
    let database: AppDatabase
    /// Told once a sync is requested: the scheduler starts it at once.
    let requested: WorkSignal

    var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.post("/integrations/{id}/sync", use: request)
        routes.get("/sync-operations", use: list)
        routes.get("/sync-operations/{id}", use: show)
        return routes
    }

    @Sendable func request(request: Request, context: AppRequestContext) async throws -> JSONResponse {
        let principal = try context.require(.operator)
        let integration = try await database.integration(from: context, role: .operator)
        var request = request
        let body = FieldReader(try await request.jsonObject(context: context), path: "", diagnostics: Diagnostics())
        let modeText = body.optionalString("mode") ?? SyncOperation.Mode.full.rawValue
        guard let mode = SyncOperation.Mode(rawValue: modeText) else {
            throw Problem.invalid([FieldError(field: "mode", message: "must be full or incremental")])
        }
        try Self.requireConnected(integration)
        guard
            let operation = try await database.requestSync(
                integrationID: integration.id, tenantID: principal.tenantID, mode: mode, actor: principal.actor)
        else { throw Problem.notFound("no integration \(integration.id)") }
        requested.signal()
        return JSONResponse(operation.json, status: .accepted)
    }

    /// A sync reads from and writes to the books, so it needs a connected integration; a disabled one is switched
    /// off by a person, and one never connected (or whose grant was refused) has no way in yet: each is a 409 saying
    /// what to do, rather than an operation accepted that can never run.
    static func requireConnected(_ integration: Integration) throws {
        let path = "/api/v1/integrations/\(integration.id)"
        let connect = "GET \(path)/connect (OAuth) or PUT \(path)/credentials (tokens obtained elsewhere)"
        let detail: String
        switch integration.status {
        case .disabled:
            detail = "integration \(integration.id) is disabled; enable it (PATCH {\"status\": \"enabled\"}) first"
        case .pending:
            detail =
                "integration \(integration.id) is not connected yet, so a sync cannot run; connect it first: \(connect)"
        case .disconnected:
            detail =
                "integration \(integration.id) is disconnected (the platform refused its credentials), so a sync "
                + "cannot run; connect it again: \(connect)"
        case .connected:
            return
        }
        throw Problem(
            status: .conflict, title: "Conflict", detail: detail,
            extensions: ["integration_status": .string(integration.status.rawValue)])
    }

    @Sendable func list(request: Request, context: AppRequestContext) async throws -> JSONResponse {
        let principal = try context.require(.viewer)
        let status = try request.query("status", as: SyncOperation.Status.self)
        let page = try await database.syncOperations(
            integrationID: request.query("integration_id"), status: status, tenantID: principal.tenantID,
            page: request.pageRequest())
        return .page(page, \.json)
    }

    @Sendable func show(request: Request, context: AppRequestContext) async throws -> JSONResponse {
        let principal = try context.require(.viewer)
        let id = try context.parameters.require("id")
        guard let operation = try await database.syncOperation(id: id, tenantID: principal.tenantID) else {
            throw Problem.notFound("no sync operation \(id)")
        }
        return JSONResponse(operation.json)
    }
}

extension SyncOperation {
    var json: JSONValue {
        [
            "id": .string(id), "operation_id": .string(id), "integration_id": .string(integrationID),
            "tenant_id": .string(tenantID), "mode": .string(mode.rawValue), "status": .string(status.rawValue),
            "records_total": .number(String(recordsTotal)), "records_processed": .number(String(recordsProcessed)),
            "records_skipped": .number(String(recordsSkipped)), "records_failed": .number(String(recordsFailed)),
            "records_in_flight": .number(String(recordsInFlight)),
            "records_verified": .number(String(recordsVerified)), "records_repushed": .number(String(recordsRepushed)),
            "errors": .array(
                errors.map { error in
                    [
                        "record_type": .string(error.recordType), "local_id": .string(error.localID),
                        "job_id": .string(error.jobID), "code": .string(error.error.code),
                        "message": .string(error.error.message),
                    ]
                }),
            "last_error": lastError.map { ["code": .string($0.code), "message": .string($0.message)] } ?? .null,
            "requested_by": requestedBy.map(JSONValue.string) ?? .null, "started_at": startedAt?.json ?? .null,
            "finished_at": finishedAt?.json ?? .null, "created_at": createdAt.json,
        ]
    }
}
