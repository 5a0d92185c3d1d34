import Accounting

/// Billing's `data` objects into domain records. Each function reads every field (so every error is
/// reported) and returns a record only when all of them were good.
enum BillingRecordDecoder {
    /// - Parameter defaultUpdatedAt: for a customer embedded in an invoice, which may omit its own `updated_at`.
    static func customer(_ data: FieldReader, defaultUpdatedAt: Timestamp? = nil) -> Customer? {
        let before = data.diagnostics.errors.count
        let id = data.string("id")
        let name = data.string("name")
        let email = data.optionalString("email")
        if let email, !email.contains("@") {
            data.diagnostics.add(data.field("email"), "\"\(email)\" is not an email address")
        }
        let phone = data.optionalString("phone")
        let address = data.object("billing_address", required: false).flatMap(Self.address)
        let taxID = data.optionalString("tax_id")
        let currency = data.currency("currency", required: false)
        let updatedAt =
            defaultUpdatedAt.map { data.timestamp("updated_at", required: false) ?? $0 }
            ?? data.timestamp("updated_at")
        guard data.diagnostics.errors.count == before, let id, let name, let updatedAt else { return nil }
        return Customer(
            id: .init(id),
            name: name,
            email: email,
            phone: phone,
            billingAddress: address,
            taxID: taxID,
            currency: currency,
            updatedAt: updatedAt
        )
    }

    static func address(_ data: FieldReader) -> Address? {
        let line1 = data.string("line1")
        let line2 = data.optionalString("line2")
        let city = data.string("city")
        let region = data.optionalString("region")
        let postalCode = data.optionalString("postal_code")
        var country = data.string("country")
        if let code = country, code.count != 2 || !code.allSatisfy({ $0.isASCII && $0.isUppercase }) {
            data.diagnostics.add(data.field("country"), "\"\(code)\" is not an ISO 3166-1 alpha-2 code such as \"IN\"")
            country = nil
        }
        guard let line1, let city, let country else { return nil }
        return Address(line1: line1, line2: line2, city: city, region: region, postalCode: postalCode, country: country)
    }

    static func invoice(_ data: FieldReader) -> Invoice? {
        let before = data.diagnostics.errors.count
        let id = data.string("id")
        let number = data.string("number")
        let customerID = data.string("customer_id")
        let currency = data.currency("currency")
        let exchangeRate = data.decimal("exchange_rate", required: false, maximumFractionDigits: 10)
        let issueDate = data.date("issue_date")
        let dueDate = data.date("due_date", required: false)
        let lines = data.objects("lines")?.compactMap { line(_: $0, currency: currency) }
        let subtotal = data.money("subtotal", currency)
        let taxTotal = data.money("tax_total", currency)
        let total = data.money("total", currency)
        let updatedAt = data.timestamp("updated_at")
        let customer = data.object("customer", required: false).flatMap {
            Self.customer($0, defaultUpdatedAt: updatedAt ?? Timestamp(microsecondsSinceEpoch: 0))
        }
        if let customer, let customerID, customer.id.rawValue != customerID {
            data.diagnostics.add(
                data.field("customer.id"), "\"\(customer.id)\" does not match customer_id \"\(customerID)\"")
        }
        guard data.diagnostics.errors.count == before, let id, let number, let customerID, let currency, let issueDate,
            let lines, let subtotal, let taxTotal, let total, let updatedAt
        else { return nil }
        return Invoice(
            id: .init(id),
            number: number,
            customerID: .init(customerID),
            customer: customer,
            currency: currency,
            exchangeRate: exchangeRate,
            issueDate: issueDate,
            dueDate: dueDate,
            lines: lines,
            subtotal: subtotal,
            taxTotal: taxTotal,
            total: total,
            updatedAt: updatedAt
        )
    }

    static func line(_ data: FieldReader, currency: Currency?) -> DocumentLine? {
        let id = data.string("id")
        let description = data.string("description")
        let courseID = data.optionalString("course_id")
        let quantity = data.decimal("quantity")
        let unitAmount = data.money("unit_amount", currency)
        let discount = data.optionalMoney("discount_amount", currency)
        let amount = data.money("amount", currency)
        let revenueAccount = data.string("revenue_account")
        let taxCode = data.optionalString("tax_code")
        let taxAmount = data.optionalMoney("tax_amount", currency)
        guard let id, let description, let quantity, let unitAmount, let amount, let revenueAccount else { return nil }
        return DocumentLine(
            id: .init(id),
            description: description,
            courseID: courseID,
            quantity: quantity,
            unitAmount: unitAmount,
            discountAmount: discount,
            amount: amount,
            revenueAccount: revenueAccount,
            taxCode: taxCode,
            taxAmount: taxAmount
        )
    }

