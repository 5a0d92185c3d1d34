import Accounting

extension TallySession {
    /// Imports `writes` in one request and gives each its outcome. Tally answers counters and one `LINEERROR` per
    /// refused object, not which object each one was: when every object was applied, all succeeded; when a single
    /// object was sent, the error is its own; otherwise each is sent again alone (writing the same `REMOTEID` again
    /// alters the object to what it already is), so every outcome is known exactly.
    func apply(_ writes: [Write], report: TallyEnvelope.ImportReport) async throws -> [Result<
        PushResult, ConnectorError
    >] {
        let result = try await importing(writes.map(\.element), report: report)
        if result.errors == 0, result.exceptions == 0, result.applied >= writes.count {
            for write in writes { await remember(write) }
            return writes.map { .success($0.result) }
        }
        if writes.count == 1 {
            return [.failure(refusal(result))]
        }
        var outcomes: [Result<PushResult, ConnectorError>] = []
        for write in writes {
            outcomes.append(contentsOf: try await apply([write], report: report))
        }
        return outcomes
    }

    /// Sends one import and reads its counters; an answer that is not an import's is Tally refusing the request.
    private func importing(_ objects: [TallyElement], report: TallyEnvelope.ImportReport) async throws(ConnectorError)
        -> TallyAnswer.ImportResult
    {
        let root = try await client.send(
            TallyEnvelope.importing(objects, into: settings.company, report: report, version: settings.version))
        guard let result = TallyAnswer.importResult(root) else {
            let errors = TallyAnswer.lineErrors(in: root)
            throw ConnectorError.validation(
                code: "tally_refused",
                message: errors.isEmpty
                    ? "\(settings.version.productName) did not understand the import (is settings.version right?)"
                    : errors.joined(separator: "; "))
        }
        return result
    }

    private func refusal(_ result: TallyAnswer.ImportResult) -> ConnectorError {
        let message =
            result.lineErrors.isEmpty
            ? "Tally did not take it (\(result.errors) errors, \(result.exceptions) exceptions) and gave no reason"
            : result.lineErrors.joined(separator: "; ")
        return .validation(code: "tally_refused", message: message)
    }

    private func remember(_ write: Write) async {
        if let ledger = write.ledger { await directory.remember([ledger], alterID: nil) }
        if let bill = write.bill { await directory.remember(bill: bill.name, guid: bill.guid, isNew: bill.isNew) }
    }
}
