public import Foundation

/// One change Xero announces by webhook (`xero-webhooks.yaml`, platforms.md §2.3): a contact, an invoice or a credit
/// note of one organisation was created or updated (archiving, voiding and deleting are updates). The Xero emulator
/// records one for each change a write makes; its webhook sender batches them into signed deliveries.
public struct XeroWebhookEvent: Sendable, Hashable {
    public enum Category: String, Sendable, CaseIterable {
        case contact = "CONTACT"
        case invoice = "INVOICE"
        case creditNote = "CREDITNOTE"
    }

    public enum EventType: String, Sendable, CaseIterable {
        case create = "CREATE"
        case update = "UPDATE"
    }

    /// The organisation's tenant id.
    public var tenantID: String
    public var category: Category
    public var eventType: EventType
    /// The changed record's id (`ContactID`, `InvoiceID`, `CreditNoteID`).
    public var resourceID: String
    public var occurredAt: Date
    /// A credit note's `Type` (`ACCRECCREDIT`, `ACCPAYCREDIT`) and `Status`, which its events carry in `data`.
    public var creditNote: (type: String, status: String)? {
        get { creditNoteType.map { ($0, creditNoteStatus ?? "") } }
        set {
            creditNoteType = newValue?.type
            creditNoteStatus = newValue?.status
        }
    }
    private var creditNoteType: String?
    private var creditNoteStatus: String?

    public init(
        tenantID: String, category: Category, eventType: EventType, resourceID: String, occurredAt: Date,
        creditNote: (type: String, status: String)? = nil
    ) {
        self.tenantID = tenantID
        self.category = category
        self.eventType = eventType
        self.resourceID = resourceID
        self.occurredAt = occurredAt
        self.creditNoteType = creditNote?.type
        self.creditNoteStatus = creditNote?.status
    }
}
