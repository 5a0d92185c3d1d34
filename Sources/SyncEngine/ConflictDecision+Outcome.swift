public import Persistence

extension ConflictDecision {
    /// What a person's resolution of a held conflict does. The books' version of the conflict is remembered first
    /// either way (a push names the version it overwrites), then:
    ///
    /// - `useLocal`: the held pushes go (one is queued if none is left).
    /// - `useRemote`: the held pushes are superseded and billing is told the books' version.
    /// - `custom`: the values become billing's next version of the record, pushed to every integration of its tenant;
    ///   refused when billing changed the record since the values were based on it.
    ///
    /// A conflict that is not open is not resolved again.
    @Sendable public static func outcome(_ facts: ConflictResolutionFacts) -> ConflictResolutionOutcome {
        let conflict = facts.conflict
        guard conflict.status == .open else {
            return .refused("conflict \(conflict.id) is already resolved (\(conflict.resolution?.rawValue ?? ""))")
        }
        let version = facts.version
        switch facts.decision {
        case .useLocal:
            return .resolved(
                ConflictPlan(
                    resolution: .useLocal,
                    steps: [.rememberBooksVersion, .releaseHeldPushes, .pushIfNoneOpen(version: version)]))
        case .useRemote:
            return .resolved(
                ConflictPlan(
                    resolution: .useRemote,
                    steps: [
                        .rememberBooksVersion, .supersedePushes(upToVersion: version),
                        .takeBooksVersion(settlingVersion: version),
                    ]))
        case .custom(_, _, let baseVersion):
            guard baseVersion == version else {
                return .refused(
                    "billing changed \(conflict.recordType) \(conflict.localID) meanwhile (version \(version)); "
                        + "base the values on it and resolve again")
            }
            return .resolved(
                ConflictPlan(
                    resolution: .custom,
                    steps: [.rememberBooksVersion, .supersedePushes(upToVersion: version), .writeVersion(version + 1)]
                ))
        }
    }
}
