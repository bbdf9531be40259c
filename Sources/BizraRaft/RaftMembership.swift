extension Raft.Node {
    /// Applies a committed configuration change as it is handed out (every node applies the same
    /// committed prefix, so every node accepts or refuses the same changes).
    mutating func applyConfigChange(_ entry: Raft.Entry) {
        guard let change = Raft.ConfigChange(decoding: entry.payload) else {
            events.append(
                .configurationRefused(index: entry.index, reason: Raft.ConfigChangeRefusal.malformed.description))
            return
        }
        let next: Raft.Configuration
        do {
            next = try configuration.applying(change)
        } catch {
            events.append(.configurationRefused(index: entry.index, reason: error.description))
            return
        }
        configuration = next
        events.append(.configurationApplied(next, index: entry.index))
        guard role == .leader else { return }
        reconcileProgress()
        if let target = transferee, !next.voters.incoming.contains(target) {
            transferee = nil
            events.append(.transferAborted(to: target))
        }
        if next.isJoint {
            leaveJointIfDue()
        } else if !next.isVoter(id) {
            becomeFollower(term: term, leader: nil, reason: "removed from the configuration")
            return
        }
        maybeCommit()
    }

    /// Joint consensus is left automatically: a leader proposes leave-joint as soon as it has
    /// applied everything up to its latest configuration change (or its term's no-op). That
    /// covers a leader elected after the joint entry committed, which applied it as a follower
    /// (etcd-io/raft's AutoLeave, checked on every apply).
    mutating func leaveJointIfDue() {
        guard role == .leader, configuration.isJoint, log.applied >= pendingConfigIndex else { return }
        pendingConfigIndex = appendAsLeader(
            kind: .configChange, origin: .none, payload: Raft.ConfigChange.leaveJoint.encoded)
        broadcastAppend(sendIfEmpty: false)
    }

    /// Adds progress for new members and drops it for removed ones.
    private mutating func reconcileProgress() {
        for member in configuration.members where member != id {
            if progress[member] == nil {
                progress[member] = makeProgress(for: member)
            } else {
                progress[member]?.isLearner = configuration.isLearner(member)
            }
        }
        for peer in progress.keys.sorted() where !configuration.isMember(peer) {
            progress[peer] = nil
        }
    }
}
