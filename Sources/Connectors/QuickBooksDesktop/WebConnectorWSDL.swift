extension WebConnectorSOAP {
    /// An operation's request fields and its result's type, in the WSDL's words.
    private static let operations: [(name: String, fields: [(String, String)], result: String)] = [
        ("serverVersion", [("strVersion", "s:string")], "s:string"),
        ("clientVersion", [("strVersion", "s:string")], "s:string"),
        ("authenticate", [("strUserName", "s:string"), ("strPassword", "s:string")], "tns:ArrayOfString"),
        (
            "sendRequestXML",
            [
                ("ticket", "s:string"), ("strHCPResponse", "s:string"), ("strCompanyFileName", "s:string"),
                ("qbXMLCountry", "s:string"), ("qbXMLMajorVers", "s:int"), ("qbXMLMinorVers", "s:int"),
            ],
            "s:string"
        ),
        (
            "receiveResponseXML",
            [("ticket", "s:string"), ("response", "s:string"), ("hresult", "s:string"), ("message", "s:string")],
            "s:int"
        ),
        (
            "connectionError", [("ticket", "s:string"), ("hresult", "s:string"), ("message", "s:string")],
            "s:string"
        ),
        ("getLastError", [("ticket", "s:string")], "s:string"),
        ("closeConnection", [("ticket", "s:string")], "s:string"),
    ]

    /// The service's WSDL (`GET /qbwc?wsdl`): SOAP 1.1, document/literal, each operation's `SOAPAction`
    /// `http://developer.intuit.com/<operation>`, served at `location`.
    public static func wsdl(location: String) -> String {
        var types = ""
        var messages = ""
        var portType = ""
        var binding = ""
        for operation in operations {
            let name = operation.name
            let fields = operation.fields.map { field, type in
                // Numbers are required when present; strings may be left out.
                let occurs = type == "s:int" ? "minOccurs=\"1\"" : "minOccurs=\"0\""
                return "<s:element \(occurs) maxOccurs=\"1\" name=\"\(field)\" type=\"\(type)\"/>"
            }.joined()
            let resultOccurs = operation.result == "s:int" ? "1" : "0"
            types += """
                <s:element name="\(name)"><s:complexType><s:sequence>\(fields)</s:sequence></s:complexType>\
                </s:element><s:element name="\(name)Response"><s:complexType><s:sequence>\
                <s:element minOccurs="\(resultOccurs)" maxOccurs="1" name="\(name)Result" type="\(operation.result)"/>\
                </s:sequence></s:complexType></s:element>
                """
            messages += """
                <wsdl:message name="\(name)SoapIn"><wsdl:part name="parameters" element="tns:\(name)"/></wsdl:message>\
                <wsdl:message name="\(name)SoapOut"><wsdl:part name="parameters" element="tns:\(name)Response"/>\
                </wsdl:message>
                """
            portType += """
                <wsdl:operation name="\(name)"><wsdl:input message="tns:\(name)SoapIn"/>\
                <wsdl:output message="tns:\(name)SoapOut"/></wsdl:operation>
                """
            binding += """
                <wsdl:operation name="\(name)"><soap:operation soapAction="\(namespace)\(name)" style="document"/>\
                <wsdl:input><soap:body use="literal"/></wsdl:input><wsdl:output><soap:body use="literal"/>\
                </wsdl:output></wsdl:operation>
                """
        }
        var address = ""
        XMLText.escape(location, into: &address, quotes: true)
        return """
            <?xml version="1.0" encoding="utf-8"?>
            <wsdl:definitions xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/" \
            xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/" xmlns:s="http://www.w3.org/2001/XMLSchema" \
            xmlns:tns="\(namespace)" targetNamespace="\(namespace)">
            <wsdl:types><s:schema elementFormDefault="qualified" targetNamespace="\(namespace)">\
            <s:complexType name="ArrayOfString"><s:sequence>\
            <s:element minOccurs="0" maxOccurs="unbounded" name="string" nillable="true" type="s:string"/>\
            </s:sequence></s:complexType>\(types)</s:schema></wsdl:types>
            \(messages)
            <wsdl:portType name="QBWebConnectorSvcSoap">\(portType)</wsdl:portType>
            <wsdl:binding name="QBWebConnectorSvcSoap" type="tns:QBWebConnectorSvcSoap">\
            <soap:binding transport="http://schemas.xmlsoap.org/soap/http"/>\(binding)</wsdl:binding>
            <wsdl:service name="QBWebConnectorSvc"><wsdl:port name="QBWebConnectorSvcSoap" \
            binding="tns:QBWebConnectorSvcSoap"><soap:address location="\(address)"/></wsdl:port></wsdl:service>
            </wsdl:definitions>

            """
    }
}
