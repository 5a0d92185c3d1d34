import Connectors

/// The parts of qbXML's schema (qbxmlops130; platforms.md §3.4) the fake QuickBooks checks requests against: each
/// element's children in the order QuickBooks requires, which of them may repeat, and the lengths of its texts.
/// QuickBooks refuses a document that breaks the order as a whole (`0x80040400`), before running any request in it.
enum QuickBooksDesktopSchema {
    static let address = [
        "Addr1", "Addr2", "Addr3", "Addr4", "Addr5", "City", "State", "PostalCode", "Country", "Note",
    ]

    static let customer = [
        "Name", "IsActive", "ClassRef", "ParentRef", "CompanyName", "Salutation", "FirstName", "MiddleName", "LastName",
        "Suffix", "JobTitle", "BillAddress", "ShipAddress", "ShipToAddress", "PrintAs", "Phone", "Mobile", "Pager",
        "AltPhone", "Fax", "Email", "Cc", "Contact", "AltContact", "AdditionalContactRef", "Contacts",
        "CustomerTypeRef", "TermsRef", "SalesRepRef", "OpenBalance", "OpenBalanceDate", "SalesTaxCodeRef",
        "ItemSalesTaxRef", "SalesTaxCountry", "ResaleNumber", "AccountNumber", "CreditLimit",
        "PreferredPaymentMethodRef", "CreditCardInfo", "JobStatus", "JobStartDate", "JobProjectedEndDate", "JobEndDate",
        "JobDesc", "JobTypeRef", "Notes", "AdditionalNotes", "IsStatementWithParent", "DeliveryMethod",
        "PreferredDeliveryMethod", "PriceLevelRef", "ExternalGUID", "TaxRegistrationNumber", "CurrencyRef",
    ]

    static let invoiceHead = [
        "CustomerRef", "ClassRef", "ARAccountRef", "TemplateRef", "TxnDate", "RefNumber", "BillAddress", "ShipAddress",
        "IsPending", "IsFinanceCharge", "PONumber", "TermsRef", "DueDate", "SalesRepRef", "FOB", "ShipDate",
        "ShipMethodRef", "ItemSalesTaxRef", "Memo", "CustomerMsgRef", "IsToBePrinted", "IsToBeEmailed",
        "IsTaxIncluded", "CustomerSalesTaxCodeRef", "Other", "ExchangeRate", "ExternalGUID", "LinkToTxnID", "SetCredit",
    ]

    static let creditMemoHead = [
        "CustomerRef", "ClassRef", "ARAccountRef", "TemplateRef", "TxnDate", "RefNumber", "BillAddress", "ShipAddress",
        "IsPending", "PONumber", "TermsRef", "DueDate", "SalesRepRef", "FOB", "ShipDate", "ShipMethodRef",
        "ItemSalesTaxRef", "Memo", "CustomerMsgRef", "IsToBePrinted", "IsToBeEmailed", "IsTaxIncluded",
        "CustomerSalesTaxCodeRef", "Other", "ExchangeRate", "ExternalGUID",
    ]

    static let line = [
        "TxnLineID", "ItemRef", "Desc", "Quantity", "UnitOfMeasure", "Rate", "RatePercent", "PriceLevelRef", "ClassRef",
        "Amount", "TaxAmount", "OptionForPriceRuleConflict", "InventorySiteRef", "InventorySiteLocationRef",
        "SerialNumber", "LotNumber", "ServiceDate", "SalesTaxCodeRef", "IsTaxable", "OverrideItemAccountRef", "Other1",
        "Other2", "LinkToTxn", "CreditCardTxnInfo", "DataExt",
    ]

    static let paymentHead = [
        "TxnID", "EditSequence", "CustomerRef", "ARAccountRef", "TxnDate", "RefNumber", "TotalAmount", "ExchangeRate",
        "PaymentMethodRef", "Memo", "DepositToAccountRef", "CreditCardTxnInfo", "ExternalGUID", "IsAutoApply",
        "AppliedToTxnAdd", "AppliedToTxnMod",
    ]

    static let applied = [
        "TxnID", "PaymentAmount", "TxnLineDetail", "SetCredit", "DiscountAmount", "DiscountAccountRef",
        "DiscountClassRef",
    ]

    static let transactionQuery = [
        "TxnID", "RefNumber", "RefNumberCaseSensitive", "MaxReturned", "ModifiedDateRangeFilter", "TxnDateRangeFilter",
        "EntityFilter", "AccountFilter", "RefNumberFilter", "RefNumberRangeFilter", "CurrencyFilter", "PaidStatus",
        "IncludeLineItems", "IncludeLinkedTxns", "IncludeRetElement", "OwnerID",
    ]

    static let customerQuery = [
        "ListID", "FullName", "MaxReturned", "ActiveStatus", "FromModifiedDate", "ToModifiedDate", "NameFilter",
        "NameRangeFilter", "TotalBalanceFilter", "CurrencyFilter", "ClassFilter", "IncludeRetElement", "OwnerID",
    ]

    static let reference = ["ListID", "FullName"]

