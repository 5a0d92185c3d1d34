import Accounting
import Hummingbird
import Logging
import Persistence

/// `/api/v1/records`: canonical records, their links to each integration, and every version.
struct RecordsController {
    let database: AppDatabase

    var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.get("/records", use: list)
        routes.get("/records/{id}", use: show)
        routes.get("/records/{id}/versions", use: versions)
        return routes
    }

    @Sendable func list(request: Request, context: AppRequestContext) async throws -> JSONResponse {
        let principal = try context.require(.viewer)
        let recordType = try request.query("type", as: RecordType.self)?.rawValue
        let page = try await database.records(
            tenantID: principal.tenantID ?? request.query("tenant_id"),
            recordType: recordType,
            localID: request.query("local_id"),
            integrationID: request.query("integration_id"),
            remoteID: request.query("remote_id"),
            page: request.pageRequest()
        )
        return .page(page, \.json)
    }

    @Sendable func show(request: Request, context: AppRequestContext) async throws -> JSONResponse {
        let principal = try context.require(.viewer)
        let id = try context.parameters.require("id")
        guard let record = try await database.record(id: id, tenantID: principal.tenantID) else {
            throw Problem.notFound("no record \(id)")
        }
        return JSONResponse(record.json)
    }

    @Sendable func versions(request: Request, context: AppRequestContext) async throws -> JSONResponse {
        let principal = try context.require(.viewer)
        let id = try context.parameters.require("id")
        guard try await database.record(id: id, tenantID: principal.tenantID) != nil else {
            throw Problem.notFound("no record \(id)")
        }
        let page = try await database.recordVersions(recordID: id, page: request.pageRequest())
        return .page(page, \.json)
    }
}

extension RecordVersion {
    var json: JSONValue {
        var members: [String: JSONValue] = [:]
        members["record_id"] = .string(recordID)
        members["version"] = .number(String(version))
        members["action"] = .string(action)
        members["data"] = data
        members["source_updated_at"] = sourceUpdatedAt.json
        members["delivery_id"] = deliveryID.map(JSONValue.string) ?? .null
        members["created_at"] = createdAt.json
        return .object(members)
    }
}

extension RecordLink {
    var json: JSONValue {
        var members: [String: JSONValue] = [:]
        members["integration_id"] = .string(integrationID)
        members["remote_id"] = remoteID.map(JSONValue.string) ?? .null
        members["status"] = .string(status)
        members["last_synced_at"] = lastSyncedAt?.json ?? .null
        return .object(members)
    }
}

extension StoredRecord {
    var json: JSONValue {
        var members: [String: JSONValue] = [:]
        members["id"] = .string(id)
        members["tenant_id"] = .string(tenantID)
        members["type"] = .string(recordType)
        members["local_id"] = .string(localID)
        members["version"] = .number(String(version))
        members["voided"] = .bool(action == "void")
        members["data"] = data
        members["source_updated_at"] = sourceUpdatedAt.json
        members["created_at"] = createdAt.json
        members["updated_at"] = updatedAt.json
        members["links"] = .array(links.map(\.json))
        return .object(members)
    }
}
