public import Accounting
import GRDB

extension RemoteRecord {
    /// What identifies this version of the record among the changes heard.
    var versionKey: String { remoteVersion ?? "at:\(updatedAt.microsecondsSinceEpoch)" }
}

/// How the changes heard from a platform were handled, by outcome.
public struct LedgerChangeSummary: Sendable, Hashable {
    /// Taken as the books' newest state (and reported to billing where it concerns billing's records).
    public var applied = 0
    /// Ledgerwire's own writes heard back.
    public var echoes = 0
    /// Older than what is already known (heard out of order).
    public var stale = 0
    /// Both sides changed the record: decided by the integration's policy, or held for a person.
    public var conflicts = 0
    /// Records billing does not know and that refer to nothing it knows.
    public var unmatched = 0
    /// Left for later: a push of the same record is in flight, and its outcome decides what the change is.
    public var deferred = 0

    public init() {}

    /// The changes handled (all but the deferred).
    public var handled: Int { applied + echoes + stale + conflicts + unmatched }
}

extension AppDatabase {
    /// Records changes heard from an integration's books, each version once (a change heard again, by webhook and
    /// by change feed, is not recorded twice), and moves the change-feed cursor in the same transaction, so the
    /// cursor never passes a change that was not stored.
    ///
    /// - Parameters:
    ///   - cursor: where the change feed continues from; `.some(nil)` resets it, `nil` leaves it.
    ///   - operation: the incremental sync reading the feed: its progress counts the changes, and its lease is
    ///     renewed until `leaseUntil`.
    /// - Returns: how many changes were new.
    @discardableResult
    public func recordLedgerChanges(
        integrationID: String,
        _ changes: [RemoteRecord],
        source: String,
        cursor: String?? = nil,
        operation: (id: String, leaseUntil: Timestamp)? = nil,
        at now: Timestamp
    ) async throws -> Int {
        try await writer.write { db in
            guard
                let tenantID = try String.fetchOne(
                    db, sql: "SELECT tenant_id FROM integration_configs WHERE id = ?", arguments: [integrationID])
            else { throw PersistenceError.notFound(entity: "integration", id: integrationID) }
            var recorded = 0
            let insert = try db.cachedStatement(
                sql: """
                    INSERT INTO remote_changes (integration_id, tenant_id, record_type, remote_id, remote_version,
                        remote_updated_at, deleted, data, source, status, received_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?)
                    ON CONFLICT (integration_id, record_type, remote_id, remote_version) DO NOTHING
                    """)
            for change in changes {
                try insert.execute(arguments: [
                    integrationID, tenantID, change.recordType.rawValue, change.remoteID, change.versionKey,
                    change.updatedAt.microsecondsSinceEpoch, change.deleted, change.data.canonicalString, source,
                    now.rfc3339,
                ])
                recorded += db.changesCount
            }
            if let cursor {
                try db.execute(
                    sql: "UPDATE integration_configs SET change_cursor = ? WHERE id = ?",
                    arguments: [cursor, integrationID])
            }
            if let operation {
                try db.execute(
                    sql: """
                        UPDATE sync_operations SET records_processed = records_processed + ?, lease_expires_at = ?
                        WHERE id = ?
                        """,
                    arguments: [changes.count, operation.leaseUntil.microsecondsSinceEpoch, operation.id])
            }
            return recorded
        }
    }

    /// Where an integration's change feed continues from (`nil`: from the beginning).
    public func changeCursor(integrationID: String) async throws -> String? {
        try await writer.read { db in
            try String.fetchOne(
                db, sql: "SELECT change_cursor FROM integration_configs WHERE id = ?", arguments: [integrationID])
        }
    }

