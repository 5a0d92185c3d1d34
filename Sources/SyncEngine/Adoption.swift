public import Connectors

/// The one rule, for every platform, for taking a record already in the books as a create's result instead of
/// writing it: the first match (`Connector.find`, best first) that is not linked to another billing record.
///
/// A match linked to another billing record is never adopted: two families both named Priya Sharma are two
/// customers, and the second family's invoices must not go to the first family's account. Those matches go to the
/// create as `PushRequest.notAdoptable`, so the platform's copy is made distinct from them.
public enum Adoption: Sendable, Hashable {
    /// The create's result is this record.
    case adopt(RemoteMatch)
    /// Nothing may be adopted: write the record, keeping clear of these.
    case create(notAdoptable: [RemoteMatch])

    /// - Parameters:
    ///   - matches: what the platform found, best first.
    ///   - linked: billing's id of the record each matched remote id is already linked to, where it is.
    ///   - localID: billing's id of the record being created.
    public static func decide(matches: [RemoteMatch], linked: [String: String], localID: String) -> Adoption {
        var notAdoptable: [RemoteMatch] = []
        for match in matches {
            if let owner = linked[match.remoteID], owner != localID {
                if !notAdoptable.contains(where: { $0.remoteID == match.remoteID && $0.matchedBy == match.matchedBy }) {
                    notAdoptable.append(match)
                }
                continue
            }
            return .adopt(match)
        }
        return .create(notAdoptable: notAdoptable)
    }
}
