extension Raft {
    /// The leader's view of one follower (etcd-io/raft's `Progress`).
    ///
    /// - `probe`: the leader does not know where the follower's log matches; it sends one append
    ///   at a time and backs off on rejection.
    /// - `replicate`: the follower matched; appends are pipelined up to the in-flight limits.
    /// - `snapshot`: the follower needs entries the leader compacted away; the leader sends
    ///   snapshot chunks and nothing else until the follower installs it.
    ///
    /// Deviation from etcd-io/raft: any successful acknowledgement moves a follower out of
    /// `probe`, and out of `snapshot` once its match reaches the leader's log, so a follower that
    /// caught up by other means is not left waiting for a snapshot it no longer needs.
    struct Progress {
        enum State: String { case probe, replicate, snapshot }

        var match: Index = 0
        var next: Index
        var state = State.probe
        /// In `probe`: an append is outstanding; wait for its answer or a heartbeat response.
        var probeSent = false
        var inflights: Inflights
        /// Heard from since the last check-quorum round.
        var recentActive = false
        /// The highest confirmation round the follower acknowledged.
        var ackedRound: UInt64 = 0
        var isLearner: Bool
        /// In `snapshot`: the snapshot being sent, the offset acknowledged, and the tick the last
        /// chunk left.
        var snapshotIndex: Index = 0
        var snapshotOffset: UInt64 = 0
        var snapshotSentTick = 0

        init(next: Index, isLearner: Bool, inflightMessagesMax: Int, inflightBytesMax: Int) {
            self.next = next
            self.isLearner = isLearner
            inflights = Inflights(messagesMax: inflightMessagesMax, bytesMax: inflightBytesMax)
        }

        /// Whether the leader should hold back appends to this follower.
        var isPaused: Bool {
            switch state {
            case .probe: return probeSent
            case .replicate: return inflights.isFull
            case .snapshot: return true
            }
        }

        mutating func becomeProbe() {
            if state == .snapshot {
                next = max(match + 1, snapshotIndex + 1)
            } else {
                next = match + 1
            }
            state = .probe
            probeSent = false
            inflights.reset()
            snapshotIndex = 0
        }

        mutating func becomeReplicate() {
            state = .replicate
            next = match + 1
            probeSent = false
            inflights.reset()
        }

        mutating func becomeSnapshot(index: Index, tick: Int) {
            state = .snapshot
            snapshotIndex = index
            snapshotOffset = 0
            snapshotSentTick = tick
            probeSent = false
            inflights.reset()
        }

        /// Records that entries up to `lastIndex` were sent (pipelining in `replicate`).
        mutating func sent(lastIndex: Index, bytes: Int) {
            switch state {
            case .replicate:
                next = lastIndex + 1
                inflights.add(lastIndex: lastIndex, bytes: bytes)
            case .probe: probeSent = true
            case .snapshot: break
            }
        }

        /// A successful acknowledgement of `index`. Returns whether the match advanced.
        mutating func acknowledged(_ index: Index) -> Bool {
            var advanced = false
            if index > match {
                match = index
                advanced = true
            }
            next = max(next, index + 1)
            probeSent = false
            inflights.free(through: index)
            return advanced
        }

        /// A rejection of an append at `rejected`; `matchHint` is the leader's guess of where the
        /// logs agree. Returns false for a stale rejection (etcd-io/raft's MaybeDecrTo).
        mutating func rejected(_ rejected: Index, matchHint: Index) -> Bool {
            if state == .replicate {
                guard rejected > match else { return false }
                becomeProbe()
                return true
            }
            guard next > 0, next - 1 == rejected else { return false }
            next = max(min(rejected, matchHint + 1), match + 1)
            probeSent = false
            return true
        }
    }

    /// The append messages in flight to one follower: a bounded ring of (last index, bytes).
    struct Inflights {
        let messagesMax: Int
        let bytesMax: Int
        private var lastIndexes: [Index] = []
        private var sizes: [Int] = []
        private var head = 0
        private(set) var count = 0
        private(set) var bytes = 0

        init(messagesMax: Int, bytesMax: Int) {
            self.messagesMax = messagesMax
            self.bytesMax = bytesMax
        }

        var isFull: Bool { count >= messagesMax || bytes >= bytesMax }

        mutating func add(lastIndex: Index, bytes size: Int) {
            precondition(count < messagesMax, "in-flight window overflow (\(count) of \(messagesMax))")
            if lastIndexes.count < messagesMax {
                lastIndexes.append(lastIndex)
                sizes.append(size)
            } else {
                let slot = (head + count) % messagesMax
                lastIndexes[slot] = lastIndex
                sizes[slot] = size
            }
            count += 1
            bytes += size
        }

        /// Frees every message whose last index is ≤ `index`.
        mutating func free(through index: Index) {
            while count > 0 {
                let slot = head % max(lastIndexes.count, 1)
                guard lastIndexes[slot] <= index else { break }
                bytes -= sizes[slot]
                head = (head + 1) % messagesMax
                count -= 1
            }
            if count == 0 { reset() }
        }

        /// Frees the oldest message in flight (its acknowledgement is presumed lost).
        mutating func freeFirst() {
            guard count > 0 else { return }
            let slot = head % max(lastIndexes.count, 1)
            bytes -= sizes[slot]
            head = (head + 1) % messagesMax
            count -= 1
            if count == 0 { reset() }
        }

        mutating func reset() {
            lastIndexes.removeAll(keepingCapacity: true)
            sizes.removeAll(keepingCapacity: true)
            head = 0
            count = 0
            bytes = 0
        }
    }
}
