extension Raft {
    /// The outcome of an election so far (etcd-io/raft `quorum.VoteResult`).
    package enum VoteResult: Equatable, Sendable {
        /// Neither outcome is decided: the missing votes could still go either way.
        case pending
        /// Even if every missing vote were a yes, the candidate could not reach a quorum.
        case lost
        /// The yes votes already form a quorum.
        case won
    }

    /// One configuration's voters, each with a positive integer weight (its Ihsan weight). A
    /// quorum is any set of voters whose weights sum to MORE than half of the total weight.
    ///
    /// With equal weights this is exactly Raft's majority (Raft §5.2), so every rule of the paper
    /// carries over. Unequal weights keep the property Raft's safety rests on — any two quorums
    /// of one configuration share a voter, because two disjoint sets cannot each hold more than
    /// half — but NOT the single-server membership-change argument (dissertation §4.1): adding,
    /// removing or re-weighting one voter can produce a configuration with a quorum disjoint from
    /// one of the old configuration. So weight changes, and membership changes with unequal
    /// weights, MUST go through joint consensus (`JointConfig`). `QuorumOracleTests` shows both.
    ///
    /// Deviation from etcd-io/raft: etcd counts voters; this counts weight. Otherwise the
    /// semantics match its `quorum.MajorityConfig`, including the conventions for an empty
    /// configuration (it commits everything and wins every vote), which let a `JointConfig`
    /// that is not joint behave as its incoming half.
    ///
    /// Voters are stored sorted by id, so equality, hashing and `ids` never depend on the order
    /// a dictionary happened to iterate in.
    package struct MajorityConfig: Equatable, Hashable, Sendable, CustomStringConvertible {
        /// Voters per configuration. A bound on the per-acknowledgement work of `committedIndex`
        /// (an insertion sort, quadratic) and what lets `isQuorum` track voters in one 64-bit mask.
        package static let votersMax = 64
        /// Total weight per configuration. Any sum of weights, doubled, then fits in a UInt64 with
        /// room to spare, so the quorum arithmetic cannot overflow; 2^32 is far more resolution
        /// than a reputation score needs.
        package static let weightTotalMax: UInt64 = 1 << 32

        private struct Voter: Equatable, Hashable, Sendable {
            var id: NodeID
            var weight: UInt64
        }

        /// One voter's acknowledged index with its weight, for `committedIndex`.
        private struct Ack {
            var index: Index
            var weight: UInt64
        }

        /// Sorted by `id`, ids unique, every weight positive.
        private var voters: [Voter]
        package private(set) var totalWeight: UInt64

        /// The configuration with these voters and weights. Every weight MUST be positive, there
        /// MUST be at most `votersMax` voters and the weights MUST sum to at most `weightTotalMax`.
        package init(_ weights: [NodeID: UInt64]) {
            precondition(
                weights.count <= Self.votersMax,
                "a configuration has at most \(Self.votersMax) voters, got \(weights.count)")
            var total: UInt64 = 0
            for (id, weight) in weights {
                precondition(weight > 0, "voter \(id) has weight 0; every voter's weight must be positive")
                precondition(
                    weight <= Self.weightTotalMax,
                    "voter \(id) has weight \(weight), more than the \(Self.weightTotalMax) allowed in total")
                total += weight  // at most 64 terms of at most 2^32: cannot overflow
            }
            precondition(
                total <= Self.weightTotalMax,
                "the weights sum to \(total), more than weightTotalMax \(Self.weightTotalMax)")
            voters = weights.map { Voter(id: $0.key, weight: $0.value) }.sorted { $0.id < $1.id }
            totalWeight = total
        }

        /// Plain Raft: every voter in `ids` with weight 1 (duplicates count once).
        package init(equalWeights ids: some Sequence<NodeID>) {
            self.init(Dictionary(ids.map { ($0, UInt64(1)) }, uniquingKeysWith: { first, _ in first }))
        }

        /// The empty configuration: no voters (the outgoing half of a configuration that is not joint).
        package init() {
            voters = []
            totalWeight = 0
        }

        /// The voters' ids, ascending.
        package var ids: [NodeID] { voters.map(\.id) }
        package var isEmpty: Bool { voters.isEmpty }
        package var count: Int { voters.count }

        /// True when every voter has the same weight: then quorums are plain majorities and
        /// single-server membership changes are safe.
        package var hasEqualWeights: Bool {
            guard let first = voters.first else { return true }
            return voters.allSatisfy { $0.weight == first.weight }
        }

        package func weight(of id: NodeID) -> UInt64? {
            position(of: id).map { voters[$0].weight }
        }

        package func contains(_ id: NodeID) -> Bool {
            position(of: id) != nil
        }

        /// True when the distinct voters among `members` hold more than half of the total weight;
        /// ids that are not voters here count nothing. By convention every set, even the empty
        /// one, is a quorum of the empty configuration.
        package func isQuorum(_ members: some Sequence<NodeID>) -> Bool {
            guard !voters.isEmpty else { return true }
            var present: UInt64 = 0  // bit i: voters[i] is among `members` (votersMax is 64)
            for member in members {
                if let position = position(of: member) { present |= 1 << UInt64(position) }
            }
            var weight: UInt64 = 0
            for (position, voter) in voters.enumerated() where present & (1 << UInt64(position)) != 0 {
                weight += voter.weight
            }
            return exceedsHalf(weight)
        }

        /// The largest index that voters holding more than half of the total weight have
        /// acknowledged: the commit index this configuration allows. `acked(id)` is the highest
        /// index `id` is known to have persisted, nil for none (counted as 0). The empty
        /// configuration returns `Index.max`, so that a joint configuration's minimum ignores an
        /// empty half (as etcd-io/raft does).
        ///
        /// Called on every append acknowledgement, so it allocates nothing: the (index, weight)
        /// pairs are sorted on the stack, highest index first, and weight is accumulated until it
        /// passes half. Insertion sort, because clusters are small and it needs no scratch space.
        package func committedIndex(_ acked: (NodeID) -> Index?) -> Index {
            guard !voters.isEmpty else { return Index.max }
            return withUnsafeTemporaryAllocation(of: Ack.self, capacity: voters.count) { acks in
                // `Ack` is trivial, so the buffer needs no deinitialisation before it is released.
                for (position, voter) in voters.enumerated() {
                    acks.initializeElement(at: position, to: Ack(index: acked(voter.id) ?? 0, weight: voter.weight))
                }
                for next in acks.indices.dropFirst() {
                    let ack = acks[next]
                    var slot = next
                    while slot > 0 && acks[slot - 1].index < ack.index {
                        acks[slot] = acks[slot - 1]
                        slot -= 1
                    }
                    acks[slot] = ack
                }
                var weight: UInt64 = 0
                for ack in acks {
                    weight += ack.weight
                    if exceedsHalf(weight) { return ack.index }
                }
                preconditionFailure("all voters' weight \(weight) is not more than half of \(totalWeight)")
            }
        }

        /// `won` when the yes votes hold more than half of the weight, `lost` when the yes votes
        /// together with the missing ones (`votes(id)` nil) could not, `pending` otherwise. The
        /// empty configuration has won.
        package func voteResult(_ votes: (NodeID) -> Bool?) -> VoteResult {
            guard !voters.isEmpty else { return .won }
            var yes: UInt64 = 0
            var missing: UInt64 = 0
            for voter in voters {
                switch votes(voter.id) {
                case true?: yes += voter.weight
                case nil: missing += voter.weight
                case false?: break
                }
            }
            if exceedsHalf(yes) { return .won }
            if exceedsHalf(yes + missing) { return .pending }
            return .lost
        }

        /// `{1:3 2:1 5:1}`: ids ascending with their weights.
        package var description: String {
            "{" + voters.map { "\($0.id):\($0.weight)" }.joined(separator: " ") + "}"
        }

        /// True when `weight` is more than half of `totalWeight`, without dividing (so odd totals
        /// need no rounding rule). Both are at most `weightTotalMax`, so doubling cannot overflow.
        private func exceedsHalf(_ weight: UInt64) -> Bool {
            weight * 2 > totalWeight
        }

        private func position(of id: NodeID) -> Int? {
            var low = 0
            var high = voters.count
            while low < high {
                let middle = (low + high) / 2
                if voters[middle].id < id { low = middle + 1 } else { high = middle }
            }
            return low < voters.count && voters[low].id == id ? low : nil
        }
    }

