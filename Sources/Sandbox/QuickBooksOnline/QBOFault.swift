import Accounting
import HTTPTypes

/// A QuickBooks Online Fault, in the exact JSON shape the Accounting API answers with (platforms.md §1.5):
/// `{"Fault":{"Error":[{"Message","Detail","code","element"}],"type":…},"time":…}`.
struct QBOFault: Error, Sendable {
    let status: HTTPResponse.Status
    let type: String
    let code: String
    let message: String
    let detail: String
    var element = ""

    func body(time: String) -> JSONValue {
        [
            "Fault": [
                "Error": [
                    [
                        "Message": .string(message), "Detail": .string(detail), "code": .string(code),
                        "element": .string(element),
                    ]
                ],
                "type": .string(type),
            ],
            "time": .string(time),
        ]
    }

    static func validation(_ code: String, _ message: String, _ detail: String, element: String = "") -> QBOFault {
        QBOFault(
            status: .badRequest, type: "ValidationFault", code: code, message: message, detail: detail,
            element: element)
    }

    static func requiredParameter(_ name: String) -> QBOFault {
        validation(
            "2020", "Required param missing, need to supply the required value for the API",
            "Required parameter \(name) is missing in the request", element: name)
    }

    static func invalidReference(_ name: String) -> QBOFault {
        validation(
            "2500", "Invalid Reference Id",
            "Invalid Reference Id : Something you're trying to use has been made inactive. Check the fields with "
                + "accounts, customers, items, vendors or employees.", element: name)
    }

    static func notFound(_ entity: String, _ id: String) -> QBOFault {
        validation(
            "610", "Object Not Found",
            "Object Not Found : Something you're trying to use has been made inactive. Check the fields with "
                + "accounts, customers, items, vendors or employees. \(entity) \(id)")
    }

    static let staleObject = validation(
        "5010", "Stale Object Error",
        "Stale Object Error : You and API API were working on this at the same time. API API finished before you did, "
            + "so your work was not saved.")

    static func duplicateName(_ name: String) -> QBOFault {
        validation(
            "6240", "Duplicate Name Exists Error",
            "The name supplied already exists. : Another customer, vendor or employee is already using this name. "
                + "Please use a different name. Name=\(name)")
    }

    static func duplicateDocNumber(_ number: String) -> QBOFault {
        validation(
            "6140", "Duplicate Document Number Error",
            "Duplicate Document Number Error : You must specify a different number. This number has already been "
                + "used. DocNumber=\(number)")
    }

    /// A foreign currency in a company without multicurrency (QuickBooks' 6000 business validation; the detail's
    /// wording is the emulator's, Intuit's exact text not being published).
    static func multicurrencyOff(_ currency: String, home: String) -> QBOFault {
        var fault = businessRule(
            "Business Validation Error: Multicurrency is not enabled for this company, so everything is in its home "
                + "currency \(home); \(currency) needs Preferences.CurrencyPrefs.MultiCurrencyEnabled")
        fault.element = "CurrencyRef"
        return fault
    }

    /// A transaction in another currency than its customer's: QuickBooks keeps a customer's transactions in the
    /// customer's currency (6000; the detail's wording is the emulator's).
    static func currencyMismatch(_ currency: String, customer: String) -> QBOFault {
        var fault = businessRule(
            "Business Validation Error: The transaction's currency \(currency) is not its customer's currency "
                + "\(customer); a customer's transactions are in the customer's currency")
        fault.element = "CurrencyRef"
        return fault
    }

    static func invalidExchangeRate(_ value: JSONValue) -> QBOFault {
        var fault = badRequest("ExchangeRate must be a number greater than zero, not \(value.canonicalString)")
        fault.element = "ExchangeRate"
        return fault
    }

    static func businessRule(_ detail: String) -> QBOFault {
        validation("6000", "A business validation error has occurred while processing your request", detail)
    }

    static func unsupported(_ detail: String) -> QBOFault {
        QBOFault(
            status: .badRequest, type: "ValidationFault", code: "500", message: "Unsupported Operation",
            detail: detail)
    }

    static func parse(_ detail: String) -> QBOFault {
        QBOFault(
            status: .badRequest, type: "ValidationFault", code: "4000", message: "Error parsing query",
            detail: "QueryParserError: \(detail)")
    }

    static func badRequest(_ detail: String) -> QBOFault {
        QBOFault(
            status: .badRequest, type: "ValidationFault", code: "2010",
            message: "Request has invalid or unsupported property",
            detail: detail)
    }

    /// A query naming a property its entity does not have (code, message and detail as the live sandbox answers
    /// them, quoted in a public client's tests).
    static func unknownProperty(_ property: String, entity: String) -> QBOFault {
        QBOFault(
            status: .badRequest, type: "ValidationFault", code: "4001", message: "Invalid query",
            detail: "QueryValidationError: Property \(property) not found for Entity \(entity)")
    }

    /// A query whose words are not where QuickBooks' grammar expects them, in its parser's words.
    static func unexpected(_ token: String, column: Int) -> QBOFault {
        QBOFault(
            status: .badRequest, type: "ValidationFault", code: "4000", message: "Error parsing query",
            detail: "QueryParserError: Encountered \" <IDENTIFIER> \"\(token) \"\" at line 1, column \(column).")
    }

    /// A `requestid` over QuickBooks' limit: 50 characters, 36 on a batch (the detail as QuickBooks answers it,
    /// quoted in `intuit/QuickBooks-V3-Java-SDK` issue #180).
    static func requestIDTooLong(_ requestID: String, limit: Int) -> QBOFault {
        businessRule(
            "Business Validation Error: You cannot enter more than \(limit) characters in the request_id field. "
                + "You tried entering \(requestID.prefix(10))..., which is \(requestID.count) characters.")
    }

    static let throttled = QBOFault(
        status: .tooManyRequests, type: "SERVICE", code: "3001",
        message: "message=ThrottleExceeded; errorCode=003001; statusCode=429",
        detail: "The request limit was reached.  Try again later")

    static let maintenance = QBOFault(
        status: .serviceUnavailable, type: "SystemFault", code: "10000",
        message: "An application error has occurred while processing your request",
        detail: "System Failure Error: The service is down for maintenance")
}

/// The API gateway's 401, with its lower-case keys and epoch-millisecond `time` (platforms.md §1.5).
func gatewayUnauthorizedBody(detail: String, epochMillis: Int64) -> JSONValue {
    [
        "warnings": nil, "intuitObject": nil,
        "fault": [
            "error": [
                [
                    "message": "message=AuthenticationFailed; errorCode=003200; statusCode=401",
                    "detail": .string(detail), "code": "3200", "element": nil,
                ]
            ],
            "type": "AUTHENTICATION",
        ],
        "report": nil, "queryResponse": nil, "batchItemResponse": [], "attachableResponse": [],
        "syncErrorResponse": nil, "requestId": nil, "time": .number(String(epochMillis)), "status": nil,
        "cdcresponse": [],
    ]
}
