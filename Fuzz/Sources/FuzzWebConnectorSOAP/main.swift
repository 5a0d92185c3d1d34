import CFuzzDriver
import Connectors
import Foundation

/// A call to `POST /qbwc` as the QuickBooks Web Connector (or anyone) sends it: read, then answered with what it
/// carried, the way `/qbwc` writes its answers and faults.
@_cdecl("LLVMFuzzerTestOneInput")
public func test(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = Data(UnsafeRawBufferPointer(start: start, count: count))
    let call: WebConnectorCall
    do {
        call = try WebConnectorSOAP.read(bytes)
    } catch {
        _ = WebConnectorSOAP.fault(error.message)
        return 0
    }
    switch call {
    case .authenticate(let userName, let password):
        _ = WebConnectorSOAP.envelope(.authenticate([userName, password]))
    case .sendRequestXML(let turn):
        _ = WebConnectorSOAP.envelope(.sendRequestXML(turn.hostResponse + turn.companyFileName))
    case .receiveResponseXML(let turn):
        _ = WebConnectorSOAP.envelope(.getLastError(turn.response + turn.hresult + turn.message))
    default:
        _ = WebConnectorSOAP.envelope(.closeConnection(call.ticket ?? call.operation))
    }
    return 0
}

// libFuzzer's driver, started from this executable's own entry point (see CFuzzDriver.h).
exit(ledgerwire_fuzz_main(CommandLine.argc, CommandLine.unsafeArgv))