    /// The configuration in force, which during joint consensus is two configurations at once:
    /// the cluster moves from `outgoing` to `incoming` through a state in which every decision
    /// (election, commitment) needs a quorum of BOTH (Raft dissertation §4.3). Any quorum of the
    /// joint configuration then intersects any quorum of the old and of the new one, which is
    /// what makes arbitrary changes — including weight changes — safe.
    ///
    /// When not joint, `outgoing` is empty and, by the empty configuration's conventions, every
    /// answer is that of `incoming`.
    package struct JointConfig: Equatable, Hashable, Sendable, CustomStringConvertible {
        package var incoming: MajorityConfig
        /// Empty when the configuration is not joint.
        package var outgoing: MajorityConfig

        package init(incoming: MajorityConfig, outgoing: MajorityConfig = MajorityConfig()) {
            self.incoming = incoming
            self.outgoing = outgoing
        }

        package var isJoint: Bool { !outgoing.isEmpty }

        /// Every voter of either half, ascending, each once.
        package var ids: [NodeID] {
            var merged: [NodeID] = []
            merged.reserveCapacity(incoming.count + outgoing.count)
            var (left, right) = (incoming.ids[...], outgoing.ids[...])
            while let a = left.first, let b = right.first {
                merged.append(min(a, b))
                if a <= b { left.removeFirst() }
                if b <= a { right.removeFirst() }
            }
            merged.append(contentsOf: left)
            merged.append(contentsOf: right)
            return merged
        }

        package func contains(_ id: NodeID) -> Bool {
            incoming.contains(id) || outgoing.contains(id)
        }

        /// The largest index both halves have committed: the smaller of their committed indexes.
        package func committedIndex(_ acked: (NodeID) -> Index?) -> Index {
            min(incoming.committedIndex(acked), outgoing.committedIndex(acked))
        }

        /// `won` when both halves have won, `lost` when either has lost, `pending` otherwise.
        package func voteResult(_ votes: (NodeID) -> Bool?) -> VoteResult {
            let results = (incoming.voteResult(votes), outgoing.voteResult(votes))
            if results.0 == .lost || results.1 == .lost { return .lost }
            if results.0 == .won && results.1 == .won { return .won }
            return .pending
        }

        /// True when `members` hold a quorum of each half.
        package func isQuorum(_ members: some Sequence<NodeID>) -> Bool {
            let members = Array(members)
            return incoming.isQuorum(members) && outgoing.isQuorum(members)
        }

        /// `{1:1 2:1 3:1}` or, when joint, `{1:1 2:1 3:3}&&{1:1 2:1 3:1}` (incoming first).
        package var description: String {
            isJoint ? "\(incoming)&&\(outgoing)" : incoming.description
        }
    }
}