    /// Each element checked: its children in order.
    static let sequences: [String: [String]] = [
        "CustomerAdd": customer, "CustomerMod": ["ListID", "EditSequence"] + customer,
        "BillAddress": address, "ShipAddress": address,
        "InvoiceAdd": invoiceHead + ["InvoiceLineAdd", "InvoiceLineGroupAdd"],
        "InvoiceMod": ["TxnID", "EditSequence"] + invoiceHead.filter { !["ExternalGUID", "LinkToTxnID"].contains($0) }
            + ["InvoiceLineMod", "InvoiceLineGroupMod"],
        "InvoiceLineAdd": line.filter { $0 != "TxnLineID" && $0 != "CreditCardTxnInfo" },
        "InvoiceLineMod": line.filter { $0 != "CreditCardTxnInfo" && $0 != "LinkToTxn" },
        "CreditMemoAdd": creditMemoHead + ["CreditMemoLineAdd", "CreditMemoLineGroupAdd"],
        "CreditMemoLineAdd": line.filter { $0 != "TxnLineID" && $0 != "LinkToTxn" },
        "ReceivePaymentAdd": Array(paymentHead.dropFirst(2)).filter { $0 != "AppliedToTxnMod" },
        "ReceivePaymentMod": paymentHead.filter { !["ExternalGUID", "IsAutoApply", "AppliedToTxnAdd"].contains($0) },
        "AppliedToTxnAdd": applied, "AppliedToTxnMod": applied,
        "SetCredit": ["CreditTxnID", "TxnLineID", "AppliedAmount", "Override"],
        "CustomerQueryRq": customerQuery, "InvoiceQueryRq": transactionQuery,
        "CreditMemoQueryRq": transactionQuery, "ReceivePaymentQueryRq": transactionQuery.filter { $0 != "PaidStatus" },
        "TxnVoidRq": ["TxnVoidType", "TxnID"], "TxnDelRq": ["TxnDelType", "TxnID"],
        "HostQueryRq": ["IncludeRetElement"],
        "ItemQueryRq": [
            "ListID", "FullName", "MaxReturned", "ActiveStatus", "FromModifiedDate", "ToModifiedDate",
            "NameFilter", "NameRangeFilter", "IncludeRetElement", "OwnerID",
        ],
        "SalesTaxCodeQueryRq": [
            "ListID", "FullName", "MaxReturned", "ActiveStatus", "FromModifiedDate",
            "ToModifiedDate", "NameFilter", "NameRangeFilter", "IncludeRetElement",
        ],
        "AccountQueryRq": [
            "ListID", "FullName", "MaxReturned", "ActiveStatus", "FromModifiedDate", "ToModifiedDate",
            "NameFilter", "NameRangeFilter", "AccountType", "CurrencyFilter", "IncludeRetElement", "OwnerID",
        ],
        "ModifiedDateRangeFilter": ["FromModifiedDate", "ToModifiedDate"],
        "TxnDateRangeFilter": ["FromTxnDate", "ToTxnDate", "DateMacro"],
        "EntityFilter": ["ListID", "FullName", "ListIDWithChildren", "FullNameWithChildren"],
        "CustomerRef": reference, "ItemRef": reference, "SalesTaxCodeRef": reference, "ItemSalesTaxRef": reference,
        "DepositToAccountRef": reference, "ARAccountRef": reference, "ClassRef": reference, "TermsRef": reference,
        "PaymentMethodRef": reference,
    ]

    /// Children that may appear more than once in a row.
    static let repeatable: Set<String> = [
        "InvoiceLineAdd", "InvoiceLineMod", "CreditMemoLineAdd", "AppliedToTxnAdd", "AppliedToTxnMod", "TxnID",
        "RefNumber", "ListID", "FullName", "IncludeRetElement",
    ]

    /// The longest texts QuickBooks takes, by element name (`RefNumber` by its parent).
    static let lengths: [String: Int] = [
        "Name": 41, "CompanyName": 41, "FirstName": 25, "LastName": 25, "Addr1": 41, "Addr2": 41, "Addr3": 41,
        "Addr4": 41, "Addr5": 41, "City": 31, "State": 21, "PostalCode": 13, "Country": 31, "Phone": 21, "Email": 1023,
        "Memo": 4095, "Desc": 4095, "EditSequence": 16, "FullName": 209,
    ]

    /// Why `node` breaks the schema, or `nil`: a child out of order or unknown, or one repeated that may not be.
    static func orderProblem(in node: XMLNode) -> String? {
        if let sequence = sequences[node.name] {
            var position = -1
            var previous: String?
            for child in node.children {
                guard let index = sequence.firstIndex(of: child.name) else {
                    return "element \(child.name) is not expected in \(node.name)"
                }
                if index < position
                    || (index == position && !(repeatable.contains(child.name) && previous == child.name))
                {
                    return "element \(child.name) is out of order in \(node.name)"
                }
                position = index
                previous = child.name
            }
        }
        for child in node.children {
            if let problem = orderProblem(in: child) { return problem }
        }
        return nil
    }
}
