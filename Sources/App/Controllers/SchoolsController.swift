import Accounting
import Hummingbird
import Persistence

/// `/api/v1/schools/{tenant_id}`: a school's own settings — today its time zone, in which the dashboard shows its
/// people every time.
struct SchoolsController {
    let database: AppDatabase

    var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.get("/schools/{tenant_id}", use: show)
        routes.put("/schools/{tenant_id}", use: update)
        return routes
    }

    @Sendable func show(request: Request, context: AppRequestContext) async throws -> JSONResponse {
        let tenantID = try school(context, role: .viewer)
        return JSONResponse(try await json(tenantID))
    }

    @Sendable func update(request: Request, context: AppRequestContext) async throws -> JSONResponse {
        let tenantID = try school(context, role: .financeManager)
        var request = request
        let body = try await request.jsonObject(context: context)
        guard let zone = body["time_zone"]?.stringValue else {
            throw Problem.invalid([
                FieldError(field: "time_zone", message: "is required: an IANA time zone, like Asia/Kolkata")
            ])
        }
        try await setTimeZone(of: tenantID, to: zone, by: try context.require(.financeManager))
        return JSONResponse(try await json(tenantID))
    }

    /// Sets a school's time zone; the school must be `principal`'s own unless they are everyone's.
    func setTimeZone(of tenantID: String, to zone: String, by principal: Principal) async throws {
        guard principal.tenantID == nil || principal.tenantID == tenantID else {
            throw Problem.notFound("no school \(tenantID)")
        }
        try await database.setSchoolTimeZone(tenantID: tenantID, to: zone, actor: principal.actor, at: .now())
    }

    /// The school the path names, which the caller (of at least `role`) must be allowed to see: their own, or any for
    /// those of no one school.
    private func school(_ context: AppRequestContext, role: APIKey.Role) throws -> String {
        let principal = try context.require(role)
        let tenantID = try context.parameters.require("tenant_id")
        guard principal.tenantID == nil || principal.tenantID == tenantID else {
            throw Problem.notFound("no school \(tenantID)")
        }
        return tenantID
    }

    private func json(_ tenantID: String) async throws -> JSONValue {
        let zone = try await database.schoolTimeZone(tenantID: tenantID)
        return [
            "tenant_id": .string(tenantID), "time_zone": .string(zone ?? "UTC"), "time_zone_set": .bool(zone != nil),
        ]
    }
}
