extension Raft {
    /// Writes handed to the caller and not yet reported durable, the messages waiting on them,
    /// and what the next write will carry.
    struct WriteTracker {
        struct InFlight {
            var token: UInt64
            var lastIndex: Index
            var lastTerm: Term
            var startedTick: Int
        }

        var nextToken: UInt64 = 1
        private(set) var inFlight: [InFlight] = []
        private var inFlightHead = 0
        /// Messages that state durable facts, each released once its token is durable.
        private(set) var withheld: [(token: UInt64, message: Message)] = []
        private var withheldHead = 0
        /// The hard state as of the last write.
        var lastHardState = HardState()
        var pendingEntries: [Entry] = []
        var pendingSnapshot: Snapshot?
        /// Withheld messages dropped because `Limits.withheldMessagesMax` was reached.
        private(set) var withheldDropped = 0

        var inFlightCount: Int { inFlight.count - inFlightHead }
        var latestToken: UInt64? { inFlightCount > 0 ? inFlight[inFlight.count - 1].token : nil }

        /// Ticks since the oldest unfinished write started, nil when none is unfinished.
        func oldestInFlightAge(now: Int) -> Int? {
            inFlightCount > 0 ? now - inFlight[inFlightHead].startedTick : nil
        }

        /// Queues entries that replace the log from their first index on.
        mutating func queue(_ entries: [Entry]) {
            guard let first = entries.first else { return }
            if let last = pendingEntries.last, last.index >= first.index {
                pendingEntries.removeAll { $0.index >= first.index }
            }
            pendingEntries.append(contentsOf: entries)
        }

        mutating func started(_ write: InFlight) { inFlight.append(write) }

        mutating func withhold(_ message: Message, until token: UInt64) {
            guard withheld.count - withheldHead < Limits.withheldMessagesMax else {
                withheldDropped += 1
                return
            }
            withheld.append((token, message))
        }

        /// Completes every write up to `token`; returns them and the messages they release.
        mutating func complete(through token: UInt64) -> (done: [InFlight], released: [Message]) {
            var done: [InFlight] = []
            while inFlightHead < inFlight.count, inFlight[inFlightHead].token <= token {
                done.append(inFlight[inFlightHead])
                inFlightHead += 1
            }
            if inFlightHead == inFlight.count {
                inFlight.removeAll(keepingCapacity: true)
                inFlightHead = 0
            }
            var released: [Message] = []
            while withheldHead < withheld.count, withheld[withheldHead].token <= token {
                released.append(withheld[withheldHead].message)
                withheldHead += 1
            }
            if withheldHead == withheld.count {
                withheld.removeAll(keepingCapacity: true)
                withheldHead = 0
            }
            return (done, released)
        }
    }
}

extension Raft.Node {
    /// Collects what the caller must do now (see `Raft.Ready` for the order). Call it after every
    /// batch of inputs; call it again while it returns a non-empty `Ready` (applying is bounded
    /// per call by `Raft.Limits.applyBatchEntriesMax`).
    package mutating func takeReady() -> Raft.Ready {
        flushForwardedProposals()
        var ready = Raft.Ready(role: role, leader: leader, term: term)
        ready.committedEntries = applyCommitted()
        flushAppends()
        ready.snapshotToApply = snapshotToApply
        snapshotToApply = nil
        ready.write = startWrite()
        for message in outbox {
            if message.needsDurableState, let token = writes.latestToken {
                writes.withhold(message, until: token)
            } else {
                ready.messages.append(message)
            }
        }
        ready.messages.append(contentsOf: releasedMessages)
        releasedMessages.removeAll(keepingCapacity: true)
        outbox.removeAll(keepingCapacity: true)
        ready.reads = readResults
        readResults.removeAll()
        ready.outcomes = outcomes
        outcomes.removeAll()
        ready.events = events
        events.removeAll()
        ready.role = role
        ready.leader = leader
        ready.term = term
        return ready
    }

    /// Whether `takeReady()` would return something.
    package var hasReady: Bool {
        !outbox.isEmpty || !releasedMessages.isEmpty || !readResults.isEmpty || !outcomes.isEmpty
            || !events.isEmpty || snapshotToApply != nil || !writes.pendingEntries.isEmpty
            || writes.pendingSnapshot != nil || !forwardBuffer.isEmpty || (role == .leader && reads.needsRound)
            || (role == .leader && (appendsOwed || commitOwed))
            || term != writes.lastHardState.term || vote != writes.lastHardState.vote
            || min(log.committed, log.persisted) > log.applied
    }

    /// The write for this `Ready`: the hard state when term or vote changed (the commit index
    /// rides along with any write, never forcing one), then a snapshot, then entries.
    private mutating func startWrite() -> Raft.StorageWrite? {
        let hardState = Raft.HardState(term: term, vote: vote, commit: log.committed)
        let mustWriteHardState =
            hardState.term != writes.lastHardState.term || hardState.vote != writes.lastHardState.vote
            || commitPassedConfigChange(since: writes.lastHardState.commit)
        guard mustWriteHardState || !writes.pendingEntries.isEmpty || writes.pendingSnapshot != nil else { return nil }
        let token = writes.nextToken
        writes.nextToken += 1
        let write = Raft.StorageWrite(
            token: token, hardState: hardState, snapshot: writes.pendingSnapshot, entries: writes.pendingEntries)
        writes.lastHardState = hardState
        writes.pendingEntries.removeAll(keepingCapacity: true)
        writes.pendingSnapshot = nil
        writes.started(.init(token: token, lastIndex: log.lastIndex, lastTerm: log.lastTerm, startedTick: tickCount))
        return write
    }

    /// Whether the commit index moved past a configuration change since `previous`. Such a
    /// commit index is written at once instead of riding on the next write: a voter that
    /// restarted without it would hold the configuration before the change again, and a removed
    /// leader that saw it acknowledged may be gone (its commit notice with it).
    private func commitPassedConfigChange(since previous: Raft.Index) -> Bool {
        guard log.committed > previous else { return false }
        return log.slice(from: max(previous + 1, log.firstIndex), through: log.committed).contains {
            $0.kind == .configChange
        }
    }

    /// Reports that the write with `token` (and every earlier one) is durable.
    package mutating func persisted(token: UInt64) {
        let (done, released) = writes.complete(through: token)
        for write in done where log.term(at: write.lastIndex) == write.lastTerm {
            log.persisted = max(log.persisted, min(write.lastIndex, log.lastIndex))
        }
        releasedMessages.append(contentsOf: released)
        if role == .leader { maybeCommit() }
    }

    /// Hands out committed, locally durable entries (bounded per call), advancing the Merkle
    /// frontier, applying configuration changes and settling proposals as it goes.
    private mutating func applyCommitted() -> [Raft.Entry] {
        let through = min(log.committed, log.persisted, log.applied + Raft.Limits.applyBatchEntriesMax)
        guard through > log.applied else { return [] }
        let entries = Array(log.slice(from: log.applied + 1, through: through))
        for entry in entries {
            merkle.append(entry.hash)
            proposals.settleCommitted(entry, me: id, into: &outcomes)
            log.applied = entry.index
            if entry.kind == .configChange { applyConfigChange(entry) }
        }
        leaveJointIfDue()
        return entries
    }
}
