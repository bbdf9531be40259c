extension Raft {
    /// Linearizable reads (Raft dissertation §6.4): read requests waiting for a confirmation
    /// round, heartbeat rounds and when they left (for leases), and reads a follower forwarded.
    struct ReadState {
        struct Waiting {
            var context: UInt64
            var requester: NodeID
            /// Served once a quorum acknowledged this round (0 = not yet assigned).
            var round: UInt64
            var index: Index
        }

        /// The latest heartbeat round this leader started.
        private(set) var round: UInt64 = 0
        /// Rounds and the tick they started, newest last, at most `Limits.roundsRememberedMax`.
        private var roundTicks: [(round: UInt64, tick: Int)] = []
        /// Reads waiting for a round acknowledged by a quorum, in arrival order.
        var pending: [Waiting] = []
        /// Reads that arrived before the leader committed an entry of its term.
        var waitingForCommit: [(context: UInt64, requester: NodeID)] = []
        /// A read registered since the last round: start one with the next `Ready`.
        var needsRound = false
        /// Follower side: reads forwarded to the leader, by context, with the tick they left.
        var forwarded: [UInt64: Int] = [:]

        var count: Int { pending.count + waitingForCommit.count + forwarded.count }

        mutating func startRound(tick: Int) -> UInt64 {
            round += 1
            needsRound = false
            if roundTicks.count == Limits.roundsRememberedMax { roundTicks.removeFirst() }
            roundTicks.append((round, tick))
            return round
        }

        /// The tick at which `round` started, if still remembered.
        func tick(ofRound wanted: UInt64) -> Int? {
            roundTicks.last { $0.round == wanted }?.tick
        }

        mutating func answerForwarded(_ context: UInt64, index: Index?, into results: inout [ReadResult]) {
            guard forwarded.removeValue(forKey: context) != nil else { return }
            results.append(
                ReadResult(context: context, index: index, refusal: index == nil ? "the leader refused the read" : nil))
        }

        mutating func expireForwarded(now: Int, timeoutTicks: Int, into results: inout [ReadResult]) {
            guard !forwarded.isEmpty else { return }
            let expired = forwarded.filter { now - $0.value >= timeoutTicks }.keys.sorted()
            for context in expired {
                forwarded[context] = nil
                results.append(ReadResult(context: context, index: nil, refusal: "no answer from the leader in time"))
            }
        }

        /// Refuses every read this leader holds (leadership ended).
        mutating func refuseAll(
            reason: String, me: NodeID, into results: inout [ReadResult], outbox: inout [Message], term: Term
        ) {
            let held = pending.map { ($0.context, $0.requester) } + waitingForCommit.map { ($0.context, $0.requester) }
            for (context, requester) in held {
                if requester == me {
                    results.append(ReadResult(context: context, index: nil, refusal: reason))
                } else {
                    outbox.append(
                        Message(
                            from: me, to: requester, term: term, body: .readIndexResponse(context: context, index: nil))
                    )
                }
            }
            pending.removeAll()
            waitingForCommit.removeAll()
            roundTicks.removeAll()
            round = 0
            needsRound = false
        }
    }
}

extension Raft.Node {
    /// Asks for a linearizable read. The answer comes in `Ready.reads` with the same `context`
    /// (which the caller MUST keep unique among its reads in flight): serve the read once the
    /// state machine applied the returned index. A follower forwards the request to the leader.
    package mutating func readIndex(context: UInt64) {
        guard reads.count < Raft.Limits.readsPendingMax else {
            readResults.append(Raft.ReadResult(context: context, index: nil, refusal: "too many reads pending"))
            return
        }
        if role == .leader {
            leaderRead(context: context, requester: id)
            return
        }
        guard settings.forwardToLeader, let leader else {
            readResults.append(Raft.ReadResult(context: context, index: nil, refusal: "no leader is known"))
            return
        }
        reads.forwarded[context] = tickCount
        send(.readIndexRequest(context: context), to: leader)
    }

    mutating func handleReadIndexRequest(context: UInt64, from requester: Raft.NodeID) {
        guard role == .leader, reads.count < Raft.Limits.readsPendingMax else {
            send(.readIndexResponse(context: context, index: nil), to: requester)
            return
        }
        leaderRead(context: context, requester: requester)
    }

    private mutating func leaderRead(context: UInt64, requester: Raft.NodeID) {
        // The commit index is current only once an entry of this term committed (§6.4 step 1).
        guard log.term(at: log.committed) == term else {
            reads.waitingForCommit.append((context, requester))
            return
        }
        if configuration.voters.isQuorum([id]) {
            answerRead(context: context, requester: requester, index: log.committed)
            return
        }
        // No lease while handing leadership over: the target campaigns at once, ignoring stickiness.
        if case .lease(let driftBoundTicks) = settings.readMode, transferee == nil,
            leaseHolds(driftBoundTicks: driftBoundTicks)
        {
            events.append(.leaseRead)
            answerRead(context: context, requester: requester, index: log.committed)
            return
        }
        reads.pending.append(
            .init(context: context, requester: requester, round: reads.round + 1, index: log.committed))
        reads.needsRound = true
    }

    private mutating func answerRead(context: UInt64, requester: Raft.NodeID, index: Raft.Index) {
        if requester == id {
            readResults.append(Raft.ReadResult(context: context, index: index, refusal: nil))
        } else {
            send(.readIndexResponse(context: context, index: index), to: requester)
        }
    }

    /// The newest round a weighted quorum (this leader included) acknowledged.
    private func quorumAckedRound() -> UInt64 {
        let acked = configuration.voters.committedIndex { peer in
            peer == id ? reads.round : progress[peer]?.ackedRound
        }
        return acked == Raft.Index.max ? reads.round : acked
    }

    /// Whether the lease holds: a quorum acknowledged a round that started less than
    /// `electionTimeoutTicks - driftBoundTicks` ticks ago.
    private func leaseHolds(driftBoundTicks: Int) -> Bool {
        guard let started = reads.tick(ofRound: quorumAckedRound()) else { return false }
        return tickCount - started < settings.electionTimeoutTicks - driftBoundTicks
    }

    /// Serves every pending read whose round a quorum acknowledged.
    mutating func settleReads() {
        guard role == .leader, !reads.pending.isEmpty else { return }
        let acked = quorumAckedRound()
        var kept: [Raft.ReadState.Waiting] = []
        for read in reads.pending {
            if read.round <= acked {
                answerRead(context: read.context, requester: read.requester, index: read.index)
            } else {
                kept.append(read)
            }
        }
        reads.pending = kept
    }

    /// Moves reads that waited for this term's first commit into the confirmation path.
    mutating func releaseReadsWaitingForCommit() {
        guard !reads.waitingForCommit.isEmpty, log.term(at: log.committed) == term else { return }
        let waiting = reads.waitingForCommit
        reads.waitingForCommit.removeAll()
        for read in waiting { leaderRead(context: read.context, requester: read.requester) }
    }
}
