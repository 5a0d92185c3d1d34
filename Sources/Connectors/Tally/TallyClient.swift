import Foundation

/// Talks to one company in one Tally: sends an envelope, reads the answer, and says in the engine's terms what went
/// wrong. Tally answers one request at a time, so every request to one Tally waits for the one before it (its gate),
/// across every integration of this process that reaches the same Tally.
struct TallyClient {
    let settings: TallySettings
    let integrationID: String
    let transport: any HTTPTransport
    let gates: KeyedGates

    /// The longest Tally may take to answer one request: a large import (a hundred vouchers) takes seconds.
    static let timeout: Duration = .seconds(120)

    /// Tally's answer to `envelope`: its root element.
    func send(_ envelope: TallyElement) async throws(ConnectorError) -> TallyElement {
        let endpoint = settings.endpoint(integrationID: integrationID)
        let request = TransportRequest(
            method: "POST", url: endpoint,
            headers: [("Content-Type", settings.encoding.contentType)],
            body: TallyXML.document(envelope, encoding: settings.encoding), timeout: Self.timeout)
        let response: TransportResponse
        do {
            response = try await gates.run(endpoint.absoluteString) { () async throws(TransportError) in
                try await transport.send(request)
            }
        } catch {
            throw noAnswer(error)
        }
        guard (200..<300).contains(response.status) else {
            throw ConnectorError.retryable(
                code: "tally_http", message: "\(settings.whereabouts) answered HTTP \(response.status)", retryAfter: nil
            )
        }
        let encoding = TallyEncoding.of(response.body, contentType: response.header("content-type"))
        let root: TallyElement
        do {
            root = try TallyXML.parse(response.body, encoding: encoding)
        } catch {
            throw ConnectorError.retryable(
                code: "tally_malformed",
                message: "\(settings.whereabouts) answered with XML that could not be read: "
                    + error.message, retryAfter: nil)
        }
        if let refusal = TallyAnswer.companyRefusal(in: root) {
            throw ConnectorError.unreachable(
                code: "company_not_loaded",
                message: "\(settings.whereabouts) does not have the company \(settings.company) loaded (\(refusal))")
        }
        return root
    }

    /// The objects of a collection export (`TallyEnvelope.collection`), or a validation error with Tally's words.
    func collection(_ envelope: TallyElement) async throws(ConnectorError) -> [TallyElement] {
        let root = try await send(envelope)
        let errors = TallyAnswer.lineErrors(in: root)
        if root.child("HEADER")?.value("STATUS") == "0" || !errors.isEmpty {
            throw ConnectorError.validation(
                code: "tally_refused",
                message: errors.isEmpty ? "Tally refused to export the collection" : errors.joined(separator: "; "))
        }
        return root.descendant("COLLECTION")?.children ?? []
    }

    private func noAnswer(_ error: TransportError) -> ConnectorError {
        if case .cannotConnect(let message) = error {
            let reason =
                settings.connection == .agent
                ? message
                : "nothing answers at \(settings.url.absoluteString) (is Tally running, with its XML server on?)"
            return .unreachable(code: "unreachable", message: reason)
        }
        return ConnectorError.noAnswer(error, from: "Tally")
    }
}

/// What Tally's answers say.
enum TallyAnswer {
    /// The `LINEERROR`s of an answer, in order.
    static func lineErrors(in root: TallyElement) -> [String] {
        var errors: [String] = []
        func walk(_ element: TallyElement) {
            if element.name == "LINEERROR" {
                errors.append(element.text.trimmingCharacters(in: .whitespacesAndNewlines))
            }
            element.children.forEach(walk)
        }
        walk(root)
        return errors
    }

    /// Tally's words when the request named a company that is not loaded.
    static func companyRefusal(in root: TallyElement) -> String? {
        lineErrors(in: root).first { $0.localizedCaseInsensitiveContains("SVCurrentCompany") }
    }

    /// The counters of an import's answer, legacy (`RESPONSE`) or versioned (`IMPORTRESULT`).
    struct ImportResult: Sendable, Hashable {
        var created = 0
        var altered = 0
        var deleted = 0
        var cancelled = 0
        var errors = 0
        var combined = 0
        var ignored = 0
        var exceptions = 0
        var lineErrors: [String] = []

        /// The objects Tally applied.
        var applied: Int { created + altered + deleted + cancelled + combined }
    }

    /// An import's counters, or `nil` when the answer is not an import's.
    static func importResult(_ root: TallyElement) -> ImportResult? {
        let counters: TallyElement
        if root.name == "RESPONSE" {
            counters = root
        } else if let result = root.descendant("IMPORTRESULT") {
            counters = result
        } else {
            return nil
        }
        func count(_ name: String) -> Int { counters.value(name).flatMap { Int($0) } ?? 0 }
        return ImportResult(
            created: count("CREATED"), altered: count("ALTERED"), deleted: count("DELETED"),
            cancelled: count("CANCELLED"), errors: count("ERRORS"), combined: count("COMBINED"),
            ignored: count("IGNORED"), exceptions: count("EXCEPTIONS"), lineErrors: lineErrors(in: root))
    }
}
