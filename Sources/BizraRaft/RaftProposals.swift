extension Raft {
    /// Proposals whose outcome this node still owes its caller.
    ///
    /// A proposal this node appended as leader is tracked by index: when that index is handed out
    /// committed, the proposal ends `committed` if the entry is ours and `dropped` otherwise
    /// (another entry holds the index for good). A proposal forwarded to a leader is tracked by
    /// id: it ends `committed` when an entry with our origin commits, `dropped` when the leader
    /// refuses it. Either ends `unknown` after `proposalTimeoutTicks`, or when a snapshot replaces
    /// its index before we saw it.
    struct ProposalTracker {
        private(set) var byIndex: [Index: (id: ProposalID, tick: Int)] = [:]
        private(set) var forwarded: [ProposalID: Int] = [:]
        /// Tracked proposals in the order they started, for expiry; settled ones are skipped.
        private var order: [(key: Key, tick: Int)] = []
        private var orderHead = 0

        enum Key: Hashable {
            case index(Index)
            case forwarded(ProposalID)
        }

        var count: Int { byIndex.count + forwarded.count }
        /// Entries of `order` not yet passed by expiry (settled ones included).
        var orderLength: Int { order.count - orderHead }

        mutating func track(index: Index, id: ProposalID, tick: Int) {
            byIndex[index] = (id, tick)
            order.append((.index(index), tick))
            compactOrderIfLarge()
        }

        mutating func trackForwarded(_ id: ProposalID, tick: Int) {
            forwarded[id] = tick
            order.append((.forwarded(id), tick))
            compactOrderIfLarge()
        }

        /// `order` keeps settled proposals until they would have expired; under a high proposal
        /// rate that is many. Past twice `proposalsPendingMax` (at most that many are unsettled)
        /// the settled ones are dropped, so it stays bounded at an amortised O(1) per proposal.
        private mutating func compactOrderIfLarge() {
            guard order.count - orderHead > 2 * Limits.proposalsPendingMax else { return }
            order = order[orderHead...].filter { key, tick in
                switch key {
                case .index(let index): return byIndex[index]?.tick == tick
                case .forwarded(let id): return forwarded[id] == tick
                }
            }
            orderHead = 0
        }

        mutating func settleCommitted(_ entry: Entry, me: NodeID, into outcomes: inout [ProposalOutcome]) {
            if let pending = byIndex.removeValue(forKey: entry.index) {
                if pending.id == entry.origin {
                    outcomes.append(ProposalOutcome(id: pending.id, result: .committed(index: entry.index)))
                    return
                }
                outcomes.append(
                    ProposalOutcome(
                        id: pending.id, result: .dropped(reason: "index \(entry.index) committed another entry")))
            }
            if entry.origin.node == me, forwarded.removeValue(forKey: entry.origin) != nil {
                outcomes.append(ProposalOutcome(id: entry.origin, result: .committed(index: entry.index)))
            }
        }

        mutating func settleDropped(_ ids: [ProposalID], into outcomes: inout [ProposalOutcome]) {
            for id in ids where forwarded.removeValue(forKey: id) != nil {
                outcomes.append(ProposalOutcome(id: id, result: .dropped(reason: "the leader refused it")))
            }
        }

        /// A snapshot replaced the log through `index`: proposals at or below it are untraceable.
        mutating func lostTrack(through index: Index, into outcomes: inout [ProposalOutcome]) {
            let lost = byIndex.keys.filter { $0 <= index }.sorted()
            for key in lost {
                let pending = byIndex.removeValue(forKey: key)!
                outcomes.append(
                    ProposalOutcome(id: pending.id, result: .unknown(reason: "a snapshot replaced index \(key)")))
            }
        }

        mutating func expire(now: Int, timeoutTicks: Int, into outcomes: inout [ProposalOutcome]) {
            while orderHead < order.count, now - order[orderHead].tick >= timeoutTicks {
                let (key, tick) = order[orderHead]
                orderHead += 1
                switch key {
                case .index(let index):
                    if let pending = byIndex[index], pending.tick == tick {
                        byIndex[index] = nil
                        outcomes.append(ProposalOutcome(id: pending.id, result: .unknown(reason: "timed out")))
                    }
                case .forwarded(let id):
                    if forwarded[id] == tick {
                        forwarded[id] = nil
                        outcomes.append(ProposalOutcome(id: id, result: .unknown(reason: "timed out")))
                    }
                }
            }
            if orderHead > 1_024, orderHead * 2 > order.count {
                order.removeFirst(orderHead)
                orderHead = 0
            }
        }
    }
}

