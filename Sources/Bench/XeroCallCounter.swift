import Hummingbird
import Synchronization

/// The Xero emulator's responder, counting the Accounting API calls it answered by method: how many of the
/// organisation's calls were writes and how many reads. Calls refused before they counted against the organisation
/// (401, 403, 429, 503) are left out, as the emulator's `requestCounts` leaves them out.
struct XeroCallCounter<Inner: HTTPResponder>: HTTPResponder where Inner.Context == BasicRequestContext {
    let inner: Inner
    let counts = XeroCalls()

    func respond(to request: Request, context: BasicRequestContext) async throws -> Response {
        let response = try await inner.respond(to: request, context: context)
        if request.uri.path.hasPrefix("/api.xro/2.0/"), ![401, 403, 429, 503].contains(response.status.code) {
            counts.add(request.method.rawValue)
        }
        return response
    }
}

/// The Accounting API calls the Xero emulator answered, by method (`GET`, `PUT`, `POST`, …).
final class XeroCalls: Sendable {
    private let byMethod = Mutex<[String: Int]>([:])

    var all: [String: Int] { byMethod.withLock { $0 } }

    fileprivate func add(_ method: String) { byMethod.withLock { $0[method, default: 0] += 1 } }
}