    static func invoiceVoid(_ data: FieldReader) -> InvoiceVoid? {
        let id = data.string("id")
        let number = data.string("number")
        let reason = data.optionalString("reason")
        let updatedAt = data.timestamp("updated_at")
        guard let id, let number, let updatedAt else { return nil }
        return InvoiceVoid(id: .init(id), number: number, reason: reason, updatedAt: updatedAt)
    }

    static func payment(_ data: FieldReader) -> Payment? {
        let before = data.diagnostics.errors.count
        let id = data.string("id")
        let customerID = data.string("customer_id")
        let currency = data.currency("currency")
        let amount = data.money("amount", currency)
        let receivedAt = data.timestamp("received_at")
        let method = data.string("method")
        let reference = data.optionalString("reference")
        let depositAccount = data.string("deposit_account")
        let allocations = data.objects("allocations")?.compactMap { allocation -> Payment.Allocation? in
            let invoiceID = allocation.string("invoice_id")
            let amount = allocation.money("amount", currency)
            guard let invoiceID, let amount else { return nil }
            return Payment.Allocation(invoiceID: .init(invoiceID), amount: amount)
        }
        let updatedAt = data.timestamp("updated_at")
        guard data.diagnostics.errors.count == before, let id, let customerID, let currency, let amount, let receivedAt,
            let method, let depositAccount, let allocations, let updatedAt
        else { return nil }
        return Payment(
            id: .init(id),
            customerID: .init(customerID),
            currency: currency,
            amount: amount,
            receivedAt: receivedAt,
            method: method,
            reference: reference,
            depositAccount: depositAccount,
            allocations: allocations,
            updatedAt: updatedAt
        )
    }

    static func creditNote(_ data: FieldReader) -> CreditNote? {
        let before = data.diagnostics.errors.count
        let id = data.string("id")
        let number = data.string("number")
        let customerID = data.string("customer_id")
        let invoiceID = data.optionalString("invoice_id")
        let currency = data.currency("currency")
        let issueDate = data.date("issue_date")
        let lines = data.objects("lines")?.compactMap { line(_: $0, currency: currency) }
        let subtotal = data.money("subtotal", currency)
        let taxTotal = data.money("tax_total", currency)
        let total = data.money("total", currency)
        let reason = data.optionalString("reason")
        let updatedAt = data.timestamp("updated_at")
        guard data.diagnostics.errors.count == before, let id, let number, let customerID, let currency, let issueDate,
            let lines, let subtotal, let taxTotal, let total, let updatedAt
        else { return nil }
        return CreditNote(
            id: .init(id),
            number: number,
            customerID: .init(customerID),
            invoiceID: invoiceID.map { .init($0) },
            currency: currency,
            issueDate: issueDate,
            lines: lines,
            subtotal: subtotal,
            taxTotal: taxTotal,
            total: total,
            reason: reason,
            updatedAt: updatedAt
        )
    }

    static func refund(_ data: FieldReader) -> Refund? {
        let before = data.diagnostics.errors.count
        let id = data.string("id")
        let customerID = data.string("customer_id")
        let currency = data.currency("currency")
        let amount = data.money("amount", currency)
        let refundedAt = data.timestamp("refunded_at")
        let method = data.string("method")
        let reference = data.optionalString("reference")
        let paymentID = data.optionalString("payment_id")
        let creditNoteID = data.optionalString("credit_note_id")
        let depositAccount = data.string("deposit_account")
        let updatedAt = data.timestamp("updated_at")
        guard data.diagnostics.errors.count == before, let id, let customerID, let currency, let amount, let refundedAt,
            let method, let depositAccount, let updatedAt
        else { return nil }
        return Refund(
            id: .init(id),
            customerID: .init(customerID),
            currency: currency,
            amount: amount,
            refundedAt: refundedAt,
            method: method,
            reference: reference,
            paymentID: paymentID.map { .init($0) },
            creditNoteID: creditNoteID.map { .init($0) },
            depositAccount: depositAccount,
            updatedAt: updatedAt
        )
    }
}
