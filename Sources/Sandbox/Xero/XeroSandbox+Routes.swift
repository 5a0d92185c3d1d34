import Accounting
import Crypto
import Foundation
import HTTPTypes
public import Hummingbird
import NIOCore

extension XeroSandbox {
    /// Xero's request size limit: "A single POST to the Accounting or Payroll APIs has a size limit of 3.5MB. There is
    /// no limit to the number of elements within a request" (developer.xero.com, Xero API limits).
    static let maximumBody = 3_670_016

    /// The collections the emulator serves, by the lower-case name in their URL (Xero's paths ignore case).
    static let collections: [String: String] = [
        "contacts": "Contacts", "invoices": "Invoices", "payments": "Payments", "creditnotes": "CreditNotes",
        "items": "Items", "accounts": "Accounts", "taxrates": "TaxRates", "currencies": "Currencies",
        "organisation": "Organisation", "journals": "Journals",
    ]

    /// The emulator's HTTP surface: the consent page, `/connect/token`, `/connect/revocation`, `/connections`, and
    /// the Accounting API under `/api.xro/2.0`.
    public nonisolated func router() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        addIdentityRoutes(to: router)
        router.get("/api.xro/2.0/{collection}") { request, context in
            let collection = try context.parameters.require("collection")
            return await self.api(request, body: nil) { tenant in
                try await self.list(tenant: tenant, collection: collection, request: request)
            }
        }
        router.get("/api.xro/2.0/{collection}/{id}") { request, context in
            let collection = try context.parameters.require("collection")
            let id = try context.parameters.require("id")
            return await self.api(request, body: nil) { tenant in
                try await self.one(tenant: tenant, collection: collection, id: id)
            }
        }
        for method in [HTTPRequest.Method.put, .post] {
            router.on("/api.xro/2.0/{collection}", method: method) { request, context in
                let collection = try context.parameters.require("collection")
                guard let body = await Self.collect(request) else { return Self.tooLarge() }
                return await self.api(request, body: body) { tenant in
                    try await self.write(
                        tenant: tenant, collection: collection, id: nil, create: method == .put, body: body,
                        request: request)
                }
            }
        }
        router.post("/api.xro/2.0/{collection}/{id}") { request, context in
            let collection = try context.parameters.require("collection")
            let id = try context.parameters.require("id")
            guard let body = await Self.collect(request) else { return Self.tooLarge() }
            return await self.api(request, body: body) { tenant in
                try await self.write(
                    tenant: tenant, collection: collection, id: id, create: false, body: body, request: request)
            }
        }
        // `{collection}`, not `CreditNotes`: a literal segment would take `PUT /CreditNotes` away from the route above.
        router.put("/api.xro/2.0/{collection}/{id}/Allocations") { request, context in
            let id = try context.parameters.require("id")
            guard try context.parameters.require("collection").lowercased() == "creditnotes" else {
                return Self.json(404, Self.problem(404, "Not Found", "The resource you're looking for cannot be found"))
            }
            guard let body = await Self.collect(request) else { return Self.tooLarge() }
            return await self.api(request, body: body) { tenant in
                try await self.allocations(tenant: tenant, creditNoteID: id, body: body, request: request)
            }
        }
        return router
    }

    static func collect(_ request: Request) async -> ByteBuffer? {
        try? await request.body.collect(upTo: maximumBody)
    }

    static func tooLarge() -> Response {
        json(413, problem(413, "Request Entity Too Large", "A request may be at most 3.5MB"))
    }

    /// What a handler answers, or an error body Xero gives instead.
    struct Failure: Error {
        let status: Int
        let body: JSONValue

        static func validation(_ elements: [JSONValue]) -> Failure {
            Failure(
                status: 400,
                body: [
                    "ErrorNumber": 10, "Type": "ValidationException", "Message": "A validation exception occurred",
                    "Elements": .array(elements),
                ])
        }

        static func query(_ message: String) -> Failure {
            Failure(status: 400, body: ["ErrorNumber": 16, "Type": "QueryParseException", "Message": .string(message)])
        }

        static func postData(_ message: String) -> Failure {
            Failure(
                status: 400, body: ["ErrorNumber": 14, "Type": "PostDataInvalidException", "Message": .string(message)])
        }

        static let notFound = Failure(
            status: 404, body: problem(404, "Not Found", "The resource you're looking for cannot be found"))
    }

    /// Authenticates and limits an API call, replays an `Idempotency-Key` answer, holds or delays or drops the answer
    /// as the fault switches say, and adds the limit headers.
    nonisolated func api(
        _ request: Request, body: ByteBuffer?,
        _ handler: @Sendable (String) async throws -> (Int, JSONValue)
    ) async -> Response {
        let bearer = request.headers[.authorization].flatMap { header -> String? in
            header.hasPrefix("Bearer ") ? String(header.dropFirst(7)) : nil
        }
        let tenant = request.headers[HTTPField.Name("xero-tenant-id")!]
        let remaining: Remaining
        let limitKey: String
        switch await admit(bearer: bearer, tenantID: tenant) {
        case .refused(let status, let body, let problem, let retryAfter, let left):
            var response = Self.json(status, body)
            if let problem { response.headers[HTTPField.Name("X-Rate-Limit-Problem")!] = problem }
            if let retryAfter { response.headers[.retryAfter] = String(retryAfter) }
            if let left { Self.addLimitHeaders(&response, left) }
            return response
        case .admitted(let left, let key):
            remaining = left
            limitKey = key
        }
        let tenantID = tenant ?? ""
        let write = request.method == .put || request.method == .post
        var (status, answer): (Int, JSONValue)
        let key = write ? request.headers[HTTPField.Name("Idempotency-Key")!] : nil
        let fingerprint =
            "\(request.method) \(request.uri.path.lowercased()) \(request.uri.query ?? "") "
            + Data(SHA256.hash(data: Data((body ?? ByteBuffer()).readableBytesView))).base64EncodedString()
        let client = await clientID(bearer: bearer) ?? ""
        let scope = "\(client) \(tenantID)"
        var replayed = false
        if let key, key.count > 128 {
            (status, answer) = (
                400, Self.error("The Idempotency-Key may be at most 128 characters")
            )
            replayed = true
        } else if let key {
            switch await idempotency(scope: scope, key: key, fingerprint: fingerprint) {
            case .fresh:
                (status, answer) = (0, .null)
            case .replay(let storedStatus, let storedBody):
                (status, answer) = (storedStatus, storedBody)
                replayed = true
            case .conflict:
                (status, answer) = (
                    400,
                    Self.error("The Idempotency-Key has already been used with a different request")
                )
                replayed = true
            }
        } else {
            (status, answer) = (0, .null)
        }
        if !replayed {
            do {
                (status, answer) = try await handler(tenantID)
                if status == 200, case .object(var members) = answer {
                    members["Id"] = .string(UUID().uuidString.lowercased())
                    members["Status"] = "OK"
                    members["ProviderName"] = .string(await providerName(bearer: bearer))
                    members["DateTimeUTC"] = .string(XeroOrganisation.instantJSON(await now))
                    answer = .object(members)
                }
            } catch let failure as Failure {
                (status, answer) = (failure.status, failure.body)
            } catch {
                (status, answer) = (500, Self.problem(500, "Internal Server Error", "An error occurred"))
            }
            if let key {
                await rememberIdempotent(
                    scope: scope, key: key, fingerprint: fingerprint, status: status, body: answer)
            }
        }
        await waitIfHeld()
        let delay = await responseDelay
        if delay > .zero { try? await Task.sleep(for: delay) }
        await finish(key: limitKey)
        if write, await takeDroppedAnswer() {
            // The write is made; the connection breaks before the answer is whole.
            return Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: ResponseBody { writer in
                    try await writer.write(ByteBuffer(string: "{\"Id\":"))
                    throw CancellationError()
                })
        }
        var response = Self.json(status, answer)
        Self.addLimitHeaders(&response, remaining)
        return response
    }

    func clientID(bearer: String?) -> String? {
        switch self.bearer(bearer) {
        case .valid(let token): token.clientID
        default: nil
        }
    }

    /// A 400 in the spec's `Error` shape without elements (the emulator's wording: Xero's for a reused or overlong
    /// `Idempotency-Key` is not published).
    static func error(_ message: String) -> JSONValue {
        ["ErrorNumber": 10, "Type": "ValidationException", "Message": .string(message)]
    }

    static func addLimitHeaders(_ response: inout Response, _ remaining: Remaining) {
        response.headers[HTTPField.Name("X-DayLimit-Remaining")!] = String(max(0, remaining.day))
        response.headers[HTTPField.Name("X-MinLimit-Remaining")!] = String(max(0, remaining.minute))
        response.headers[HTTPField.Name("X-AppMinLimit-Remaining")!] = String(max(0, remaining.appMinute))
    }

    static func json(_ status: Int, _ body: JSONValue) -> Response {
        Response(
            status: HTTPResponse.Status(code: status),
            headers: [.contentType: "application/json; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: body.canonicalString)))
    }

    static func collection(_ path: String) throws(Failure) -> String {
        guard let name = collections[path.lowercased()] else { throw Failure.notFound }
        return name
    }
}

extension Request {
    /// A query parameter, decoded as a form field.
    func xeroParameter(_ name: String) -> String? {
        uri.query.flatMap { query in
            FormURLEncoded.fields(query).first { $0.name.lowercased() == name.lowercased() }?.value
        }
    }
}
