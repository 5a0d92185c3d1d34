import Accounting
import Connectors
import Hummingbird
import Persistence
import SyncEngine

/// `/api/v1/integrations/{id}/mailbox`: the mailbox channel as a platform's agent sees it, for an integration whose
/// platform answers later instead of within a call (an agent beside the books, a file exchange).
///
/// The agent, with an operator key of the integration's tenant, lists the messages waiting for its platform
/// (`GET`, oldest first; its first call connects the integration), applies each in the books, and posts the books'
/// answer (`POST …/mailbox/{message_id}/reply`). The reply is recorded and wakes the job that waited for it, in one
/// transaction; the same reply posted again changes nothing, another reply to an answered message is a 409.
struct MailboxController {
    let database: AppDatabase
    let platforms: PlatformAccess
    /// Wakes the sync engine's workers when a reply makes a job due.
    let signal: WorkSignal

    /// The most messages one `GET` lists.
    static let maximumLimit = 100

    var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.get("/integrations/{id}/mailbox", use: list)
        routes.post("/integrations/{id}/mailbox/{message_id}/reply", use: reply)
        return routes
    }

    @Sendable func list(request: Request, context: AppRequestContext) async throws -> JSONResponse {
        let principal = try context.require(.operator)
        let integration = try await mailboxIntegration(from: context)
        var limit = 20
        if let text = request.query("limit") {
            guard let value = Int(text), (1...Self.maximumLimit).contains(value) else {
                throw Problem.invalid([
                    FieldError(field: "limit", message: "must be a whole number from 1 to \(Self.maximumLimit)")
                ])
            }
            limit = value
        }
        guard
            let messages = try await database.platformMailbox(
                integrationID: integration.id, tenantID: principal.tenantID, limit: limit, actor: principal.actor,
                at: .now())
        else { throw Problem.notFound("no integration \(integration.id)") }
        return JSONResponse(["items": .array(messages.map(\.json))])
    }

    @Sendable func reply(request: Request, context: AppRequestContext) async throws -> JSONResponse {
        let principal = try context.require(.operator)
        let integration = try await mailboxIntegration(from: context)
        let messageID = try context.parameters.require("message_id")
        var request = request
        let body = FieldReader(try await request.jsonObject(context: context), path: "", diagnostics: Diagnostics())
        let contentType = body.string("content_type")
        let text = body.string("body")
        guard body.diagnostics.errors.isEmpty, let contentType, let text else {
            throw Problem.invalid(body.diagnostics.errors)
        }
        switch try await database.recordPlatformReply(
            messageID: messageID, integrationID: integration.id, tenantID: principal.tenantID,
            reply: PlatformMessage(contentType: contentType, body: text), actor: principal.actor, at: .now())
        {
        case nil:
            throw Problem.notFound("no open message \(messageID) in integration \(integration.id)'s mailbox")
        case .recorded(let message):
            signal.signal()
            return JSONResponse(message.json)
        case .alreadyRecorded(let message):
            return JSONResponse(message.json)
        }
    }

    /// The integration named in the path, visible to the caller, whose platform is reached through the mailbox.
    private func mailboxIntegration(from context: AppRequestContext) async throws -> Integration {
        let integration = try await database.integration(from: context, role: .operator)
        guard platforms.connectors[integration.platform]?.capabilities.channel == .mailbox else {
            throw Problem(
                status: .conflict, title: "Conflict",
                detail: "\(integration.platform.rawValue) is not reached through a mailbox: its connector calls it")
        }
        return integration
    }
}