    /// Handles the changes heard from the books and not yet handled, oldest first, up to `limit` of them: for each,
    /// the facts are read, `decide` says what the change is (the engine's `LedgerChangeDecider`), and the decision is
    /// applied, all in one transaction.
    ///
    /// An echo or a stale change is ignored; a version billing agrees with is remembered; the books' version taken is
    /// remembered and billing told (`ledger.invoice.changed`); a conflict is stored and its plan applied; a record
    /// billing does not know is reported (`ledger.payment.recorded`, `ledger.credit_note.created`). A change that
    /// waits (a push of its record is in flight) keeps the record's later changes waiting too.
    @discardableResult
    public func processLedgerChanges(
        integrationID: String? = nil, limit: Int = 500, at now: Timestamp,
        decide: @escaping @Sendable (LedgerChangeFacts) -> LedgerChangeDecision
    ) async throws -> LedgerChangeSummary {
        try await writer.write { db in
            var filter = SQLFilter()
            filter.add("status = 'pending'")
            filter.add("integration_id = ?", integrationID)
            let rows = try Row.fetchAll(
                db, sql: "SELECT * FROM remote_changes \(filter.whereClause) ORDER BY seq LIMIT ?",
                arguments: filter.arguments + [limit])
            var summary = LedgerChangeSummary()
            guard !rows.isEmpty else { return summary }
            var audit = try AuditLog(db, key: auditKey)
            var integrations: [String: Integration] = [:]
            // A record whose change waits keeps its later changes waiting too, so they are handled in order.
            var blocked: Set<String> = []
            for row in rows {
                let change = PendingLedgerChange(row: row)
                let key = "\(change.integrationID) \(change.recordType) \(change.remoteID)"
                if blocked.contains(key) {
                    summary.deferred += 1
                    continue
                }
                if integrations[change.integrationID] == nil {
                    integrations[change.integrationID] = try Self.fetchIntegration(
                        id: change.integrationID, tenantID: nil, db: db)
                }
                guard let integration = integrations[change.integrationID] else { continue }
                let outcome = try Self.handle(
                    change, integration: integration, decide: decide, at: now, db: db, audit: &audit)
                switch outcome.status {
                case nil:
                    blocked.insert(key)
                    summary.deferred += 1
                    continue
                case .applied: summary.applied += 1
                case .echo: summary.echoes += 1
                case .stale: summary.stale += 1
                case .conflict: summary.conflicts += 1
                case .unmatched: summary.unmatched += 1
                }
                try db.execute(
                    sql: """
                        UPDATE remote_changes SET status = ?, record_id = ?, conflict_id = ?, processed_at = ?
                        WHERE seq = ?
                        """,
                    arguments: [
                        outcome.status?.rawValue, outcome.recordID, outcome.conflictID, now.rfc3339, change.seq,
                    ])
            }
            return summary
        }
    }

    /// The integrations with changes heard and not yet handled.
    public func integrationsWithPendingLedgerChanges() async throws -> [String] {
        try await writer.read { db in
            try String.fetchAll(db, sql: "SELECT DISTINCT integration_id FROM remote_changes WHERE status = 'pending'")
        }
    }

