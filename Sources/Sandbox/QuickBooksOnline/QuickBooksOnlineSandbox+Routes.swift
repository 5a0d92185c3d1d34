import Accounting
import Foundation
import HTTPTypes
public import Hummingbird
import NIOCore

extension QuickBooksOnlineSandbox {
    /// The emulator's HTTP surface: Intuit's OAuth endpoints (authorize shows a consent page whose form posts back
    /// to it) and the Accounting API v3 under `/v3/company/{realmId}`.
    public nonisolated func router() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.get("/connect/oauth2") { request, _ in await self.consentPageRoute(request) }
        router.post("/connect/oauth2") { request, _ in try await self.consentRoute(request) }
        router.post("/oauth2/v1/tokens/bearer") { request, _ in try await self.tokenRoute(request) }
        router.post("/v2/oauth2/tokens/revoke") { request, _ in try await self.revokeRoute(request) }
        router.get("/v3/company/{realm}/query") { request, context in
            let realm = try context.parameters.require("realm")
            return await self.api(request, realm: realm, batch: false) { _ in
                try await self.query(realm: realm, text: request.formValue("query") ?? "")
            }
        }
        router.post("/v3/company/{realm}/query") { request, context in
            let realm = try context.parameters.require("realm")
            let body = try await request.body.collect(upTo: 1 << 20)
            return await self.api(request, realm: realm, batch: false) { _ in
                try await self.query(realm: realm, text: String(buffer: body))
            }
        }
        router.post("/v3/company/{realm}/batch") { request, context in
            let realm = try context.parameters.require("realm")
            let body = try await request.body.collect(upTo: 4 << 20)
            return await self.api(request, realm: realm, batch: true) { _ in
                guard
                    let items = (try? JSONValue(parsing: Array(body.readableBytesView)))?["BatchItemRequest"]?
                        .arrayValue
                else { throw QBOFault.badRequest("The request body has no BatchItemRequest") }
                return try await self.batch(realm: realm, items: items)
            }
        }
        router.get("/v3/company/{realm}/cdc") { request, context in
            let realm = try context.parameters.require("realm")
            return await self.api(request, realm: realm, batch: false) { _ in
                return try await self.changeDataCapture(
                    realm: realm, entities: request.formValue("entities") ?? "",
                    changedSince: request.formValue("changedSince"))
            }
        }
        router.get("/v3/company/{realm}/preferences") { request, context in
            let realm = try context.parameters.require("realm")
            return await self.api(request, realm: realm, batch: false) { _ in
                guard let preferences = await self.preferences(realmID: realm) else {
                    throw QBOFault.notFound("Company", realm)
                }
                return (200, ["Preferences": .object(preferences)])
            }
        }
        router.get("/v3/company/{realm}/{entity}/{id}") { request, context in
            let realm = try context.parameters.require("realm")
            let entityPath = try context.parameters.require("entity")
            let id = try context.parameters.require("id")
            return await self.api(request, realm: realm, batch: false) { _ in
                // The company itself: read with the realm's token, as apps do to confirm what they were granted.
                if entityPath.lowercased() == "companyinfo" {
                    guard id == realm else { throw QBOFault.notFound("CompanyInfo", id) }
                    return (
                        200,
                        [
                            "CompanyInfo": [
                                "Id": .string(realm), "CompanyName": .string(QuickBooksConsentPage.companyName(realm)),
                                "Country": .string(await self.country(realmID: realm)?.rawValue ?? "IN"),
                                "SyncToken": "0",
                            ]
                        ]
                    )
                }
                let entity = try Self.entity(entityPath)
                let object = try await self.perform(realmID: realm) { (company: inout QBOCompany, _) throws(QBOFault) in
                    guard let object = company.object(entity, id: id) else { throw .notFound(entity, id) }
                    return object
                }
                return (200, [entity: .object(object)])
            }
        }
        router.post("/v3/company/{realm}/{entity}") { request, context in
            let realm = try context.parameters.require("realm")
            let entityPath = try context.parameters.require("entity")
            let body = try await request.body.collect(upTo: 1 << 20)
            return await self.api(request, realm: realm, batch: false) { _ in
                let entity = try Self.entity(entityPath)
                guard case .object(let input) = try? JSONValue(parsing: Array(body.readableBytesView)) else {
                    throw QBOFault.badRequest("The request body is not a JSON object")
                }
                let operation = request.formValue("operation")
                // `include=allowduplicatedocnum`: a duplicate DocNumber is taken even with custom numbers on.
                let allowDuplicate = Self.allowsDuplicateDocNumber(request.formValue("include"))
                let object = try await self.perform(realmID: realm) {
                    (company: inout QBOCompany, now) throws(QBOFault) in
                    switch operation {
                    case "void": return try company.void(entity, input, now: now)
                    case "delete": return try company.delete(entity, input, now: now)
                    case nil, "update":
                        if input["Id"] != nil {
                            return try company.update(
                                entity, input, sparse: input["sparse"]?.boolValue == true, now: now,
                                allowDuplicateDocNumber: allowDuplicate)
                        }
                        return try company.create(entity, input, now: now, allowDuplicateDocNumber: allowDuplicate)
                    case let other?:
                        throw .unsupported("Operation \(other) is not supported")
                    }
                }
                return (200, [entity: .object(object)])
            }
        }
        return router
    }

    /// Whether an `include` list (a query parameter, or a batch item's `optionsData`) names `allowduplicatedocnum`.
    static func allowsDuplicateDocNumber(_ include: String?) -> Bool {
        (include ?? "").split(separator: ",").contains {
            $0.trimmingCharacters(in: .whitespaces).lowercased() == "allowduplicatedocnum"
        }
    }

    /// Authenticates and limits an API call, replays a `requestid` seen before, and answers Faults in their shape.
    nonisolated func api(
        _ request: Request, realm: String, batch: Bool,
        _ handler: @Sendable (Request) async throws -> (Int, JSONValue)
    ) async -> Response {
        let bearer = request.headers[.authorization].flatMap { header -> String? in
            header.hasPrefix("Bearer ") ? String(header.dropFirst(7)) : nil
        }
        switch await admit(realmID: realm, bearer: bearer, batch: batch) {
        case .refused(let status, let body):
            return Self.json(status, body)
        case .admitted:
            break
        }
        let requestID = request.formValue("requestid")
        // A stored answer is replayed to the same operation only: the method, the path and its `operation`.
        let operation = "\(request.method) \(request.uri.path) \(request.formValue("operation") ?? "")"
        var (status, body): (Int, JSONValue)
        if let stored = await reply(realmID: realm, requestID: requestID, operation: operation) {
            (status, body) = stored
        } else {
            do {
                let limit = batch ? 36 : 50
                if let requestID, requestID.count > limit { throw QBOFault.requestIDTooLong(requestID, limit: limit) }
                (status, body) = try await handler(request)
                if case .object(var members) = body {
                    members["time"] = .string(QBOCompany.time(await now))
                    body = .object(members)
                }
            } catch let fault as QBOFault {
                (status, body) = (Int(fault.status.code), fault.body(time: QBOCompany.time(await now)))
            } catch {
                let fault = QBOFault.badRequest(String(describing: error))
                (status, body) = (400, fault.body(time: QBOCompany.time(await now)))
            }
            if request.method == .post {
                await remember(
                    realmID: realm, requestID: requestID, operation: operation, status: status, body: body)
            }
        }
        let delay = await responseDelay
        if delay > .zero { try? await Task.sleep(for: delay) }
        await finish(realmID: realm)
        if request.method == .post, await takeDroppedAnswer() {
            // The write is made; the connection breaks before the answer is whole.
            return Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: ResponseBody { writer in
                    try await writer.write(ByteBuffer(string: "{\"Inv"))
                    throw CancellationError()
                })
        }
        return Self.json(status, body)
    }

    /// `POST /batch`: up to 30 operations, each answered on its own (an entity, a `QueryResponse` or a Fault) under
    /// its `bId`; the call itself succeeds.
    func batch(realm: String, items: [JSONValue]) throws(QBOFault) -> (Int, JSONValue) {
        guard items.count <= 30 else {
            throw .validation("1040", "Batch limit exceeded", "A batch request can have at most 30 items")
        }
        // At least one item (`BatchItemRequest` minOccurs 1 in IntuitRestServiceDef.xsd), each with its own `bId`
        // (required and unique in a batch, by Intuit's batch reference): the batch is refused whole otherwise.
        guard !items.isEmpty else { throw .requiredParameter("BatchItemRequest") }
        var seen: Set<String> = []
        for item in items {
            guard let bId = item["bId"]?.stringValue, !bId.isEmpty else { throw .requiredParameter("bId") }
            guard seen.insert(bId).inserted else {
                throw .businessRule("Business Validation Error: bId \(bId) is used by more than one item of the batch")
            }
        }
        var answers: [JSONValue] = []
        // Items run independently: one cannot use what an earlier item of the same batch created.
        var created: Set<String> = []
        for item in items {
            let bId = item["bId"] ?? .null
            do throws(QBOFault) {
                if let text = item["Query"]?.stringValue {
                    let (_, answer) = try query(realm: realm, text: text)
                    answers.append(["bId": bId, "QueryResponse": answer["QueryResponse"] ?? [:]])
                    continue
                }
                guard case .object(let members) = item,
                    let (key, value) = members.first(where: { QBOCompany.entityNames[$0.key.lowercased()] != nil }),
                    case .object(let input) = value
                else { throw .badRequest("A batch item names no entity") }
                let entity = try Self.entity(key)
                if let field = Self.referenceToAny(of: created, in: .object(input)) { throw .invalidReference(field) }
                let options = item["optionsData"]?.stringValue
                let operation = options == "void" ? "void" : item["operation"]?.stringValue
                let allowDuplicate = Self.allowsDuplicateDocNumber(options)
                let object = try perform(realmID: realm) { (company: inout QBOCompany, now) throws(QBOFault) in
                    switch operation {
                    case "create":
                        return try company.create(entity, input, now: now, allowDuplicateDocNumber: allowDuplicate)
                    case "update":
                        return try company.update(
                            entity, input, sparse: input["sparse"]?.boolValue == true, now: now,
                            allowDuplicateDocNumber: allowDuplicate)
                    case "delete": return try company.delete(entity, input, now: now)
                    case "void": return try company.void(entity, input, now: now)
                    default: throw .unsupported("Batch operation \(operation ?? "(none)") is not supported")
                    }
                }
                if operation == "create", let id = object["Id"]?.stringValue { created.insert(id) }
                let answer: [String: JSONValue] = ["bId": bId, entity: .object(object)]
                answers.append(.object(answer))
            } catch {
                answers.append(["bId": bId, "Fault": error.body(time: QBOCompany.time(now))["Fault"] ?? .null])
            }
        }
        return (200, ["BatchItemResponse": .array(answers)])
    }

    /// The first reference (a `…Ref`'s `value`, a `LinkedTxn`'s `TxnId`) in `value` to one of `ids`, by its field.
    static func referenceToAny(of ids: Set<String>, in value: JSONValue, path: String = "") -> String? {
        guard !ids.isEmpty else { return nil }
        switch value {
        case .object(let members):
            for (key, member) in members.sorted(by: { $0.key < $1.key }) {
                let field = path.isEmpty ? key : "\(path).\(key)"
                if key.hasSuffix("Ref"), let id = member["value"]?.stringValue, ids.contains(id) { return field }
                if key == "TxnId", let id = member.stringValue, ids.contains(id) { return field }
                if let found = referenceToAny(of: ids, in: member, path: field) { return found }
            }
            return nil
        case .array(let elements):
            return elements.lazy.compactMap { referenceToAny(of: ids, in: $0, path: path) }.first
        default:
            return nil
        }
    }

    /// `GET /cdc`: what changed since `changedSince` (at most 30 days ago), at most 1000 objects.
    func changeDataCapture(realm: String, entities: String, changedSince: String?) throws(QBOFault) -> (Int, JSONValue)
    {
        guard !entities.trimmingCharacters(in: .whitespaces).isEmpty else { throw .requiredParameter("entities") }
        guard let changedSince, let since = QBOCompany.date(changedSince) else {
            throw .requiredParameter("changedSince")
        }
        guard since >= now.addingTimeInterval(-30 * 86_400) else {
            throw .validation(
                "4001", "Invalid changedSince", "changedSince cannot be more than 30 days in the past",
                element: "changedSince")
        }
        var names: [String] = []
        for name in entities.split(separator: ",") {
            let entity = try Self.entity(name.trimmingCharacters(in: .whitespaces))
            guard entity != "TaxCode", entity != "TaxRate" else {
                throw .unsupported("Change data capture does not support \(entity)")
            }
            names.append(entity)
        }
        guard let company = companies[realm] else { throw .notFound("Company", realm) }
        let found = company.changed(names, since: since, limit: 1000)
        let groups: [JSONValue] = names.compactMap { name in
            guard let objects = found[name] else { return nil }
            let group: [String: JSONValue] = [
                name: .array(objects.map(JSONValue.object)), "startPosition": 1,
                "maxResults": .number(String(objects.count)),
            ]
            return .object(group)
        }
        return (200, ["CDCResponse": [["QueryResponse": .array(groups)]]])
    }

    func query(realm: String, text: String) throws(QBOFault) -> (Int, JSONValue) {
        let query = try QBOQuery(parsing: text)
        guard let entity = QBOCompany.entityNames[query.entity.lowercased()] else {
            throw .parse("unknown entity \(query.entity)")
        }
        try query.checkProperties(of: entity)
        guard let company = companies[realm] else { throw .notFound("Company", realm) }
        var matches = company.all(entity).filter(query.matches)
        // A name list's inactive entries are left out unless the query asks about `Active` itself
        // (`Active = false`, `Active IN (true, false)`).
        if QBOQuery.nameLists.contains(entity), !query.conditions.contains(where: { $0.field == "Active" }) {
            matches = matches.filter { $0["Active"]?.boolValue ?? true }
        }
        if query.count {
            return (200, ["QueryResponse": ["totalCount": .number(String(matches.count))]])
        }
        if let order = query.orderBy {
            matches.sort { left, right in
                let a = QBOQuery.value(of: order.field, in: left) ?? ""
                let b = QBOQuery.value(of: order.field, in: right) ?? ""
                let result = QBOQuery.compare(a, b)
                return order.descending ? result == .orderedDescending : result == .orderedAscending
            }
        }
        let page = Array(matches.dropFirst(query.startPosition - 1).prefix(query.maxResults))
        guard !page.isEmpty else { return (200, ["QueryResponse": [:]]) }
        return (
            200,
            [
                "QueryResponse": [
                    entity: .array(page.map(JSONValue.object)), "startPosition": .number(String(query.startPosition)),
                    "maxResults": .number(String(page.count)),
                ]
            ]
        )
    }

    private nonisolated func tokenRoute(_ request: Request) async throws -> Response {
        guard let (clientID, secret) = Self.basicCredentials(request.headers[.authorization]) else {
            return Self.json(401, ["error": "invalid_client"])
        }
        let body = try await request.body.collect(upTo: 64 * 1024)
        var form: [String: String] = [:]
        for field in FormURLEncoded.fields(String(buffer: body)).reversed() { form[field.name] = field.value }
        let answer = await token(
            clientID: clientID, secret: secret, grantType: form["grant_type"] ?? "", code: form["code"],
            redirectURI: form["redirect_uri"], refreshToken: form["refresh_token"])
        switch answer {
        case .error(let status, let code):
            return Self.json(status, ["error": .string(code)])
        case .tokens(let access, let refresh, _):
            return Self.json(
                200,
                [
                    "access_token": .string(access), "refresh_token": .string(refresh), "token_type": "bearer",
                    "expires_in": .number(String(Int(accessTokenLifetime))),
                    "x_refresh_token_expires_in": .number(String(Int(refreshTokenLifetime))),
                ])
        }
    }

    private nonisolated func revokeRoute(_ request: Request) async throws -> Response {
        guard let (clientID, secret) = Self.basicCredentials(request.headers[.authorization]),
            await clientAuthenticates(clientID: clientID, secret: secret)
        else {
            return Self.json(401, ["error": "invalid_client"])
        }
        let body = try await request.body.collect(upTo: 64 * 1024)
        guard let token = (try? JSONValue(parsing: Array(body.readableBytesView)))?["token"]?.stringValue else {
            return Self.json(400, ["error": "invalid_request"])
        }
        await revoke(token: token)
        return Response(status: .ok)
    }

    static func entity(_ path: String) throws(QBOFault) -> String {
        guard let entity = QBOCompany.entityNames[path.lowercased()] else {
            throw .unsupported("Unsupported entity \(path)")
        }
        return entity
    }

    static func basicCredentials(_ header: String?) -> (String, String)? {
        guard let header, header.hasPrefix("Basic "), let data = Data(base64Encoded: String(header.dropFirst(6))),
            let text = String(data: data, encoding: .utf8), let colon = text.firstIndex(of: ":")
        else { return nil }
        return (String(text[..<colon]), String(text[text.index(after: colon)...]))
    }

    static func json(_ status: Int, _ body: JSONValue) -> Response {
        Response(
            status: HTTPResponse.Status(code: status),
            headers: [.contentType: "application/json", HTTPField.Name("intuit_tid")!: randomToken("1-")],
            body: ResponseBody(byteBuffer: ByteBuffer(string: body.canonicalString)))
    }
}

extension Request {
    /// A query parameter decoded as a form field (`+` is a space), as QuickBooks reads `curl -G --data-urlencode`.
    func formValue(_ name: String) -> String? {
        uri.query.flatMap { FormURLEncoded.value(of: name, in: $0) }
    }
}
