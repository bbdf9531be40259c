extension Raft.Node {
    /// Records a snapshot of the state machine as of the applied index and compacts the log
    /// behind it, keeping `retainingEntries` entries before it for followers that are only a
    /// little behind. The caller MUST make the returned snapshot durable before it deletes the
    /// WAL records it covers.
    package mutating func compact(data: [UInt8], retainingEntries retain: Raft.Index = 0) -> Raft.Snapshot {
        let index = log.applied
        let metadata = Raft.SnapshotMetadata(
            index: index, term: log.term(at: index)!, chainHead: log.hash(at: index)!, configuration: configuration,
            merkle: merkle, dataHash: Raft.Snapshot.digest(of: data))
        snapshot = Raft.Snapshot(metadata: metadata, data: data)
        let through = index > retain ? index - retain : 0
        if through > log.snapshotIndex {
            log.compact(through: through)
            events.append(.compacted(through: through))
        }
        return snapshot
    }

    // MARK: Leader side

    /// Starts (or restarts) sending the current snapshot to `peer`.
    mutating func sendSnapshot(to peer: Raft.NodeID) {
        guard var state = progress[peer] else { return }
        if state.state != .snapshot || state.snapshotIndex != snapshot.metadata.index {
            state.becomeSnapshot(index: snapshot.metadata.index, tick: tickCount)
            progress[peer] = state
        }
        sendSnapshotChunk(to: peer)
    }

    private mutating func sendSnapshotChunk(to peer: Raft.NodeID) {
        guard var state = progress[peer], state.state == .snapshot else { return }
        if state.snapshotIndex != snapshot.metadata.index {
            state.becomeSnapshot(index: snapshot.metadata.index, tick: tickCount)
        }
        let total = snapshot.data.count
        let start = min(Int(clamping: state.snapshotOffset), total)
        let end = min(start + settings.snapshotChunkBytes, total)
        let chunk = Raft.SnapshotChunk(
            metadata: snapshot.metadata, totalBytes: UInt64(total), offset: UInt64(start),
            data: Array(snapshot.data[start..<end]))
        send(.snapshotChunk(chunk), to: peer)
        state.snapshotSentTick = tickCount
        progress[peer] = state
    }

    mutating func resendStalledSnapshotChunks() {
        for peer in configuration.members where peer != id {
            guard let state = progress[peer], state.state == .snapshot,
                tickCount - state.snapshotSentTick >= settings.snapshotChunkTimeoutTicks
            else { continue }
            sendSnapshotChunk(to: peer)
        }
    }

    mutating func handleSnapshotResponse(
        index: Raft.Index, nextOffset: UInt64, done: Bool, rejected: Bool, from peer: Raft.NodeID
    ) {
        guard role == .leader, var state = progress[peer], index <= max(log.lastIndex, snapshot.metadata.index) else {
            return
        }
        state.recentActive = true
        if done {
            _ = state.acknowledged(index)
            // A second `done` (the answer to a resent last chunk) must not reset the pipeline.
            if state.state != .replicate { state.becomeReplicate() }
            progress[peer] = state
            sendAppend(to: peer, sendIfEmpty: true)
            return
        }
        guard state.state == .snapshot, state.snapshotIndex == index else { return }
        if rejected {
            state.becomeProbe()
            progress[peer] = state
            return  // the next heartbeat response probes again, and a snapshot follows if needed
        }
        // An answer that acknowledges nothing new (the second answer to a resent chunk) sends
        // nothing: the next chunk is already on its way, and the resend timer covers its loss.
        // Answering it would start a second stream that doubles every later chunk.
        guard nextOffset != state.snapshotOffset else {
            progress[peer] = state
            return
        }
        state.snapshotOffset = nextOffset
        progress[peer] = state
        sendSnapshotChunk(to: peer)
    }

    // MARK: Follower side

    mutating func handleSnapshotChunk(_ chunk: Raft.SnapshotChunk, from sender: Raft.NodeID) {
        if role != .follower || leader != sender {
            becomeFollower(term: term, leader: sender, reason: "snapshot from the leader")
        }
        resetElectionTimeout()
        let metadata = chunk.metadata
        func answer(nextOffset: UInt64, done: Bool = false, rejected: Bool = false, index: Raft.Index? = nil) {
            send(
                .snapshotResponse(
                    index: index ?? metadata.index, nextOffset: nextOffset, done: done, rejected: rejected),
                to: sender)
        }
        if metadata.index <= log.committed {
            incomingSnapshot = nil
            answer(nextOffset: 0, done: true, index: log.committed)
            return
        }
        // Raft §7: a log that already holds the snapshot's last entry keeps the entries after it.
        // Installing would drop entries this node may already have acknowledged, so the leader
        // would count them (commit) and never resend them (its match stays above our log).
        if log.term(at: metadata.index) == metadata.term, log.hash(at: metadata.index) == metadata.chainHead {
            incomingSnapshot = nil
            answer(nextOffset: 0, done: true, index: metadata.index)
            return
        }
        guard chunk.totalBytes <= UInt64(settings.snapshotBytesMax) else {
            events.append(.snapshotRefused(reason: "\(chunk.totalBytes) bytes exceed snapshotBytesMax"))
            answer(nextOffset: 0, rejected: true)
            return
        }
        if chunk.offset == 0 { incomingSnapshot = (metadata, chunk.totalBytes, []) }
        guard var incoming = incomingSnapshot, incoming.metadata == metadata, incoming.totalBytes == chunk.totalBytes,
            UInt64(incoming.data.count) == chunk.offset, chunk.offset + UInt64(chunk.data.count) <= chunk.totalBytes
        else {
            let resume = incomingSnapshot.map { $0.metadata == metadata ? UInt64($0.data.count) : 0 } ?? 0
            answer(nextOffset: resume)
            return
        }
        incoming.data.append(contentsOf: chunk.data)
        guard chunk.isLast else {
            incomingSnapshot = incoming
            answer(nextOffset: UInt64(incoming.data.count))
            return
        }
        incomingSnapshot = nil
        guard Raft.Snapshot.digest(of: incoming.data) == metadata.dataHash else {
            events.append(.snapshotRefused(reason: "data does not match the snapshot's BLAKE2b digest"))
            answer(nextOffset: 0, rejected: true)
            return
        }
        install(Raft.Snapshot(metadata: metadata, data: incoming.data))
        answer(nextOffset: chunk.totalBytes, done: true)
    }

    private mutating func install(_ installed: Raft.Snapshot) {
        let metadata = installed.metadata
        proposals.lostTrack(through: metadata.index, into: &outcomes)
        log.restore(metadata)
        configuration = metadata.configuration
        merkle = metadata.merkle
        snapshot = installed
        writes.pendingEntries.removeAll()
        writes.pendingSnapshot = installed
        snapshotToApply = installed
        events.append(.snapshotInstalled(index: metadata.index))
    }
}
