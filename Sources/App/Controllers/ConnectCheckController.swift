import Accounting
import Connectors
import Hummingbird
import Logging
import Persistence
import SyncEngine

/// `POST /api/v1/integrations/{id}/connect-check`: connects an integration whose platform has nothing to consent to
/// (Tally: an address; a platform checking a shared secret) by asking the platform at once. The answer is the
/// integration: `connected`, or `disconnected` with `status_reason` in plain words. For an OAuth platform it checks
/// the stored credentials the same way (refreshed if expired, confirmed to open the company).
///
/// A platform that calls Ledgerwire (QuickBooks Desktop) or exchanges files (Sage 50) has nothing to check: 409,
/// saying how it connects. A failure to ask (the network) is a 502 and changes nothing.
struct ConnectCheckController {
    let database: AppDatabase
    let platforms: PlatformAccess

    var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.post("/integrations/{id}/connect-check", use: check)
        return routes
    }

    @Sendable func check(request: Request, context: AppRequestContext) async throws -> JSONResponse {
        let principal = try context.require(.operator)
        let integration = try await database.integration(from: context, role: .operator)
        return JSONResponse(try await check(integration, actor: principal.actor, logger: context.logger).json)
    }

    /// Asks the platform whether `integration` is reachable and records the answer (audited as `actor`'s check): the
    /// integration as it is now. The API's `connect-check` and the dashboard's "Check connection" both come here.
    func check(_ integration: Integration, actor: String, logger: Logger) async throws -> Integration {
        guard let connector = platforms.connectors[integration.platform] else {
            throw Problem(
                status: .conflict, title: "Conflict",
                detail: "\(integration.platform.rawValue) has no connector in this build: it cannot be checked")
        }
        let scheme = connector.authentication(settings: integration.settings)
        switch scheme {
        case .webConnector, .agent, .fileExchange:
            throw Problem(
                status: .conflict, title: "Conflict",
                detail: "\(integration.platform.rawValue) is not connected by a check: "
                    + scheme.howToConnect.replacing("{id}", with: integration.id))
        case .oauth2, .none, .sharedSecret:
            break
        }
        guard integration.status != .disabled else {
            throw Problem(
                status: .conflict, title: "Conflict",
                detail: "integration \(integration.id) is disabled: enable it (PATCH status) before checking it")
        }
        let found: ConnectionCheck
        do {
            found = try await platforms.checkConnection(of: integration, logger: logger)
        } catch {
            let message = (error as? ConnectorError)?.message ?? "\(error)"
            throw Problem(
                status: .badGateway, title: "Bad Gateway",
                detail: "\(integration.platform.rawValue) could not be asked: \(message)")
        }
        let reason: String? =
            switch found {
            case .connected: nil
            case .disconnected(let why): why
            }
        guard
            let checked = try await database.applyConnectionCheck(
                id: integration.id, disconnectedBecause: reason, actor: actor)
        else { throw Problem.notFound("no integration \(integration.id)") }
        return checked
    }
}