    /// Reads the facts of one change, has them decided, and applies the decision.
    private static func handle(
        _ change: PendingLedgerChange, integration: Integration,
        decide: (LedgerChangeFacts) -> LedgerChangeDecision, at now: Timestamp, db: Database, audit: inout AuditLog
    ) throws -> (status: PendingLedgerChange.Status?, recordID: String?, conflictID: String?) {
        var facts = LedgerChangeFacts(
            recordType: change.recordType, remoteVersion: change.remoteVersion,
            remoteUpdatedAt: Timestamp(microsecondsSinceEpoch: change.remoteUpdatedAt), deleted: change.deleted,
            data: change.data, link: nil, pushInFlight: false, conflictPolicy: integration.sync.conflictPolicy)
        var invoices: [(remote: JSONValue, billing: String, amount: JSONValue?)] = []
        if let link = try Row.fetchOne(
            db,
            sql: """
                SELECT s.record_id, s.remote_version, s.remote_updated_at, s.last_synced_at,
                    COALESCE(s.local_version, r.version) AS local_version, r.version, r.local_id,
                    r.source_updated_at
                FROM synchronized_records s JOIN records r ON r.id = s.record_id
                WHERE s.integration_id = ? AND s.remote_id = ? AND r.record_type = ?
                """,
            arguments: [change.integrationID, change.remoteID, change.recordType])
        {
            let recordID: String = link["record_id"]
            facts.link = LedgerChangeFacts.Link(
                recordID: recordID, localID: link["local_id"], remoteVersion: link["remote_version"],
                remoteUpdatedAt: (link["remote_updated_at"] as Int64?).map(Timestamp.init(microsecondsSinceEpoch:)),
                lastSyncedAt: (link["last_synced_at"] as String?).flatMap(Timestamp.init(rfc3339:)),
                syncedVersion: link["local_version"], version: link["version"],
                updatedAt: Timestamp(microsecondsSinceEpoch: link["source_updated_at"]))
            facts.pushInFlight =
                try Bool.fetchOne(
                    db,
                    sql: """
                        SELECT EXISTS (
                            SELECT 1 FROM jobs WHERE status IN ('pending', 'running') AND status = 'running'
                                AND integration_id = :integration AND record_id = :record)
                        -- A write in a mailbox platform's hands is in flight too.
                        OR EXISTS (
                            SELECT 1 FROM jobs WHERE integration_id = :integration AND record_id = :record
                                AND status = 'awaiting_platform')
                        """,
                    arguments: ["integration": change.integrationID, "record": recordID]) ?? false
        } else {
            (facts.unlinked, invoices) = try unlinkedFacts(change, integration: integration, db: db)
        }
        var decision = decide(facts)
        if case .compare(let versions) = decision, let link = facts.link {
            facts.billingVersions = try billingVersions(
                versions, recordID: link.recordID, recordType: change.recordType, integration: integration, db: db)
            decision = decide(facts)
        }
        let recordID = facts.link?.recordID
        switch decision {
        case .wait, .compare:
            return (nil, recordID, nil)
        case .echo:
            return (.echo, recordID, nil)
        case .stale:
            return (.stale, recordID, nil)
        case .agrees:
            guard let link = facts.link else { return (.unmatched, nil, nil) }
            try rememberRemoteVersion(
                change.remoteVersion, updatedAt: change.remoteUpdatedAt, recordID: link.recordID,
                integrationID: integration.id, db: db)
            try audit.append(
                db, at: now, tenantID: integration.tenantID, integrationID: integration.id, recordID: link.recordID,
                actor: "ledger:\(integration.id)", action: "ledger.\(change.recordType).agrees",
                entityType: change.recordType, entityID: link.localID, oldValue: nil,
                newValue: change.data.canonicalString)
            return (.echo, recordID, nil)
        case .take:
            guard let link = facts.link else { return (.unmatched, nil, nil) }
            try takeLedgerVersion(
                change, recordID: link.recordID, localID: link.localID, integration: integration,
                settlesVersion: nil, actor: "ledger:\(integration.id)", at: now, db: db, audit: &audit)
            return (.applied, recordID, nil)
        case .conflict(let plan):
            guard let link = facts.link else { return (.unmatched, nil, nil) }
            let conflictID = try detectConflict(
                change, plan: plan, recordID: link.recordID, localID: link.localID, localVersion: link.version,
                localUpdatedAt: link.updatedAt.microsecondsSinceEpoch, integration: integration, at: now, db: db,
                audit: &audit)
            return (.conflict, recordID, conflictID)
        case .report(let event, let what):
            if let event {
                try reportUnlinked(
                    change, event: event, change: what, unlinked: facts.unlinked ?? .init(heardBefore: false),
                    invoices: invoices, integration: integration, at: now, db: db)
            }
            return (.applied, nil, nil)
        case .unmatched:
            return (.unmatched, nil, nil)
        }
    }

    /// Billing's `versions` of a record, with its ids and codes in the integration's terms, for the books' version to
    /// be compared with (a version that cannot be read is left out).
    private static func billingVersions(
        _ versions: [Int], recordID: String, recordType: String, integration: Integration, db: Database
    ) throws -> [LedgerChangeFacts.BillingVersion] {
        guard let recordType = RecordType(rawValue: recordType) else { return [] }
        var billingVersions: [LedgerChangeFacts.BillingVersion] = []
        for version in versions {
            guard
                let text = try String.fetchOne(
                    db, sql: "SELECT data FROM record_versions WHERE record_id = ? AND version = ?",
                    arguments: [recordID, version]),
                let billing = try? JSONValue(parsing: Array(text.utf8))
            else { continue }
            let terms = try Self.translation(
                of: billing, recordType: recordType, integrationID: integration.id, tenantID: integration.tenantID,
                db: db)
            billingVersions.append(.init(version: version, data: billing, translation: terms))
        }
        return billingVersions
    }

