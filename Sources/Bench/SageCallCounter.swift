import Hummingbird
import Synchronization

/// The Sage Business Cloud emulator's responder, counting the Accounting API calls it answered by method: how many
/// of the business's calls were writes and how many reads. Calls refused before they counted against the business
/// (401, 403, 429) are left out, as the emulator's `requestCounts` leaves them out.
struct SageCallCounter<Inner: HTTPResponder>: HTTPResponder where Inner.Context == BasicRequestContext {
    let inner: Inner
    let counts = SageCalls()

    func respond(to request: Request, context: BasicRequestContext) async throws -> Response {
        let response = try await inner.respond(to: request, context: context)
        if request.uri.path.hasPrefix("/v3.1/"), ![401, 403, 429].contains(response.status.code) {
            counts.add(request.method.rawValue)
        }
        return response
    }
}

/// The Accounting API calls the Sage Business Cloud emulator answered, by method (`GET`, `POST`, `PUT`, `DELETE`).
final class SageCalls: Sendable {
    private let byMethod = Mutex<[String: Int]>([:])

    var all: [String: Int] { byMethod.withLock { $0 } }

    fileprivate func add(_ method: String) { byMethod.withLock { $0[method, default: 0] += 1 } }
}
