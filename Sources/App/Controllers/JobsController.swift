import Accounting
import Hummingbird
import Persistence

/// `/api/v1/jobs`: the sync engine's queue — what is pending, parked, failed or dead — and a person's retry.
struct JobsController {
    let database: AppDatabase

    var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.get("/jobs", use: list)
        routes.get("/jobs/{id}", use: show)
        routes.post("/jobs/{id}/retry", use: retry)
        return routes
    }

    @Sendable func list(request: Request, context: AppRequestContext) async throws -> JSONResponse {
        let principal = try context.require(.viewer)
        let status = try request.query("status", as: Job.Status.self)
        let page = try await database.jobs(
            status: status, integrationID: request.query("integration_id"), tenantID: principal.tenantID,
            page: request.pageRequest())
        return .page(page) { $0.json(attempts: nil) }
    }

    @Sendable func show(request: Request, context: AppRequestContext) async throws -> JSONResponse {
        let principal = try context.require(.viewer)
        let id = try context.parameters.require("id")
        guard let job = try await database.job(id: id, tenantID: principal.tenantID) else {
            throw Problem.notFound("no job \(id)")
        }
        return JSONResponse(job.json(attempts: try await database.jobAttempts(jobID: id)))
    }

    @Sendable func retry(request: Request, context: AppRequestContext) async throws -> JSONResponse {
        let principal = try context.require(.operator)
        let id = try context.parameters.require("id")
        guard
            let job = try await database.retryJob(
                id: id, tenantID: principal.tenantID, actor: principal.actor, at: .now())
        else { throw Problem.notFound("no job \(id)") }
        return JSONResponse(job.json(attempts: nil), status: .accepted)
    }
}

extension Job {
    func json(attempts: [JobAttempt]?) -> JSONValue {
        var members: [String: JSONValue] = [
            "id": .string(id), "integration_id": .string(integrationID), "tenant_id": .string(tenantID),
            "kind": .string(kind), "record_id": .string(recordID), "record_type": .string(recordType),
            "local_id": .string(localID), "version": .number(String(version)), "status": .string(status.rawValue),
            "attempts": .number(String(self.attempts)), "max_attempts": .number(String(maxAttempts)),
            "deferrals": .number(String(deferrals)),
            "next_attempt_at": status == .pending ? nextAttemptAt.json : .null,
            "last_error": lastError?.json ?? .null,
            "remote_id": remoteID.map(JSONValue.string) ?? .null,
            "created_at": createdAt.json, "updated_at": updatedAt.json,
        ]
        if let attempts {
            members["attempt_history"] = .array(
                attempts.map { attempt in
                    [
                        "attempt": .number(String(attempt.attempt)), "worker": .string(attempt.worker),
                        "started_at": attempt.startedAt.json, "finished_at": attempt.finishedAt.json,
                        "outcome": .string(attempt.outcome),
                        "error": attempt.error.map { ["code": .string($0.code), "message": .string($0.message)] }
                            ?? .null,
                    ]
                })
        }
        return .object(members)
    }
}
