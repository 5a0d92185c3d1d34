import Accounting
import Connectors
import Foundation
import Hummingbird
import Logging
import Persistence
import SyncEngine

/// `/api/v1/records`: canonical records, their links to each integration, and every version; and a person's manual
/// override of a record's link to one integration's books (link, unlink, exclude, include, push again).
struct RecordsController {
    let database: AppDatabase
    let platforms: PlatformAccess

    var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.get("/records", use: list)
        routes.get("/records/{id}", use: show)
        routes.get("/records/{id}/versions", use: versions)
        routes.get("/records/{id}/links/{integration_id}/candidates", use: candidates)
        routes.put("/records/{id}/links/{integration_id}", use: link)
        routes.delete("/records/{id}/links/{integration_id}", use: unlink)
        routes.put("/records/{id}/links/{integration_id}/exclusion", use: exclude)
        routes.delete("/records/{id}/links/{integration_id}/exclusion", use: include)
        routes.post("/records/{id}/links/{integration_id}/push", use: pushAgain)
        return routes
    }

    /// The most records a search of the books answers.
    static let candidateLimit = 20

    @Sendable func list(request: Request, context: AppRequestContext) async throws -> JSONResponse {
        let principal = try context.require(.viewer)
        let recordType = try request.query("type", as: RecordType.self)?.rawValue
        if let text = request.query("q") {
            guard text.utf8.count <= 200 else {
                throw Problem.invalid([FieldError(field: "q", message: "must be at most 200 bytes")])
            }
            let page = try await database.searchRecords(
                text, tenantID: principal.tenantID ?? request.query("tenant_id"), recordType: recordType,
                page: request.pageRequest())
            return .page(page, \.json)
        }
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

    @Sendable func candidates(request: Request, context: AppRequestContext) async throws -> JSONResponse {
        let principal = try context.require(.operator)
        let (record, integration) = try await target(context, principal)
        let found = try await candidates(for: record, in: integration, text: request.query("q"), logger: context.logger)
        return JSONResponse([
            "record_id": .string(record.id), "integration_id": .string(integration.id),
            "items": .array(found.map(\.json)),
        ])
    }

    @Sendable func link(request: Request, context: AppRequestContext) async throws -> JSONResponse {
        let principal = try context.require(.operator)
        var request = request
        let body = try await request.jsonObject(context: context)
        guard let remoteID = body["remote_id"]?.stringValue, !remoteID.isEmpty, remoteID.utf8.count <= 100 else {
            throw Problem.invalid([
                FieldError(field: "remote_id", message: "is required: the platform's id of the record, 1 to 100 bytes")
            ])
        }
        let (record, integration) = try await target(context, principal)
        return JSONResponse(
            try await link(record, in: integration, to: remoteID, by: principal, logger: context.logger).json)
    }

    @Sendable func unlink(request: Request, context: AppRequestContext) async throws -> JSONResponse {
        let principal = try context.require(.operator)
        let (record, integration) = try await target(context, principal)
        return JSONResponse(
            try await database.unlinkRecord(
                id: record.id, integrationID: integration.id, tenantID: principal.tenantID, actor: principal.actor,
                at: .now()
            ).json)
    }

    @Sendable func exclude(request: Request, context: AppRequestContext) async throws -> JSONResponse {
        try await setExcluded(true, context: context)
    }

    @Sendable func include(request: Request, context: AppRequestContext) async throws -> JSONResponse {
        try await setExcluded(false, context: context)
    }

    private func setExcluded(_ excluded: Bool, context: AppRequestContext) async throws -> JSONResponse {
        let principal = try context.require(.operator)
        let (record, integration) = try await target(context, principal)
        return JSONResponse(
            try await database.setRecordExcluded(
                excluded, id: record.id, integrationID: integration.id, tenantID: principal.tenantID,
                actor: principal.actor, at: .now()
            ).json)
    }

    @Sendable func pushAgain(request: Request, context: AppRequestContext) async throws -> JSONResponse {
        let principal = try context.require(.operator)
        let (record, integration) = try await target(context, principal)
        let (pushed, jobID) = try await database.pushRecordAgain(
            id: record.id, integrationID: integration.id, tenantID: principal.tenantID, actor: principal.actor,
            at: .now())
        return JSONResponse(["record": pushed.json, "job_id": .string(jobID)], status: .accepted)
    }

    /// The record and integration a link route names, both visible to `principal` (else 404), the record of a type
    /// the platform keeps.
    func target(_ context: AppRequestContext, _ principal: Principal) async throws -> (StoredRecord, Integration) {
        let id = try context.parameters.require("id")
        let integrationID = try context.parameters.require("integration_id")
        guard let record = try await database.record(id: id, tenantID: principal.tenantID) else {
            throw Problem.notFound("no record \(id)")
        }
        guard let integration = try await database.integration(id: integrationID, tenantID: principal.tenantID),
            integration.tenantID == record.tenantID
        else { throw Problem.notFound("no integration \(integrationID) of the record's school") }
        return (record, integration)
    }

    /// Records of the integration's books that could be billing's `record`: those `text` names, or by default those
    /// its number or name names. Each says which billing record it is linked to already, if any.
    func candidates(for record: StoredRecord, in integration: Integration, text: String?, logger: Logger)
        async throws -> [Candidate]
    {
        let recordType = try Self.recordType(of: record)
        let wanted = (text ?? "").trimmingCharacters(in: .whitespaces)
        let term = wanted.isEmpty ? Self.defaultSearch(for: record) : wanted
        guard let term, !term.isEmpty else { return [] }
        guard term.utf8.count <= 100 else {
            throw Problem.invalid([FieldError(field: "q", message: "must be at most 100 bytes")])
        }
        let found = try await platformCall(integration) {
            try await platforms.search(
                recordType, for: term, limit: Self.candidateLimit, in: integration, logger: logger)
        }
        let linked = try await database.linkedRecords(
            integrationID: integration.id, recordType: recordType.rawValue, remoteIDs: found.map(\.remoteID))
        return found.map { Candidate(record: $0, linkedTo: linked[$0.remoteID]) }
    }

    /// Links `record` to the books' record `remoteID`, which the platform must hold (its version is read there).
    func link(
        _ record: StoredRecord, in integration: Integration, to remoteID: String, by principal: Principal,
        logger: Logger
    ) async throws -> StoredRecord {
        let recordType = try Self.recordType(of: record)
        let remote = try await platformCall(integration) {
            try await platforms.pull(recordType, remoteID: remoteID, in: integration, logger: logger)
        }
        guard let remote, !remote.deleted else {
            throw Problem.invalid([
                FieldError(
                    field: "remote_id",
                    message: "\(integration.platform.displayName) has no \(recordType.rawValue) \(remoteID)")
            ])
        }
        return try await database.linkRecord(
            id: record.id, integrationID: integration.id,
            to: .init(remoteID: remote.remoteID, remoteVersion: remote.remoteVersion), tenantID: principal.tenantID,
            actor: principal.actor, at: .now())
    }

    /// A call to the integration's platform; what it answers wrong is a 502 saying so.
    private func platformCall<T>(_ integration: Integration, _ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as ConnectorError {
            throw Problem(
                status: .badGateway, title: "Bad Gateway",
                detail: "\(integration.platform.displayName) could not be asked: \(error.message)")
        }
    }

    static func recordType(of record: StoredRecord) throws -> RecordType {
        guard let type = RecordType(rawValue: record.recordType) else {
            throw Problem.invalid([
                FieldError(field: "type", message: "records of type \(record.recordType) are not kept in the books")
            ])
        }
        return type
    }

    /// What a record is known by in the books: a document's number, a customer's name.
    static func defaultSearch(for record: StoredRecord) -> String? {
        record.data["number"]?.stringValue ?? record.data["name"]?.stringValue
    }

    /// A record of the books a person may link billing's record to.
    struct Candidate: Sendable {
        var record: RemoteRecord
        /// Billing's id of the record of the same type linked to it already.
        var linkedTo: String?

        var json: JSONValue {
            [
                "remote_id": .string(record.remoteID),
                "remote_version": record.remoteVersion.map(JSONValue.string) ?? .null,
                "data": record.data, "linked_to": linkedTo.map(JSONValue.string) ?? .null,
            ]
        }
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
        members["excluded"] = .bool(status == "excluded")
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
