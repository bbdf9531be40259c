extension Raft {
    /// A leader's hand-over after a committed configuration removed it as a voter.
    struct Departure: Equatable {
        /// The configuration entry that removed this leader.
        var index: Index
        var startTick: Int
        /// Per voter of the new configuration: the first heartbeat round that told it a commit
        /// index at or past `index` (at most `membersMax` entries).
        var noticeRound: [NodeID: UInt64] = [:]

        /// The longest a removed leader waits for the new configuration to learn of it: four
        /// election timeouts, many heartbeat rounds even on lossy links.
        static func ticksMax(_ settings: Settings) -> Int { 4 * settings.electionTimeoutTicks }
    }
}

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
        if next.isVoter(id) { departure = nil }  // added back by a later entry
        if next.isJoint {
            leaveJointIfDue()
        } else if !next.isVoter(id), departure == nil {
            departure = Raft.Departure(index: entry.index, startTick: tickCount)
            events.append(.departureStarted(index: entry.index))
            heartbeatElapsed = 0
            broadcastHeartbeat()
            if role != .leader { return }
        }
        maybeCommit()
    }

    /// A leader removed by the entry at `departure.index` keeps leading, taking no proposals,
    /// until voters holding a quorum of the new configuration acknowledged a heartbeat that
    /// carried a commit index at or past that entry. Stepping down at once strands the cluster
    /// when the removal entry committed but the remaining voters have not heard so: they stay in
    /// the joint configuration, which needs the departed leader's vote, and it cannot vote for
    /// them when its log is longer (simulator seeds 42467 and 97275). Bounded by
    /// `Raft.Departure.ticksMax` and by check-quorum.
    mutating func noteDepartureNotices(round: UInt64) {
        guard var leaving = departure else { return }
        for peer in configuration.voters.ids where peer != id && leaving.noticeRound[peer] == nil {
            if let match = progress[peer]?.match, min(match, log.committed) >= leaving.index {
                leaving.noticeRound[peer] = round
            }
        }
        departure = leaving
    }

    /// Steps down once the departure is known to a quorum of the new configuration, or has
    /// lasted `Raft.Departure.ticksMax`.
    mutating func finishDepartureIfDone() {
        guard role == .leader, let leaving = departure else { return }
        let informed = configuration.voters.ids.filter { peer in
            guard let notice = leaving.noticeRound[peer], let acked = progress[peer]?.ackedRound else { return false }
            return acked >= notice
        }
        if configuration.voters.isQuorum(informed) {
            becomeFollower(term: term, leader: nil, reason: "removed from the configuration; a quorum of it knows")
        } else if tickCount - leaving.startTick >= Raft.Departure.ticksMax(settings) {
            becomeFollower(
                term: term, leader: nil, reason: "removed from the configuration; gave up waiting for a quorum to know")
        }
    }

    /// Joint consensus is left automatically: a leader proposes leave-joint as soon as it has
    /// applied everything up to its latest configuration change (or its term's no-op). That
    /// covers a leader elected after the joint entry committed, which applied it as a follower
    /// (etcd-io/raft's AutoLeave, checked on every apply).
    mutating func leaveJointIfDue() {
        guard role == .leader, configuration.isJoint, log.applied >= pendingConfigIndex else { return }
        pendingConfigIndex = appendAsLeader(
            kind: .configChange, origin: .none, payload: Raft.ConfigChange.leaveJoint.encoded)
        appendsOwed = true
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
            // A last append carrying the commit index that removed it, so that it learns of its
            // removal (and stops campaigning) instead of waiting for heartbeats that stop now.
            sendAppend(to: peer, sendIfEmpty: true)
            progress[peer] = nil
        }
    }
}
