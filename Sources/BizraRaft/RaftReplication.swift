extension Raft.Node {
    // MARK: Leader side

    /// Appends one entry to the leader's own log and queues it for writing. Returns its index.
    @discardableResult
    mutating func appendAsLeader(kind: Raft.EntryKind, origin: Raft.ProposalID, payload: [UInt8]) -> Raft.Index {
        let entry = Raft.Entry(
            term: term, index: log.lastIndex + 1, kind: kind, origin: origin, payload: payload, previous: log.lastHash)
        log.appendAsLeader(entry)
        writes.queue([entry])
        if kind != .leaderNoop { uncommittedBytes += entry.accountedBytes }
        return entry.index
    }

    /// Sends new entries (or, with `sendIfEmpty`, an empty append carrying the commit index) to
    /// every follower and learner.
    mutating func broadcastAppend(sendIfEmpty: Bool) {
        for peer in configuration.members where peer != id {
            sendAppend(to: peer, sendIfEmpty: sendIfEmpty)
        }
    }

    /// Sends `peer` what it is missing, as far as flow control allows: batches of at most
    /// `messageEntriesBytesMax`, pipelined in `replicate` state up to the in-flight limits.
    mutating func sendAppend(to peer: Raft.NodeID, sendIfEmpty: Bool) {
        var first = true
        while let next = withProgress(peer, { $0.isPaused ? nil : $0.next }) ?? nil {
            let prevIndex = next - 1
            guard let prevTerm = log.term(at: prevIndex), let prevHash = log.hash(at: prevIndex) else {
                sendSnapshot(to: peer)
                return
            }
            let entries = log.entries(from: next, bytesMax: settings.messageEntriesBytesMax)
            if entries.isEmpty && !(first && sendIfEmpty) { return }
            first = false
            let append = Raft.Append(
                prevIndex: prevIndex, prevTerm: prevTerm, prevHash: prevHash, entries: entries, commit: log.committed)
            send(.append(append), to: peer)
            let bytes = entries.reduce(0) { $0 + $1.accountedBytes }
            let replicating = withProgress(peer) { state in
                if let last = entries.last {
                    state.sent(lastIndex: last.index, bytes: bytes)
                } else if state.state == .probe {
                    state.probeSent = true
                }
                return state.state == .replicate
            }
            if entries.isEmpty || replicating != true { return }
        }
    }

    /// Mutates `peer`'s progress in place. Copying a `Progress` out of the dictionary and back
    /// copies its in-flight ring on every change (a tenth of the core's time under load).
    @discardableResult
    mutating func withProgress<Result>(_ peer: Raft.NodeID, _ body: (inout Raft.Progress) -> Result) -> Result? {
        guard let slot = progress.index(forKey: peer) else { return nil }
        return body(&progress.values[slot])
    }

    /// Sends, once per `Ready`, what proposals appended and commit advances since the last one
    /// owe the followers: the entries of every proposal of the batch go out together (one append
    /// per follower, as flow control allows) instead of one append per proposal, and a commit
    /// advance is carried by those appends, or by an empty append when there is nothing new.
    mutating func flushAppends() {
        guard role == .leader, appendsOwed || commitOwed else { return }
        broadcastAppend(sendIfEmpty: commitOwed)
        appendsOwed = false
        commitOwed = false
    }

    mutating func broadcastHeartbeat() {
        let round = reads.startRound(tick: tickCount)
        for peer in configuration.members where peer != id {
            let match = progress[peer]?.match ?? 0
            send(.heartbeat(commit: min(match, log.committed), round: round), to: peer)
        }
        if departure != nil { noteDepartureNotices(round: round) }
        settleReads()
    }

    /// Advances the commit index to what a weighted quorum (of both halves when joint) holds,
    /// counting only entries of the current term (Raft §5.4.2).
    mutating func maybeCommit() {
        let quorumIndex = configuration.voters.committedIndex { peer in
            peer == id ? log.persisted : progress[peer]?.match
        }
        guard quorumIndex != Raft.Index.max, quorumIndex > log.committed, log.term(at: quorumIndex) == term else {
            return
        }
        let released = log.slice(from: log.committed + 1, through: quorumIndex).reduce(0) {
            $0 + ($1.kind == .leaderNoop ? 0 : $1.accountedBytes)
        }
        uncommittedBytes = max(0, uncommittedBytes - released)
        log.committed = quorumIndex
        commitOwed = true
        releaseReadsWaitingForCommit()
    }

    mutating func handleAppendResponse(_ response: Raft.AppendResponse, from peer: Raft.NodeID) {
        // An acknowledgement beyond our log is not something a correct follower sends.
        guard role == .leader, progress[peer] != nil, response.index <= log.lastIndex else { return }
        if response.rejected {
            if response.chainBroken { events.append(.chainBroken(index: response.index)) }
            var hint = response.hintIndex
            if response.hintTerm > 0 {
                hint = log.lastIndex(atOrBefore: response.hintIndex, withTermAtMost: response.hintTerm)
            }
            let resend = withProgress(peer) { state in
                state.recentActive = true
                return state.rejected(response.index, matchHint: hint)
            }
            if resend == true { sendAppend(to: peer, sendIfEmpty: true) }
            return
        }
        let firstIndex = log.firstIndex
        let advanced = withProgress(peer) { state in
            state.recentActive = true
            let advanced = state.acknowledged(response.index)
            switch state.state {
            case .probe:
                state.becomeReplicate()
            case .snapshot where state.match + 1 >= firstIndex:
                state.becomeProbe()
                state.becomeReplicate()
            default:
                break
            }
            return advanced
        }
        if advanced == true {
            maybeCommit()
            // When the commit moved, `flushAppends` sends this follower what it lacks with the rest.
            if !commitOwed { sendAppend(to: peer, sendIfEmpty: false) }
        } else {
            sendAppend(to: peer, sendIfEmpty: false)
        }
        if transferee == peer, progress[peer]?.match == log.lastIndex {
            send(.timeoutNow, to: peer)
        }
    }

    mutating func handleHeartbeatResponse(round: UInt64, from peer: Raft.NodeID) {
        guard role == .leader else { return }
        let lastIndex = log.lastIndex
        let lagging = withProgress(peer) { state in
            state.recentActive = true
            state.ackedRound = max(state.ackedRound, round)
            state.probeSent = false
            // Acknowledgements can be lost: a full window would otherwise stay full for good.
            if state.state == .replicate, state.inflights.isFull { state.inflights.freeFirst() }
            return state.match < lastIndex || state.state == .probe
        }
        guard let lagging else { return }
        if lagging { sendAppend(to: peer, sendIfEmpty: true) }
        settleReads()
        if departure != nil { finishDepartureIfDone() }
    }

    // MARK: Follower side

    mutating func handleAppend(_ append: Raft.Append, from sender: Raft.NodeID) {
        if role != .follower || leader != sender {
            becomeFollower(term: term, leader: sender, reason: "append from the leader")
        }
        resetElectionTimeout()
        guard writes.inFlightCount < Raft.Limits.writesInFlightMax else { return }  // storage is behind: drop
        if append.prevIndex < log.committed {
            send(.appendResponse(Raft.AppendResponse(index: log.committed, rejected: false)), to: sender)
            return
        }
        guard log.term(at: append.prevIndex) == append.prevTerm else {
            let hintIndex = log.lastIndex(
                atOrBefore: min(append.prevIndex, log.lastIndex), withTermAtMost: append.prevTerm)
            let response = Raft.AppendResponse(
                index: append.prevIndex, rejected: true, hintIndex: hintIndex, hintTerm: log.term(at: hintIndex) ?? 0)
            send(.appendResponse(response), to: sender)
            return
        }
        guard log.hash(at: append.prevIndex) == append.prevHash, chainLinks(append) else {
            events.append(.chainBroken(index: append.prevIndex))
            let hintIndex = min(log.committed, append.prevIndex)
            let response = Raft.AppendResponse(
                index: append.prevIndex, rejected: true, hintIndex: hintIndex, hintTerm: 0, chainBroken: true)
            send(.appendResponse(response), to: sender)
            return
        }
        guard let (new, _) = log.merge(append.entries) else {
            events.append(.chainBroken(index: log.committed))
            return  // it contradicts our committed log: refuse it without an answer
        }
        writes.queue(new)
        let lastNew = append.prevIndex + UInt64(append.entries.count)
        let commit = min(append.commit, lastNew)
        if commit > log.committed { log.committed = commit }
        send(.appendResponse(Raft.AppendResponse(index: lastNew, rejected: false)), to: sender)
    }

    /// Whether the entries of `append` form a valid chain after its `prevHash`.
    private func chainLinks(_ append: Raft.Append) -> Bool {
        var previous = append.prevHash
        var expected = append.prevIndex + 1
        for entry in append.entries {
            guard entry.index == expected else { return false }
            if let mine = log.entry(at: entry.index), mine.term == entry.term {
                // Already verified when it entered our log. One leader writes one entry per index
                // in its term, so the same index and term with another hash is a forgery or a
                // corruption, never a conflict to settle by truncating ours.
                guard mine.hash == entry.hash else { return false }
            } else if !entry.links(after: previous) {
                return false
            }
            previous = entry.hash
            expected += 1
        }
        return true
    }

    mutating func handleHeartbeat(commit: Raft.Index, round: UInt64, from sender: Raft.NodeID) {
        if role != .follower || leader != sender {
            becomeFollower(term: term, leader: sender, reason: "heartbeat from the leader")
        }
        resetElectionTimeout()
        let safeCommit = min(commit, log.lastIndex)
        if safeCommit > log.committed { log.committed = safeCommit }
        send(.heartbeatResponse(round: round), to: sender)
    }
}
