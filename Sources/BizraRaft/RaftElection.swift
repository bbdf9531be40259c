import BizraCrypto

extension Raft.Node {
    /// Handles one message from a peer. Messages from non-members are handled like any other
    /// (a node being added learns the log before it is a member); the shell has already checked
    /// that `message.from` is the identity the bus verified.
    package mutating func step(_ message: Raft.Message) {
        guard message.to == id, message.from != id, message.from != 0 else { return }
        // What is committed stays committed, whatever the terms of sender and receiver.
        if case .commitNotice(let index, let noticeTerm, let hash) = message.body {
            handleCommitNotice(index: index, term: noticeTerm, hash: hash)
            return
        }
        if case .voteRequest = message.body { sendCommitNoticeIfRemoved(to: message.from) }
        if message.term > term {
            guard handleHigherTerm(message) else { return }
        } else if message.term < term {
            handleLowerTerm(message)
            return
        }
        switch message.body {
        case .voteRequest(let request): handleVoteRequest(request, from: message.from, term: message.term)
        case .voteResponse(let preVote, let granted):
            handleVoteResponse(preVote: preVote, granted: granted, from: message.from, term: message.term)
        case .append(let append): handleAppend(append, from: message.from)
        case .appendResponse(let response): handleAppendResponse(response, from: message.from)
        case .heartbeat(let commit, let round): handleHeartbeat(commit: commit, round: round, from: message.from)
        case .heartbeatResponse(let round): handleHeartbeatResponse(round: round, from: message.from)
        case .snapshotChunk(let chunk): handleSnapshotChunk(chunk, from: message.from)
        case .snapshotResponse(let index, let nextOffset, let done, let rejected):
            handleSnapshotResponse(
                index: index, nextOffset: nextOffset, done: done, rejected: rejected, from: message.from)
        case .timeoutNow: handleTimeoutNow(from: message.from)
        case .forwardedProposals(let list): handleForwardedProposals(list, from: message.from)
        case .proposalsDropped(let ids): proposals.settleDropped(ids, into: &outcomes)
        case .readIndexRequest(let context): handleReadIndexRequest(context: context, from: message.from)
        case .readIndexResponse(let context, let index):
            reads.answerForwarded(context, index: index, into: &readResults)
        case .commitNotice: break  // handled above
        }
    }

    /// A node that is not a voter of its own (applied, hence committed) configuration answers
    /// every (pre-)vote request with its commit index, before any other check. A leader removed
    /// by joint consensus that steps down before the new voters learned that leave-joint
    /// committed (its hand-over timed out, or check-quorum ended it during a partition) leaves
    /// them joint, needing its vote, which it refuses when its log is longer: they stay
    /// leaderless for good (simulator seed 16246). Told the commit index, they apply leave-joint
    /// and campaign in the new configuration without it.
    private mutating func sendCommitNoticeIfRemoved(to candidate: Raft.NodeID) {
        guard !configuration.isVoter(id), log.committed > 0, let committedTerm = log.term(at: log.committed),
            let hash = log.hash(at: log.committed)
        else {
            return
        }
        send(.commitNotice(index: log.committed, term: committedTerm, hash: hash), to: candidate)
    }

    /// Adopts a commit index another node vouches for when this log holds the same entry at
    /// that index (same term and chain hash): by log matching the prefix through it is then the
    /// committed one. A leader's commit index comes from its quorum only. A campaign in progress
    /// ends: the entries now committed may change this node's configuration (it may not even be
    /// a voter of the result), and votes must be asked and counted in one configuration.
    private mutating func handleCommitNotice(index: Raft.Index, term noticeTerm: Raft.Term, hash: Digest256) {
        guard role != .leader, index > log.committed, index <= log.lastIndex, log.term(at: index) == noticeTerm,
            log.hash(at: index) == hash
        else {
            return
        }
        log.committed = index
        events.append(.commitLearned(index: index))
        if role == .preCandidate || role == .candidate {
            becomeFollower(term: term, leader: nil, reason: "learned a commit index; campaigning again later")
        }
    }

