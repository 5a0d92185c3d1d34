import Accounting

/// Where Sage's change feed is: which list (`feeds`) and page of it, the latest instant each list showed in earlier
/// rounds (seconds since the epoch, Sage's clock), and the latest the list under way has shown so far.
struct SageFeedPosition: Equatable {
    /// The lists read in one round, in order: what changed, then what was deleted.
    static let feeds: [(recordType: RecordType, deleted: Bool)] = [
        (.invoice, false), (.creditNote, false), (.payment, false), (.invoice, true), (.creditNote, true),
        (.payment, true),
    ]

    var step = 0
    var page = 1
    /// Per list: the latest instant it showed (`nil`: never read).
    var since: [Int64?] = Array(repeating: nil, count: feeds.count)
    /// The latest instant the list under way has shown on its pages so far.
    var latest: Int64?

    init() {}

    /// The cursor's position, or `nil` when it is not one of this feed's (a foreign or damaged cursor starts over).
    init?(_ cursor: String?) {
        guard let cursor, cursor.utf8.count <= 400 else { return nil }
        let parts = cursor.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 4 + Self.feeds.count, parts[0] == "sage1", let step = Int(parts[1]),
            Self.feeds.indices.contains(step), let page = Int(parts[2]),
            (1...SageBusinessCloudSession.maximumPages).contains(page), let latest = Self.instant(parts[3])
        else { return nil }
        var since: [Int64?] = []
        for part in parts[4...] {
            guard let instant = Self.instant(part) else { return nil }
            since.append(instant)
        }
        self.step = step
        self.page = page
        self.latest = latest
        self.since = since
    }

    /// An instant of the cursor: seconds since the epoch within a sane range, or empty for none (`.some(nil)`);
    /// `nil` when it is neither.
    private static func instant(_ text: String) -> Int64?? {
        if text.isEmpty { return .some(nil) }
        guard text.utf8.count <= 12, let seconds = Int64(text), (0...253_402_300_799).contains(seconds) else {
            return nil
        }
        return .some(seconds)
    }

    var cursor: String {
        let instants = ([latest] + since).map { $0.map(String.init) ?? "" }
        return "sage1:\(step):\(page):" + instants.joined(separator: ":")
    }
}
