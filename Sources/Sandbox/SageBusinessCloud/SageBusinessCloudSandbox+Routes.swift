import Accounting
import Foundation
import HTTPTypes
public import Hummingbird
import NIOCore

extension SageBusinessCloudSandbox {
    /// The largest request body taken (Sage states a data-volume cap per hour, not per request; this bounds one).
    static let maximumBody = 4 * 1024 * 1024

    /// The resources the emulator serves, with the singular key their requests are wrapped in (`nil`: read only).
    static let resources: [String: String?] = [
        "contacts": "contact", "sales_invoices": "sales_invoice", "sales_credit_notes": "sales_credit_note",
        "contact_payments": "contact_payment", "contact_allocations": "contact_allocation", "products": "product",
        "services": "service", "ledger_accounts": nil, "tax_rates": nil, "bank_accounts": nil, "currencies": nil,
    ]

    /// The emulator's HTTP surface: the authorize page, `POST /token`, and the Accounting API under `/v3.1`.
    public nonisolated func router() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        addIdentityRoutes(to: router)
        router.get("/v3.1/{resource}") { request, context in
            let resource = try context.parameters.require("resource")
            if resource == "businesses" { return await self.businesses(request, key: nil) }
            return await self.api(request, write: false) { businessID throws(SageBusinessCloudFailure) in
                if resource == "financial_settings" {
                    guard let business = await self.business(businessID) else { throw .notFound }
                    return (200, .object(business.financialSettings))
                }
                return try await self.list(businessID: businessID, resource: resource, request: request)
            }
        }
        router.get("/v3.1/{resource}/{key}") { request, context in
            let resource = try context.parameters.require("resource")
            let key = try context.parameters.require("key")
            if resource == "businesses" { return await self.businesses(request, key: key) }
            return await self.api(request, write: false) { businessID throws(SageBusinessCloudFailure) in
                try await self.one(businessID: businessID, resource: resource, key: key, request: request)
            }
        }
        router.post("/v3.1/{resource}") { request, context in
            let resource = try context.parameters.require("resource")
            let body = await Self.collect(request)
            let json = Self.isJSON(request)
            return await self.api(request, write: true) { businessID throws(SageBusinessCloudFailure) in
                guard json else { throw .unsupportedMediaType }
                return try await self.create(businessID: businessID, resource: resource, body: body)
            }
        }
        router.put("/v3.1/{resource}/{key}") { request, context in
            let resource = try context.parameters.require("resource")
            let key = try context.parameters.require("key")
            let body = await Self.collect(request)
            let json = Self.isJSON(request)
            return await self.api(request, write: true) { businessID throws(SageBusinessCloudFailure) in
                guard json else { throw .unsupportedMediaType }
                return try await self.update(businessID: businessID, resource: resource, key: key, body: body)
            }
        }
        router.delete("/v3.1/{resource}/{key}") { request, context in
            let resource = try context.parameters.require("resource")
            let key = try context.parameters.require("key")
            let reason = request.uri.query.flatMap { FormURLEncoded.value(of: "void_reason", in: $0) }
            return await self.api(request, write: true) { businessID throws(SageBusinessCloudFailure) in
                try await self.delete(businessID: businessID, resource: resource, key: key, voidReason: reason)
            }
        }
        return router
    }

    /// Whether a write's body is declared JSON, the only media type the API takes ("415 Unsupported Media Type: the
    /// media/language being passed in the request is not supported", Sage's "Response Codes" guide).
    static func isJSON(_ request: Request) -> Bool {
        request.headers[.contentType]?.lowercased().hasPrefix("application/json") == true
    }

    /// The body, or `nil` when it is larger than the emulator takes.
    static func collect(_ request: Request) async -> ByteBuffer? {
        try? await request.body.collect(upTo: maximumBody)
    }

    /// Authenticates and limits an API call, answers it (a status and a body, `nil` for none), and drops the answer
    /// of a write when told to.
    nonisolated func api(
        _ request: Request, write: Bool,
        _ handler: @Sendable (String) async throws(SageBusinessCloudFailure) -> (Int, JSONValue?)
    ) async -> Response {
        let bearer = request.headers[.authorization].flatMap { header -> String? in
            header.hasPrefix("Bearer ") ? String(header.dropFirst(7)) : nil
        }
        let header = request.headers[HTTPField.Name("X-Business")!]
        let businessID: String
        do {
            businessID = try await admit(bearer: bearer, business: header, write: write)
        } catch {
            var response = Self.json(error.status, error.body)
            let lead = await leadBusinessID
            if error.status == 429, let business = header ?? lead {
                response.headers[.retryAfter] = String(await retryAfter(businessID: business))
            }
            return response
        }
        let status: Int
        let answer: JSONValue?
        do {
            (status, answer) = try await handler(businessID)
        } catch {
            return Self.json(error.status, error.body)
        }
        if write, await takeDroppedAnswer() {
            // The write is made; the connection breaks before the answer is whole.
            return Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: ResponseBody { writer in
                    try await writer.write(ByteBuffer(string: "{\"id\":"))
                    throw CancellationError()
                })
        }
        guard let answer else { return Response(status: HTTPResponse.Status(code: status)) }
        return Self.json(status, answer)
    }

    /// `GET /businesses` (the user's businesses, the lead one first) and `GET /businesses/{key}` (`lead` for the lead
    /// one). The list is the envelope of summaries Sage's "Best Practices" guide shows for a user with several
    /// businesses (`$items_per_page` 2147483647: the list is never paged); `attributes=all` gives each whole, as
    /// `openapi.user_business.json` describes a `Business`.
    nonisolated func businesses(_ request: Request, key: String?) async -> Response {
        let bearer = request.headers[.authorization].flatMap { header -> String? in
            header.hasPrefix("Bearer ") ? String(header.dropFirst(7)) : nil
        }
        do {
            _ = try await admit(bearer: bearer, business: nil, write: false)
        } catch {
            return Self.json(error.status, error.body)
        }
        let all = await orderedBusinesses()
        guard let key else {
            let attributes = request.uri.query.flatMap { FormURLEncoded.value(of: "attributes", in: $0) }
            let items = all.map { Self.select(Self.businessJSON($0), attributes: attributes) }
            return Self.json(
                200,
                [
                    "$total": .number(String(items.count)), "$page": 1, "$next": nil, "$back": nil,
                    "$items_per_page": 2_147_483_647, "$items": .array(items.map(JSONValue.object)),
                ])
        }
        let lead = await leadBusinessID
        guard let found = all.first(where: { $0.id == key || (key == "lead" && $0.id == lead) }) else {
            return Self.json(404, SageBusinessCloudFailure.notFound.body)
        }
        return Self.json(200, .object(Self.businessJSON(found)))
    }

    static func businessJSON(_ business: SageBusiness) -> [String: JSONValue] {
        [
            "id": .string(business.id), "displayed_as": .string(business.name),
            "$path": .string("/businesses/\(business.id)"),
            "name": .string(business.name),
            "country": ["id": .string(business.region.rawValue), "displayed_as": .string(business.region.rawValue)],
            "is_demo": false, "created_at": .string(SageBusiness.instant(business.created)),
            "updated_at": .string(SageBusiness.instant(business.created)),
            "subscriptions": [["id": "ACCOUNTING", "displayed_as": "Accounting", "active": true, "status": "active"]],
        ]
    }

    // MARK: Reads and writes

    func one(
        businessID: String, resource: String, key: String, request: Request
    ) throws(SageBusinessCloudFailure) -> (Int, JSONValue?) {
        guard Self.resources[resource] != nil, let found = business(businessID)?.record(resource, key) else {
            throw .notFound
        }
        return (200, .object(Self.shown(found, allocations: Self.showsAllocations(request))))
    }

    /// An artefact's `payments_allocations` are shown only when `show_payments_allocations=true` asks for them (the
    /// spec's description of that parameter on the artefacts' GETs); no write's answer shows them.
    static func shown(_ object: [String: JSONValue], allocations: Bool) -> [String: JSONValue] {
        guard !allocations else { return object }
        var object = object
        object.removeValue(forKey: "payments_allocations")
        return object
    }

    static func showsAllocations(_ request: Request) -> Bool {
        request.uri.query.flatMap { FormURLEncoded.value(of: "show_payments_allocations", in: $0) } == "true"
    }

    /// `POST /{resource}` with `{"<singular>": {...}}`. An `idempotency_id` inside the entity that this business
    /// has seen for this resource answers the first request's 201 again, creating nothing
    /// (https://developer.sage.com/accounting/guides/concepts/idempotency).
    func create(businessID: String, resource: String, body: ByteBuffer?) throws(SageBusinessCloudFailure)
        -> (Int, JSONValue?)
    {
        guard let singular = Self.resources[resource], let singular else { throw .notFound }
        var entity = try Self.entity(body, key: singular)
        let idempotencyID = try SageBusiness.text(
            entity.removeValue(forKey: "idempotency_id"), "idempotency_id", limit: 64)
        if let idempotencyID,
            let stored = idempotentAnswer(businessID: businessID, resource: resource, key: idempotencyID)
        {
            return (201, stored)
        }
        let input = entity
        let created = try change(businessID: businessID) { business, now throws(SageBusinessCloudFailure) in
            switch resource {
            case "contacts": try business.saveContact(input, id: nil, now: now)
            case "sales_invoices": try business.saveArtefact(.invoice, input, id: nil, now: now)
            case "sales_credit_notes": try business.saveArtefact(.creditNote, input, id: nil, now: now)
            case "contact_payments": try business.createPayment(input, now: now)
            case "contact_allocations": try business.createAllocation(input, now: now)
            default: try business.createItem(resource, input, now: now)
            }
        }
        let answer = JSONValue.object(Self.shown(created, allocations: false))
        if let idempotencyID {
            rememberIdempotent(businessID: businessID, resource: resource, key: idempotencyID, answer: answer)
        }
        return (201, answer)
    }

    /// `PUT /{resource}/{key}` with `{"<singular>": {...}}`: the fields given change, the others stay.
    func update(businessID: String, resource: String, key: String, body: ByteBuffer?) throws(SageBusinessCloudFailure)
        -> (Int, JSONValue?)
    {
        guard let singular = Self.resources[resource], let singular,
            ["contacts", "sales_invoices", "sales_credit_notes"].contains(resource)
        else { throw .notFound }
        guard business(businessID)?.record(resource, key) != nil else { throw .notFound }
        let input = try Self.entity(body, key: singular)
        let updated = try change(businessID: businessID) { business, now throws(SageBusinessCloudFailure) in
            switch resource {
            case "contacts": try business.saveContact(input, id: key, now: now)
            case "sales_invoices": try business.saveArtefact(.invoice, input, id: key, now: now)
            default: try business.saveArtefact(.creditNote, input, id: key, now: now)
            }
        }
        return (200, .object(Self.shown(updated, allocations: false)))
    }

    /// `DELETE /{resource}/{key}`: an artefact is voided (`void_reason`; a draft is deleted), a contact or payment
    /// deleted.
    func delete(businessID: String, resource: String, key: String, voidReason: String?) throws(SageBusinessCloudFailure)
        -> (Int, JSONValue?)
    {
        switch resource {
        case "sales_invoices", "sales_credit_notes":
            let kind: SageBusiness.Artefact = resource == "sales_invoices" ? .invoice : .creditNote
            let voided = try change(businessID: businessID) { business, now throws(SageBusinessCloudFailure) in
                try business.void(kind, key, reason: voidReason, now: now)
            }
            guard let voided else { return (204, nil) }
            return (200, .object(Self.shown(voided, allocations: false)))
        case "contacts":
            try change(businessID: businessID) { business, now throws(SageBusinessCloudFailure) in
                try business.deleteContact(key, now: now)
            }
            return (204, nil)
        case "contact_payments":
            try change(businessID: businessID) { business, now throws(SageBusinessCloudFailure) in
                try business.deletePayment(key, now: now)
            }
            return (204, nil)
        default:
            throw .notFound
        }
    }

    /// The entity inside a request's singular-key wrapper.
    static func entity(_ body: ByteBuffer?, key: String) throws(SageBusinessCloudFailure) -> [String: JSONValue] {
        guard let body else { throw .badRequest("The request body is larger than 4 MB") }
        let value: JSONValue
        do {
            value = try JSONValue(parsing: body.readableBytesView)
        } catch {
            throw .badRequest("The request body is not valid JSON")
        }
        guard let entity = value[key] else { throw .blank(key) }
        guard let object = entity.objectValue else { throw .invalid(key, "is invalid") }
        return object
    }
}