    /// A message from a higher term. Returns whether to go on handling it.
    private mutating func handleHigherTerm(_ message: Raft.Message) -> Bool {
        switch message.body {
        case .voteRequest(let request):
            // Leader stickiness: a node that heard from a live leader within the minimum election
            // timeout ignores a candidate (unless leadership is being handed over to it). With
            // lease reads, a node that just (re)started may have acknowledged a leader before it
            // crashed, so it also stays quiet for one election timeout after start.
            let justStarted: Bool
            if case .lease = settings.readMode {
                justStarted = tickCount < settings.electionTimeoutTicks
            } else {
                justStarted = false
            }
            if settings.checkQuorum, leader != nil || justStarted, electionElapsed < settings.electionTimeoutTicks,
                !request.transfer
            {
                return false
            }
            if request.preVote { return true }  // a pre-vote never changes our term
            if request.transfer, message.from == transferee { transferee = nil }  // done, not aborted
            becomeFollower(term: message.term, leader: nil, reason: "vote request for a higher term")
            return true
        case .voteResponse(let preVote, let granted) where preVote && granted:
            return true  // granted pre-votes carry the term we would campaign in
        case .append, .heartbeat, .snapshotChunk:
            becomeFollower(term: message.term, leader: message.from, reason: "message from the leader of a higher term")
            return true
        default:
            becomeFollower(term: message.term, leader: nil, reason: "message from a higher term")
            return true
        }
    }

    /// A message from a lower term: answer where that helps the sender catch up, else drop it.
    private mutating func handleLowerTerm(_ message: Raft.Message) {
        switch message.body {
        case .append, .heartbeat:
            // A leader cut off while we moved on (possible with check-quorum or pre-vote, which
            // keep terms from rising everywhere) learns our term from this and steps down.
            if settings.checkQuorum || settings.preVote {
                send(.appendResponse(Raft.AppendResponse(index: 0, rejected: true)), to: message.from)
            }
        case .voteRequest(let request) where request.preVote:
            send(.voteResponse(preVote: true, granted: false), to: message.from)
        default:
            break
        }
    }

    // MARK: Campaigning

    /// Starts an election: a pre-vote first unless disabled or asked by a leadership transfer.
    mutating func campaign(transfer: Bool) {
        guard isPromotable else { return }
        guard !hasUnappliedConfigChange() else { return }
        if settings.preVote, !transfer {
            becomePreCandidate()
        } else {
            becomeCandidate()
        }
        let preVote = role == .preCandidate
        let campaignTerm = preVote ? term + 1 : term
        events.append(.campaignStarted(term: campaignTerm, preVote: preVote))
        votes = [id: true]
        if concludeElection(preVote: preVote) { return }
        let request = Raft.VoteRequest(
            preVote: preVote, lastIndex: log.lastIndex, lastTerm: log.lastTerm, transfer: transfer)
        for peer in configuration.voters.ids where peer != id {
            send(.voteRequest(request), to: peer, term: campaignTerm)
        }
    }

    /// Whether a committed configuration change waits to be applied: such a node may not know
    /// its own membership yet, so it does not campaign (as in etcd-io/raft).
    private func hasUnappliedConfigChange() -> Bool {
        guard log.committed > log.applied else { return false }
        return log.slice(from: log.applied + 1, through: log.committed).contains { $0.kind == .configChange }
    }

    private mutating func handleVoteRequest(
        _ request: Raft.VoteRequest, from candidate: Raft.NodeID, term requestTerm: Raft.Term
    ) {
        let canVote =
            vote == candidate || (vote == nil && leader == nil) || (request.preVote && requestTerm > term)
        let grant = canVote && log.isUpToDate(lastIndex: request.lastIndex, lastTerm: request.lastTerm)
        if request.preVote {
            send(.voteResponse(preVote: true, granted: grant), to: candidate, term: grant ? requestTerm : term)
            return
        }
        if grant {
            vote = candidate
            resetElectionTimeout()
        }
        send(.voteResponse(preVote: false, granted: grant), to: candidate)
    }

    private mutating func handleVoteResponse(
        preVote: Bool, granted: Bool, from voter: Raft.NodeID, term responseTerm: Raft.Term
    ) {
        switch role {
        // A granted pre-vote carries the term we would campaign in; a refusal carries the voter's
        // term, which is ours (a higher one made us a follower already).
        case .preCandidate where preVote && (responseTerm == term + 1 || (!granted && responseTerm == term)),
            .candidate where !preVote:
            votes[voter] = granted
            _ = concludeElection(preVote: preVote)
        default:
            return
        }
    }