    /// The books' version is the record's newest state in this integration: the link remembers it, and billing is
    /// told (`ledger.invoice.changed` for an invoice; other record types are audited).
    ///
    /// - Parameter settlesVersion: billing's version this decision settles (the books' version won over it).
    static func takeLedgerVersion(
        _ change: PendingLedgerChange, recordID: String, localID: String, integration: Integration,
        settlesVersion: Int?, actor: String, at now: Timestamp, db: Database, audit: inout AuditLog
    ) throws {
        try db.execute(
            sql: """
                UPDATE synchronized_records SET remote_version = ?, remote_updated_at = ?,
                    status = CASE WHEN status = 'excluded' THEN 'excluded' WHEN ? THEN 'deleted' ELSE 'synced' END,
                    local_version = MAX(COALESCE(local_version, 0), COALESCE(?, 0))
                WHERE record_id = ? AND integration_id = ?
                """,
            arguments: [
                change.remoteVersion, change.remoteUpdatedAt, change.deleted, settlesVersion, recordID,
                integration.id,
            ])
        let what = change.deleted ? "deleted" : change.data["voided"]?.boolValue == true ? "voided" : "updated"
        try audit.append(
            db, at: now, tenantID: integration.tenantID, integrationID: integration.id, recordID: recordID,
            actor: actor, action: "ledger.\(change.recordType).\(what)", entityType: change.recordType,
            entityID: localID, oldValue: nil, newValue: change.data.canonicalString)
        guard change.recordType == RecordType.invoice.rawValue else { return }
        let view = LedgerEventView(integrationID: integration.id, db: db)
        let currency = try view.currency(of: change.data, billingRecords: [(.invoice, localID)])
        try emit(
            .invoiceChanged, tenantID: integration.tenantID, integrationID: integration.id,
            data: [
                "invoice_id": .string(localID), "integration_id": .string(integration.id),
                "platform": .string(integration.platform.rawValue), "remote_invoice_id": .string(change.remoteID),
                "remote_version": .string(change.remoteVersion), "change": .string(what),
                "updated_at": .string(Timestamp(microsecondsSinceEpoch: change.remoteUpdatedAt).rfc3339),
                "data": .object(try view.document(change.data, currency: currency)),
            ],
            at: now, db: db)
    }

    /// What of billing's a record billing has no link to refers to: for a payment, the invoices it is allocated to
    /// (with the books' id and amount of each allocation); for a credit note, its invoice and customer.
    private static func unlinkedFacts(
        _ change: PendingLedgerChange, integration: Integration, db: Database
    ) throws -> (LedgerChangeFacts.Unlinked, [(remote: JSONValue, billing: String, amount: JSONValue?)]) {
        let view = LedgerEventView(integrationID: integration.id, db: db)
        let heardBefore =
            try Bool.fetchOne(
                db,
                sql: """
                    SELECT 1 FROM remote_changes
                    WHERE integration_id = ? AND record_type = ? AND remote_id = ? AND seq < ? AND status = 'applied'
                    """,
                arguments: [integration.id, change.recordType, change.remoteID, change.seq]) ?? false
        var unlinked = LedgerChangeFacts.Unlinked(heardBefore: heardBefore)
        var invoices: [(remote: JSONValue, billing: String, amount: JSONValue?)] = []
        let books = change.data
        switch RecordType(rawValue: change.recordType) {
        case .payment:
            for allocation in books["allocations"]?.arrayValue ?? [] {
                guard let invoice = try view.billingID(allocation["invoice_id"], .invoice).stringValue else { continue }
                invoices.append((allocation["invoice_id"] ?? .null, invoice, allocation["amount"]))
            }
            unlinked.invoiceIDs = invoices.map(\.billing)
        case .creditNote:
            unlinked.invoiceID = try view.billingID(books["invoice_id"], .invoice).stringValue
            unlinked.customerID = try view.billingID(books["customer_id"], .customer).stringValue
        default:
            break
        }
        return (unlinked, invoices)
    }