extension Raft.Node {
    /// Proposes an application command. On the leader it is appended at once; on a follower it
    /// is forwarded (with the next `Ready`). Its end comes later in `Ready.outcomes`, keyed by
    /// `id`, which the caller MUST keep unique (node = this node's id, sequence increasing).
    package mutating func propose(
        _ payload: [UInt8], id proposal: Raft.ProposalID
    ) -> Result<Raft.ProposalAcceptance, Raft.ProposalRefusal> {
        propose(kind: .normal, payload: payload, id: proposal)
    }

    /// Proposes a membership or weight change (see `Raft.ConfigChange` for one-step vs joint).
    package mutating func proposeConfigChange(
        _ change: Raft.ConfigChange, id proposal: Raft.ProposalID
    ) -> Result<Raft.ProposalAcceptance, Raft.ProposalRefusal> {
        propose(kind: .configChange, payload: change.encoded, id: proposal)
    }

    private mutating func propose(
        kind: Raft.EntryKind, payload: [UInt8], id proposal: Raft.ProposalID
    ) -> Result<Raft.ProposalAcceptance, Raft.ProposalRefusal> {
        guard proposals.count < Raft.Limits.proposalsPendingMax else { return .failure(.tooManyPending) }
        if role == .leader {
            if let refusal = leaderRefusal(kind: kind, payload: payload) { return .failure(refusal) }
            let index = appendAsLeader(kind: kind, origin: proposal, payload: payload)
            if kind == .configChange { pendingConfigIndex = index }
            proposals.track(index: index, id: proposal, tick: tickCount)
            appendsOwed = true
            return .success(.appended(index: index, term: term))
        }
        guard settings.forwardToLeader, let leader else { return .failure(.noLeader) }
        forwardBuffer.append(Raft.ForwardedProposal(id: proposal, kind: kind, payload: payload))
        proposals.trackForwarded(proposal, tick: tickCount)
        return .success(.forwarded(to: leader))
    }

    /// Why the leader cannot take this proposal now, or nil.
    private func leaderRefusal(kind: Raft.EntryKind, payload: [UInt8]) -> Raft.ProposalRefusal? {
        if transferee != nil { return .transferInProgress }
        if departure != nil { return .leaving }
        let bytes = payload.count + Raft.Entry.headerBytes
        if uncommittedBytes > 0, uncommittedBytes + bytes > settings.uncommittedBytesMax {
            return .uncommittedLimit(bytes: uncommittedBytes)
        }
        guard kind == .configChange else { return nil }
        if pendingConfigIndex > log.applied {
            return .configChange(.changeInFlight(pendingIndex: pendingConfigIndex))
        }
        guard let change = Raft.ConfigChange(decoding: payload) else { return .configChange(.malformed) }
        do {
            _ = try configuration.applying(change)
        } catch {
            return .configChange(error)
        }
        return nil
    }

    mutating func handleForwardedProposals(_ list: [Raft.ForwardedProposal], from sender: Raft.NodeID) {
        guard role == .leader else {
            send(.proposalsDropped(list.map(\.id)), to: sender)
            return
        }
        var dropped: [Raft.ProposalID] = []
        for proposal in list {
            if leaderRefusal(kind: proposal.kind, payload: proposal.payload) != nil {
                dropped.append(proposal.id)
                continue
            }
            let index = appendAsLeader(kind: proposal.kind, origin: proposal.id, payload: proposal.payload)
            if proposal.kind == .configChange { pendingConfigIndex = index }
        }
        if !dropped.isEmpty { send(.proposalsDropped(dropped), to: sender) }
        if dropped.count < list.count { appendsOwed = true }
    }

    /// Sends proposals buffered since the last `Ready` to the leader in one message, and starts
    /// a confirmation round for reads registered since then.
    mutating func flushForwardedProposals() {
        if role == .leader, reads.needsRound {
            heartbeatElapsed = 0
            broadcastHeartbeat()
        }
        guard !forwardBuffer.isEmpty else { return }
        let buffered = forwardBuffer
        forwardBuffer.removeAll()
        if role == .leader {
            handleForwardedProposalsLocally(buffered)
        } else if let leader {
            send(.forwardedProposals(buffered), to: leader)
        } else {
            proposals.settleDropped(buffered.map(\.id), into: &outcomes)
        }
    }

    /// Proposals buffered as a follower when this node became leader before sending them.
    private mutating func handleForwardedProposalsLocally(_ list: [Raft.ForwardedProposal]) {
        for proposal in list {
            if leaderRefusal(kind: proposal.kind, payload: proposal.payload) != nil {
                proposals.settleDropped([proposal.id], into: &outcomes)
                continue
            }
            let index = appendAsLeader(kind: proposal.kind, origin: proposal.id, payload: proposal.payload)
            if proposal.kind == .configChange { pendingConfigIndex = index }
        }
        appendsOwed = true
    }
}