    /// Moves on when the votes decide the election. Returns whether they did.
    private mutating func concludeElection(preVote: Bool) -> Bool {
        switch configuration.voters.voteResult({ votes[$0] }) {
        case .won:
            // Won only in a configuration that still counts this node (it can change mid-campaign).
            guard isPromotable else {
                becomeFollower(term: term, leader: nil, reason: "no longer a voter of its configuration")
                return true
            }
            if preVote {
                becomeCandidate()
                events.append(.campaignStarted(term: term, preVote: false))
                votes = [id: true]
                if concludeElection(preVote: false) { return true }
                let request = Raft.VoteRequest(
                    preVote: false, lastIndex: log.lastIndex, lastTerm: log.lastTerm, transfer: false)
                for peer in configuration.voters.ids where peer != id { send(.voteRequest(request), to: peer) }
            } else {
                becomeLeader()
            }
            return true
        case .lost:
            becomeFollower(term: term, leader: nil, reason: preVote ? "pre-vote lost" : "election lost")
            return true
        case .pending:
            return false
        }
    }

    // MARK: Roles

    mutating func becomeFollower(term newTerm: Raft.Term, leader newLeader: Raft.NodeID?, reason: String) {
        let wasLeader = role == .leader
        if newTerm > term {
            term = newTerm
            vote = nil
        }
        role = .follower
        leader = newLeader
        resetElectionTimeout()
        heartbeatElapsed = 0
        if wasLeader {
            events.append(.steppedDown(reason: reason))
            leaveLeadership()
        }
    }

    private mutating func becomePreCandidate() {
        role = .preCandidate
        leader = nil
        votes = [:]
    }

    private mutating func becomeCandidate() {
        role = .candidate
        term += 1
        vote = id
        leader = nil
        votes = [:]
        resetElectionTimeout()
    }

    private mutating func becomeLeader() {
        role = .leader
        leader = id
        transferee = nil
        heartbeatElapsed = 0
        electionElapsed = 0
        progress = [:]
        for peer in configuration.members where peer != id {
            progress[peer] = makeProgress(for: peer)
        }
        reads = Raft.ReadState()
        uncommittedBytes = 0
        // No configuration change until everything before this term's no-op is applied: the
        // single-server change fix of the Raft dissertation's errata (one change per term start).
        pendingConfigIndex = log.lastIndex + 1
        events.append(.becameLeader(term: term))
        appendAsLeader(kind: .leaderNoop, origin: .none, payload: [])
        broadcastAppend(sendIfEmpty: true)
    }

    func makeProgress(for peer: Raft.NodeID) -> Raft.Progress {
        var fresh = Raft.Progress(
            next: log.lastIndex + 1, isLearner: configuration.isLearner(peer),
            inflightMessagesMax: settings.inflightMessagesMax, inflightBytesMax: settings.inflightBytesMax)
        fresh.recentActive = true
        return fresh
    }

    /// Clean-up when leadership ends: reads waiting for confirmation are refused (their
    /// outcome is definite: they were not served), a transfer is over.
    private mutating func leaveLeadership() {
        reads.refuseAll(reason: "leadership lost", me: id, into: &readResults, outbox: &outbox, term: term)
        if let target = transferee { events.append(.transferAborted(to: target)) }
        transferee = nil
        departure = nil
        appendsOwed = false
        commitOwed = false
        progress = [:]
    }

    // MARK: Leadership transfer (dissertation §3.10)

    /// Asks the leader to hand leadership to `target`: it stops taking proposals, brings the
    /// target's log up to date, then tells it to campaign at once. Aborted after an election
    /// timeout. Returns a refusal when this node cannot do it.
    package mutating func transferLeadership(to target: Raft.NodeID) -> Raft.ProposalRefusal? {
        guard role == .leader else { return .noLeader }
        if departure != nil { return .leaving }
        guard target != id else { return nil }
        guard configuration.voters.incoming.contains(target), progress[target] != nil else { return .notMember }
        if transferee == target { return nil }
        transferee = target
        transferElapsed = 0
        events.append(.transferStarted(to: target))
        if progress[target]?.match == log.lastIndex {
            send(.timeoutNow, to: target)
        } else {
            sendAppend(to: target, sendIfEmpty: true)
        }
        return nil
    }

    private mutating func handleTimeoutNow(from sender: Raft.NodeID) {
        guard role != .leader else { return }
        campaign(transfer: true)
    }
}