    /// Tells billing of a record it does not know that concerns its records: a payment allocated to synced
    /// invoices (`invoices`), a credit note of a synced customer or invoice.
    private static func reportUnlinked(
        _ change: PendingLedgerChange, event: EventType, change what: String,
        unlinked: LedgerChangeFacts.Unlinked, invoices: [(remote: JSONValue, billing: String, amount: JSONValue?)],
        integration: Integration, at now: Timestamp, db: Database
    ) throws {
        let view = LedgerEventView(integrationID: integration.id, db: db)
        var data: [String: JSONValue] = [
            "integration_id": .string(integration.id), "platform": .string(integration.platform.rawValue),
            "remote_version": .string(change.remoteVersion), "change": .string(what),
        ]
        let books = change.data
        switch event {
        case .paymentRecorded:
            guard let first = invoices.first else { return }
            let currency = try view.currency(
                of: books, billingRecords: invoices.map { (RecordType.invoice, Optional($0.billing)) })
            var customer = try view.billingID(books["customer_id"], .customer)
            if customer == .null, let invoiceCustomer = try billingCustomer(ofInvoice: first.billing, view: view) {
                customer = .string(invoiceCustomer)
            }
            data["remote_payment_id"] = .string(change.remoteID)
            data["customer_id"] = customer
            data["remote_customer_id"] = books["customer_id"] ?? .null
            data["currency"] = currency.map { .string($0.code) } ?? .null
            data["amount"] = LedgerEventView.amount(books["amount"], currency)
            data["date"] = books["received_at"] ?? .null
            if let reference = books["reference"] { data["reference"] = reference }
            data["invoice_id"] = .string(first.billing)
            data["allocations"] = .array(
                invoices.map { invoice -> JSONValue in
                    [
                        "invoice_id": .string(invoice.billing), "remote_invoice_id": invoice.remote,
                        "amount": LedgerEventView.amount(invoice.amount, currency),
                    ]
                })
        case .creditNoteCreated:
            let invoice = unlinked.invoiceID.map(JSONValue.string) ?? .null
            let customer = unlinked.customerID.map(JSONValue.string) ?? .null
            let currency = try view.currency(
                of: books, billingRecords: [(.invoice, invoice.stringValue), (.customer, customer.stringValue)])
            var document = try view.document(books, currency: currency)
            document["invoice_id"] = invoice
            document["remote_invoice_id"] = books["invoice_id"] ?? .null
            document["date"] = books["issue_date"] ?? .null
            document["issue_date"] = nil
            document["balance"] = nil
            for (key, value) in document { data[key] = value }
            data["remote_credit_note_id"] = .string(change.remoteID)
        default:
            return
        }
        try emit(event, tenantID: integration.tenantID, integrationID: integration.id, data: data, at: now, db: db)
    }

    /// The customer of one of billing's invoices (billing's id).
    private static func billingCustomer(ofInvoice localID: String, view: LedgerEventView) throws -> String? {
        guard
            let text = try String.fetchOne(
                view.db,
                sql: """
                    SELECT v.data FROM records r JOIN record_versions v ON v.record_id = r.id AND v.version = r.version
                    JOIN integration_configs i ON i.id = ? AND i.tenant_id = r.tenant_id
                    WHERE r.record_type = 'invoice' AND r.local_id = ?
                    """,
                arguments: [view.integrationID, localID])
        else { return nil }
        return (try? JSONValue(parsing: Array(text.utf8)))?["customer_id"]?.stringValue
    }
}

/// A change heard from the books, as stored and not yet handled.
struct PendingLedgerChange {
    enum Status: String {
        case applied, echo, stale, conflict, unmatched
    }

    let seq: Int64
    let integrationID: String
    let recordType: String
    let remoteID: String
    let remoteVersion: String
    let remoteUpdatedAt: Int64
    let deleted: Bool
    let data: JSONValue

    init(
        seq: Int64, integrationID: String, recordType: String, remoteID: String, remoteVersion: String,
        remoteUpdatedAt: Int64, deleted: Bool, data: JSONValue
    ) {
        self.seq = seq
        self.integrationID = integrationID
        self.recordType = recordType
        self.remoteID = remoteID
        self.remoteVersion = remoteVersion
        self.remoteUpdatedAt = remoteUpdatedAt
        self.deleted = deleted
        self.data = data
    }

    init(row: Row) {
        seq = row["seq"]
        integrationID = row["integration_id"]
        recordType = row["record_type"]
        remoteID = row["remote_id"]
        remoteVersion = row["remote_version"]
        remoteUpdatedAt = row["remote_updated_at"]
        deleted = row["deleted"]
        data = (try? JSONValue(parsing: Array((row["data"] as String).utf8))) ?? .null
    }
}
