#!/usr/bin/env python3
"""Writes the libFuzzer seed corpus, Fuzz/Corpus/<target>/, from webhooks/, tally/ and a few hand-made seeds.

Run it again after webhooks/ or tally/ change; the corpus it writes is committed. It overwrites its own seeds and
leaves the others (inputs a fuzz run found worth keeping, committed by hand). scripts/fuzz.sh fuzzes a copy of it.
"""
import base64
import glob
import hashlib
import hmac
import os

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
corpus = os.path.join(root, "Fuzz", "Corpus")


def read(path):
    with open(os.path.join(root, path), "rb") as f:
        return f.read()


def seed(target, name, data):
    os.makedirs(os.path.join(corpus, target), exist_ok=True)
    with open(os.path.join(corpus, target, name), "wb") as f:
        f.write(data)


billing = sorted(p for p in glob.glob(os.path.join(root, "webhooks/billing/*.json")) if ".expected." not in p)
quickbooks = ["legacy-invoice-payment-void-delete", "cloudevents-invoice-payment-void-delete", "sdk-test-vector"]

# Standard Webhooks: id, timestamp and signature header on three lines, then the body, signed with the key of
# Fuzz/Sources/FuzzStandardWebhooks (the fuzzer's clock is 1700000000).
key = b"ledgerwire-fuzz-secret-32-bytes!"
other = b"an-old-secret-during-rotation!!!"


