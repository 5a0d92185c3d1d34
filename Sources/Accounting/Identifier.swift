/// A typed identifier: `Invoice.ID` and `Customer.ID` cannot be mixed up, though both are billing's strings.
public struct Identifier<Owner>: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let rawValue: String

    public init(_ rawValue: String) { self.rawValue = rawValue }

    public var description: String { rawValue }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// A school: a Cognify organization. Every record, integration and query is scoped by one.
public struct Tenant: Sendable {
    public typealias ID = Identifier<Tenant>
    /// The tenant of events that name none.
    public static let defaultID = ID("default")
}

/// The kinds of records Ledgerwire keeps in step between billing and the books.
public enum RecordType: String, Sendable, CaseIterable, Hashable {
    case customer
    case invoice
    case payment
    case creditNote = "credit_note"
    case refund
}

/// One problem with one field of an input, named by its path (`data.lines[0].amount`).
public struct FieldError: Hashable, Sendable, CustomStringConvertible {
    public var field: String
    public var message: String

    public init(field: String, message: String) {
        self.field = field
        self.message = message
    }

    public var description: String { "\(field): \(message)" }

    /// The same error under a parent path: `lines[0].amount` under `data` is `data.lines[0].amount`.
    public func nested(under parent: String) -> FieldError {
        FieldError(field: parent.isEmpty ? field : "\(parent).\(field)", message: message)
    }
}
