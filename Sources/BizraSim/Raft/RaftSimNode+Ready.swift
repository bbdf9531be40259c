import BizraRaft

/// Carrying out `Raft.Ready` in the order its documentation prescribes: write, messages,
/// snapshot, committed entries, reads, outcomes; then coverage from the events.
extension RaftSimNode {
    /// `Ready`s one input may produce before the node yields (each applies a bounded batch).
    static let readyRoundsMax = 64

    mutating func drive(_ context: inout Context) {
        var rounds = 0
        while raft.hasReady && rounds < Self.readyRoundsMax {
            carryOut(raft.takeReady(), &context)
            rounds += 1
        }
        maybeCompact(&context)
        observe()
    }

    private mutating func carryOut(_ ready: Raft.Ready, _ context: inout Context) {
        if let write = ready.write {
            context.persist(.write(write), token: write.token << 2)
            if config.bug == .applyBeforeCommit {
                for entry in write.entries where entry.index == appliedIndex + 1 { apply(entry, &context) }
            }
            if config.bug == .persistedBeforeDurable { raft.persisted(token: write.token) }
        }
        for message in ready.messages {
            guard let to = RaftSim.simNode(message.to, clusterSize: clusterSize) else { continue }
            sentSequences[to] += 1
            context.send(
                RaftSim.Envelope(message: message, incarnation: incarnation, sequence: sentSequences[to]), to: to)
        }
        if let snapshot = ready.snapshotToApply { restore(snapshot, &context) }
        for entry in ready.committedEntries {
            if config.bug == .applyBeforeCommit && entry.index <= appliedIndex { continue }
            apply(entry, &context)
        }
        for read in ready.reads { confirm(read, &context) }
        if !readsConfirmed.isEmpty { serveReads(&context) }
        for outcome in ready.outcomes where outcome.id.node == raftID { settle(outcome, &context) }
        for event in ready.events { cover(event, ready, &context) }
    }

    // MARK: State machine

    private mutating func restore(_ snapshot: Raft.Snapshot, _ context: inout Context) {
        guard let restored = RaftSim.StateMachine(decoding: snapshot.data, keyCount: config.keyCount) else {
            violation = violation ?? "node \(id): snapshot at \(snapshot.metadata.index) does not decode"
            return
        }
        machine = restored
        appliedIndex = snapshot.metadata.index
        restoredLately = (snapshot.metadata.index, snapshot.metadata.chainHead, machine.digest)
        context.sometimes("raft.snapshotRestored")
    }

    private mutating func apply(_ entry: Raft.Entry, _ context: inout Context) {
        guard entry.index == appliedIndex + 1 else {
            violation = violation ?? "node \(id) applied index \(entry.index) after \(appliedIndex)"
            return
        }
        var result = Response.written
        if entry.kind == .normal {
            if let command = RaftSim.Command(decoding: entry.payload) {
                result = machine.apply(command, origin: entry.origin)
            } else {
                violation = violation ?? "node \(id): entry \(entry.index) holds no command"
            }
        }
        appliedIndex = entry.index
        appliedSinceCompaction += 1
        // A configuration change can change the quorum, and with it the leader's commit index.
        if entry.kind == .configChange { commitMayHaveChanged = true }
        appliedLately.append((entry.index, entry.hash, machine.digest))
        // The first copy to apply decides the answer (a later copy is a refused no-op).
        if entry.origin.node == raftID, pending[entry.origin.sequence]?.result == nil,
            pending[entry.origin.sequence] != nil
        {
            pending[entry.origin.sequence]!.result = result
        }
    }

    /// Takes a snapshot every `compactEveryEntries` applied entries and writes it.
    private mutating func maybeCompact(_ context: inout Context) {
        guard config.compactEveryEntries > 0, appliedSinceCompaction >= config.compactEveryEntries,
            appliedIndex > 0, config.bug != .applyBeforeCommit
        else { return }
        appliedSinceCompaction = 0
        let snapshot = raft.compact(data: machine.encoded, retainingEntries: config.retainEntries)
        compactions += 1
        context.persist(.compaction(snapshot), token: compactions << 2 | 1)
        context.sometimes("raft.compacted")
    }

    // MARK: Answers

    private mutating func confirm(_ read: Raft.ReadResult, _ context: inout Context) {
        guard let waiting = readsUnconfirmed.removeValue(forKey: read.context) else { return }
        guard let index = read.index else {
            return context.reply(.refused(read.refusal ?? "read refused"), to: waiting.request)
        }
        readsConfirmed.append((index, waiting.request, waiting.key))
    }

    private mutating func serveReads(_ context: inout Context) {
        var kept: [(index: Raft.Index, request: RequestID, key: Int)] = []
        for read in readsConfirmed {
            if read.index <= appliedIndex {
                context.reply(.value(values[read.key]), to: read.request)
            } else {
                kept.append(read)
            }
        }
        readsConfirmed = kept
    }

    private mutating func settle(_ outcome: Raft.ProposalOutcome, _ context: inout Context) {
        guard let proposal = pending.removeValue(forKey: outcome.id.sequence) else { return }
        switch outcome.result {
        case .committed(let index):
            guard let result = proposal.result else {
                violation = violation ?? "node \(id): proposal \(outcome.id) committed at \(index) but did not apply"
                return
            }
            if !proposal.answered { context.reply(result, to: proposal.request) }
        case .dropped(let reason):
            if !proposal.answered { context.reply(.refused(reason), to: proposal.request) }
            context.sometimes("raft.proposalDropped")
        case .unknown(let reason):
            if !proposal.answered { context.reply(.unknown(reason), to: proposal.request) }
            context.sometimes("raft.proposalUnknown")
        }
    }

    // MARK: Coverage

    private mutating func cover(_ event: Raft.Event, _ ready: Raft.Ready, _ context: inout Context) {
        switch event {
        case .becameLeader:
            context.sometimes("raft.leaderElected")
            if heardTimeoutNow { context.sometimes("raft.transferCompleted") }
            heardTimeoutNow = false
        case .steppedDown: context.sometimes("raft.leaderSteppedDown")
        case .departureStarted: context.sometimes("raft.removedLeaderHandsOver")
        case .commitLearned: context.sometimes("raft.commitLearnedFromRemovedMember")
        case .campaignStarted(_, let preVote):
            // A transfer campaign skips the pre-vote; an ordinary one means the transfer is over.
            if preVote { heardTimeoutNow = false }
        case .configurationApplied(let configuration, _):
            if configuration.isJoint { context.sometimes("raft.jointEntered") }
            if wasJoint && !configuration.isJoint { context.sometimes("raft.jointLeft") }
            if !configuration.voters.incoming.hasEqualWeights { context.sometimes("raft.unequalWeights") }
            wasJoint = configuration.isJoint
        case .configurationRefused: context.sometimes("raft.configurationRefused")
        case .snapshotInstalled: context.sometimes("raft.snapshotInstalled")
        case .snapshotRefused: context.sometimes("raft.snapshotRefused")
        case .chainBroken(let index):
            violation = violation ?? "node \(id): the core reported a broken hash chain at \(index)"
        case .transferStarted: context.sometimes("raft.transferStarted")
        case .transferAborted: context.sometimes("raft.transferAborted")
        case .leaseRead: context.sometimes("raft.leaseRead")
        case .compacted: break
        }
    }
}