def signature(secret, webhook_id, timestamp, body):
    mac = hmac.new(secret, f"{webhook_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


for number, path in enumerate(billing):
    body = read(path)
    webhook_id = f"msg_{number:04d}"
    header = signature(key, webhook_id, 1700000000, body)
    seed("FuzzStandardWebhooks", os.path.basename(path), f"{webhook_id}\n1700000000\n{header}\n".encode() + body)
body = b'{"type":"customer.created"}'
rotation = signature(other, "msg_rotation", 1700000100, body) + " " + signature(key, "msg_rotation", 1700000100, body)
seed("FuzzStandardWebhooks", "rotation", f"msg_rotation\n1700000100\n{rotation}\n".encode() + body)
seed("FuzzStandardWebhooks", "stale", b"msg_stale\n1699990000\nv1,AAAA v2,BBBB\n{}")
# Issue 11's one-request crash: Int64.min overflows the skew arithmetic before the signature is checked. Kept as a seed
# so every run tries it first.
seed("FuzzStandardWebhooks", "timestamp-int64-min", b"x\n-9223372036854775808\nv1,AAAA\n")
seed("FuzzStandardWebhooks", "secret", b"whsec_bGVkZ2Vyd2lyZS1mdXp6LXNlY3JldC0zMi1ieXRlcyE=\n+1700000000\nv1a,\n")

for path in billing:
    seed("FuzzBillingEvent", os.path.basename(path), read(path))
    seed("FuzzJSON", os.path.basename(path), read(path))
for name in quickbooks:
    seed("FuzzJSON", f"quickbooks-{name}.json", read(f"webhooks/quickbooks/{name}.json"))
for name, text in {
    "scalars": b'[null,true,false,0,-0.0,1e400,-12.5E-3,"\\u00e9\\ud83d\\ude00\\n",{}]',
    "nested": b'{"a":{"b":[[[{"c":"d"}]]]}}',
    "escapes": b'"\\"\\\\\\/\\b\\f\\n\\r\\t\\u0000"',
}.items():
    seed("FuzzJSON", name, text)

# QuickBooks: the intuit-signature value on the first line, then the body.
for name in quickbooks:
    sig = read(f"webhooks/quickbooks/{name}.signature").strip()
    seed("FuzzQuickBooksWebhook", name, sig + b"\n" + read(f"webhooks/quickbooks/{name}.json"))

# Xero: the x-xero-signature value on the first line, then the body (webhooks/xero/, both intent-to-receive
# signatures among them).
xero = ["spec-contact-update", "spec-credit-note-create", "batch-two-organisations", "intent-to-receive"]
for name in xero:
    sig = read(f"webhooks/xero/{name}.signature").strip()
    seed("FuzzXeroWebhook", name, sig + b"\n" + read(f"webhooks/xero/{name}.json"))
bad = read("webhooks/xero/intent-to-receive.bad-signature").strip()
seed("FuzzXeroWebhook", "intent-to-receive-bad-signature", bad + b"\n" + read("webhooks/xero/intent-to-receive.json"))

# Numbers: the first byte picks the fraction digits allowed (byte % 20) and the currency (byte >> 5), the rest
# is the text.
for name, selector, text in [
    ("inr", 2 | (1 << 5), b"1180.00"),
    ("jpy", 0, b"500"),
    ("kwd", 3 | (3 << 5), b"-1.005"),
    ("clf", 4 | (4 << 5), b"0.0001"),
    ("max", 0, b"9223372036854775807"),
    ("min", 0, b"-9223372036854775808"),
    ("large-scaled", 2 | (1 << 5), b"92233720368547758.07"),
    ("rate", 6, b"0.012345"),
    ("bad", 2, b"1,000.5e3"),
]:
    seed("FuzzNumbers", name, bytes([selector]) + text)

for name, text in {
    "date": b"2026-11-21",
    "leap": b"2024-02-29",
    "utc": b"2026-11-21T09:30:00.123Z",
    "offset": b"2015-08-10T11:33:46-07:00",
    "quickbooks-colonless": b"2015-10-05T14:42:19-0700",
    "quickbooks-nanos": b"2025-09-10T21:31:25.179851517Z",
    "edge": b"0000-01-01T00:00:00+23:59",
    "leap-second": b"9999-12-31 23:59:60.999999z",
}.items():
    seed("FuzzDates", name, text)

for name, text in {
    "query": b"minorversion=75&query=select+*+from+Invoice+where+DocNumber+%3D+%27GF%2F2026-27%2F0187%27",
    "token": b"grant_type=authorization_code&code=AB11&redirect_uri=http%3A%2F%2F127.0.0.1%3A8080%2Foauth%2Fcallback",
    "broken": b"a=%&b=%4&=%zz&&flag&c=%E2%82%B9%FF",
}.items():
    seed("FuzzForms", name, text)

# Uploads: a browser's body (its content type on the first line, as the target reads it), curl's, a part named
# "format" with filename "file" before the file, and a body cut short.
boundary = b"----WebKitFormBoundary7MA4YWxkTrZu0gW"
browser = (
    b"--" + boundary + b"\r\nContent-Disposition: form-data; name=\"file\"; filename=\"AUDIT.CSV\"\r\n"
    b"Content-Type: text/csv\r\n\r\nNo,Type,Account\r\n1,SI,SMITHJ01\r\n\r\n--" + boundary + b"--\r\n"
)
for name, text in {
    "browser": b"multipart/form-data; boundary=" + boundary + b"\n" + browser,
    "curl": b"multipart/form-data; boundary=\"------------------------d74496d66958873e\"\n"
    b"--------------------------d74496d66958873e\r\nContent-Disposition: form-data; name=\"file\"; filename=\"c.csv\""
    b"\r\n\r\nA/C,Name\r\n\r\n--------------------------d74496d66958873e--\r\n",
    "filename-file": b"multipart/form-data; boundary=XyZ\n--XyZ\r\nContent-Disposition: form-data; name=\"format\";"
    b" filename=\"file\"\r\n\r\nsage50\r\n--XyZ\r\nContent-Disposition: form-data; name=file\r\n\r\nrows\r\n--XyZ--",
    "cut-short": b"multipart/form-data; boundary=XyZ\n--XyZ\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nrow",
}.items():
    seed("FuzzMultipart", name, text)

# Tally: every answer of the golden exchanges (tally/), in both dialects and encodings.
for path in sorted(glob.glob(os.path.join(root, "tally/*/*.answer.xml"))):
    seed("FuzzTallyXML", os.path.basename(os.path.dirname(path)) + "-" + os.path.basename(path), read(path))

# The QuickBooks Web Connector's SOAP calls, in the forms clients write them (platforms.md §3.2).
envelope_open = (
    b'<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"'
    b' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema">'
    b"<soap:Body>"
)
envelope_close = b"</soap:Body></soap:Envelope>"
for name, call in {
    "serverVersion": b'<serverVersion xmlns="http://developer.intuit.com/"><strVersion/></serverVersion>',
    "clientVersion": b'<clientVersion xmlns="http://developer.intuit.com/"><strVersion>2.3.0.36</strVersion>'
    b"</clientVersion>",
    "authenticate": b'<authenticate xmlns="http://developer.intuit.com/"><strUserName xsi:type="xsd:string">'
    b'greenfield</strUserName><strPassword xsi:type="xsd:string">p&amp;ss</strPassword></authenticate>',
    "sendRequestXML-first": b'<sendRequestXML xmlns="http://developer.intuit.com/"><ticket>6a1c</ticket>'
    b"<strHCPResponse>&lt;QBXML&gt;&lt;QBXMLMsgsRs&gt;&lt;HostQueryRs statusCode=&quot;0&quot;/&gt;"
    b"&lt;/QBXMLMsgsRs&gt;&lt;/QBXML&gt;</strHCPResponse><strCompanyFileName>C:\\Greenfield.QBW"
    b"</strCompanyFileName><qbXMLCountry>US</qbXMLCountry><qbXMLMajorVers>16</qbXMLMajorVers>"
    b"<qbXMLMinorVers>0</qbXMLMinorVers></sendRequestXML>",
    "receiveResponseXML": b'<receiveResponseXML xmlns="http://developer.intuit.com/"><ticket>6a1c</ticket>'
    b'<response><![CDATA[<?xml version="1.0" ?><QBXML><QBXMLMsgsRs><InvoiceAddRs requestID="1" statusCode="0"/>'
    b"</QBXMLMsgsRs></QBXML>]]></response><hresult /><message /></receiveResponseXML>",
    "connectionError": b'<connectionError xmlns="http://developer.intuit.com/"><ticket>6a1c</ticket>'
    b"<hresult>0x80040408</hresult><message>Could not start QuickBooks.</message></connectionError>",
    "getLastError": b'<getLastError xmlns="http://developer.intuit.com/"><ticket>6a1c</ticket></getLastError>',
    "closeConnection": b'<closeConnection xmlns="http://developer.intuit.com/"><ticket>6a1c</ticket>'
    b"</closeConnection>",
}.items():
    seed("FuzzWebConnectorSOAP", name, envelope_open + call + envelope_close)
seed(
    "FuzzWebConnectorSOAP",
    "prefixed",
    b'<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"'
    b' xmlns:ns1="http://developer.intuit.com/"><SOAP-ENV:Body><ns1:sendRequestXML><ns1:ticket>T</ns1:ticket>'
    b"<ns1:qbXMLMajorVers>13</ns1:qbXMLMajorVers><ns1:qbXMLMinorVers>0</ns1:qbXMLMinorVers></ns1:sendRequestXML>"
    b"</SOAP-ENV:Body></SOAP-ENV:Envelope>",
)

# QuickBooks Desktop's qbXML answers, as the Web Connector relays them (platforms.md §3.4).
seed(
    "FuzzQBXML",
    "customer-add",
    b'<?xml version="1.0" ?><QBXML><QBXMLMsgsRs><CustomerAddRs requestID="15" statusCode="0" statusSeverity="Info"'
    b' statusMessage="Status OK"><CustomerRet><ListID>F540000-1197683154</ListID><EditSequence>1197683154'
    b"</EditSequence><Name>Eastern XYZ University</Name><BillAddress><Addr1>123 XYZ Road</Addr1></BillAddress>"
    b"</CustomerRet></CustomerAddRs></QBXMLMsgsRs></QBXML>",
)
seed(
    "FuzzQBXML",
    "errors-and-iterator",
    b'<QBXML><QBXMLMsgsRs><CustomerAddRs requestID="16" statusCode="3180" statusSeverity="Error" statusMessage='
    b'"This list has been modified by another user." /><InvoiceQueryRs requestID="17" statusCode="0"'
    b' statusSeverity="Info" statusMessage="Status OK" retCount="1" iteratorRemainingCount="1999"'
    b' iteratorID="{1A2B}"><InvoiceRet><TxnID>12006-1196864828</TxnID><RefNumber>9668</RefNumber>'
    b"<InvoiceLineRet><TxnLineID>1</TxnLineID><Amount>295.00</Amount></InvoiceLineRet></InvoiceRet>"
    b'</InvoiceQueryRs><CustomerQueryRs requestID="18" statusCode="1" statusSeverity="Info"/></QBXMLMsgsRs></QBXML>',
)

# Sage 50: an audit trail export (an invoice, a credit note with a quoted comma, a receipt allocated to the invoice)
# and a customer list with a doubled quote, as Sage 50 writes them (CRLF).
seed(
    "FuzzSage50CSV",
    "audit-trail.csv",
    b"No,Type,Account,Nominal,Dept,Details,Date,Ref,Ex.Ref,Net,Tax,T/C,Paid,Amount Paid,Bank,Bank Rec. Date,VAT,"
    b"Deleted,Allocations\r\n"
    b"1,SI,ASHARAO,4000,0,Term 1 tuition,05/04/2026,INV-1,LWI0123456789,1000.00,200.00,T1,Y,1200.00,,,N,N,3=1200.00\r\n"
    b'2,SC,ASHARAO,4000,0,"Refund, part",06/04/2026,CN-1,LWC0123456789,100.00,20.00,T1,N,0.00,,,N,N,\r\n'
    b"3,SR,ASHARAO,1200,0,Receipt,07/04/2026,PAY-1,,1200.00,0.00,T9,Y,1200.00,,,N,N,1=1200.00\r\n",
)
seed(
    "FuzzSage50CSV",
    "customers.csv",
    b"A/C,Name,Street1,Street2,Town,County,Post Code\r\n"
    b"ASHARAO,Asha Rao,12 MG Road,,Bengaluru,,560001\r\n"
    b'ASHARAO1,"Rao, Asha ""junior""",40 Residency Road,,Bengaluru,,560025\r\n',
)
