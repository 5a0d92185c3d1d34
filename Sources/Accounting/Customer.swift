/// A payer in billing: a student's family or sponsor.
public struct Customer: Hashable, Sendable {
    public typealias ID = Identifier<Customer>

    public var id: ID
    public var name: String
    public var email: String?
    public var phone: String?
    public var billingAddress: Address?
    public var taxID: String?
    public var currency: Currency?
    public var updatedAt: Timestamp

    public init(
        id: ID,
        name: String,
        email: String? = nil,
        phone: String? = nil,
        billingAddress: Address? = nil,
        taxID: String? = nil,
        currency: Currency? = nil,
        updatedAt: Timestamp
    ) {
        self.id = id
        self.name = name
        self.email = email
        self.phone = phone
        self.billingAddress = billingAddress
        self.taxID = taxID
        self.currency = currency
        self.updatedAt = updatedAt
    }
}

/// A postal address; `country` is an ISO 3166-1 alpha-2 code.
public struct Address: Hashable, Sendable {
    public var line1: String
    public var line2: String?
    public var city: String
    public var region: String?
    public var postalCode: String?
    public var country: String

    public init(
        line1: String,
        line2: String? = nil,
        city: String,
        region: String? = nil,
        postalCode: String? = nil,
        country: String
    ) {
        self.line1 = line1
        self.line2 = line2
        self.city = city
        self.region = region
        self.postalCode = postalCode
        self.country = country
    }
}
