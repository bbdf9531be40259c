extension Raft {
    /// Hard limits of the core. Settings are checked against them at start-up.
    package enum Limits {
        /// Members (voters and learners) in one configuration.
        package static let membersMax = 64
        /// The largest weight of one voter; with `membersMax` the total stays far below 2⁶³.
        package static let voterWeightMax: UInt64 = 1 << 32
        /// Read requests waiting for a leader's confirmation round (per node).
        package static let readsPendingMax = 4_096
        /// Proposals whose outcome a node is still tracking (oldest end `unknown` beyond it).
        package static let proposalsPendingMax = 65_536
        /// Heartbeat rounds remembered for the lease (per leader term).
        package static let roundsRememberedMax = 256
        /// Writes started and not yet reported durable.
        package static let writesInFlightMax = 4_096
        /// Committed entries handed out by one `takeReady()`.
        package static let applyBatchEntriesMax: UInt64 = 16_384
        /// Messages withheld until a write is durable (beyond it they are dropped: Raft tolerates loss).
        package static let withheldMessagesMax = 65_536
    }

    /// How linearizable reads are confirmed.
    package enum ReadMode: Equatable, Sendable {
        /// ReadIndex (Raft dissertation §6.4): each read waits for one heartbeat round acknowledged
        /// by a quorum. Safe without any clock assumption. The default.
        case readIndex
        /// Lease reads (§6.4.1): a leader serves reads without a round while a quorum acknowledged
        /// a heartbeat sent less than `electionTimeoutTicks - driftBoundTicks` ticks ago. Safe only
        /// if no node's tick runs more than `driftBoundTicks` per election timeout slower than the
        /// leader's (a follower refuses to vote for `electionTimeoutTicks` after hearing from the
        /// leader, so no other leader can exist before the lease ends). Needs `checkQuorum`.
        case lease(driftBoundTicks: Int)
    }

    /// The knobs of one node. Defaults are etcd-io/raft's, scaled to a 10 ms tick.
    package struct Settings: Sendable {
        package var id: NodeID
        /// The minimum election timeout; each node draws its timeout uniformly from
        /// `electionTimeoutTicks ..< 2 × electionTimeoutTicks` (Raft §5.2).
        package var electionTimeoutTicks = 10
        package var heartbeatIntervalTicks = 1
        /// Pre-vote (dissertation §9.6): a node first asks whether it could win before bumping
        /// its term, so a partitioned node cannot disrupt the cluster when it returns.
        package var preVote = true
        /// Check-quorum and leader stickiness (§6.2, §9.6): a leader steps down when it has not
        /// heard from a quorum for an election timeout, and a follower that heard from a leader
        /// within the minimum election timeout refuses votes.
        package var checkQuorum = true
        /// Largest total entry bytes in one append message (batching); at least one entry is sent.
        package var messageEntriesBytesMax = 64 * 1_024
        /// Append messages in flight to one follower (pipelining window).
        package var inflightMessagesMax = 256
        /// Entry bytes in flight to one follower.
        package var inflightBytesMax = 8 * 1_024 * 1_024
        /// Bytes of entries appended but not committed; proposals beyond it are dropped.
        package var uncommittedBytesMax = 16 * 1_024 * 1_024
        package var readMode = ReadMode.readIndex
        /// Followers forward proposals and reads to the leader instead of dropping them.
        package var forwardToLeader = true
        /// A leader whose oldest unfinished write is older than this steps down.
        package var storageStallTicksMax = 50
        /// Bytes of snapshot data per InstallSnapshot chunk.
        package var snapshotChunkBytes = 256 * 1_024
        /// The largest snapshot a follower accepts.
        package var snapshotBytesMax = 1 << 30
        /// Ticks a leader waits for a chunk acknowledgement before resending it.
        package var snapshotChunkTimeoutTicks = 10
        /// Ticks after which a forwarded proposal not seen committed ends `unknown`.
        package var proposalTimeoutTicks = 100
        /// The seed of the core's election-timeout generator (the injected randomness).
        package var randomSeed: UInt64 = 0

        package init(id: NodeID, randomSeed: UInt64 = 0) {
            self.id = id
            self.randomSeed = randomSeed
        }

        /// Why these settings cannot run, or nil.
        package var problem: String? {
            if id == 0 { return "id 0 is reserved (it means 'none')" }
            if electionTimeoutTicks < 2 { return "electionTimeoutTicks must be at least 2" }
            if heartbeatIntervalTicks < 1 || heartbeatIntervalTicks >= electionTimeoutTicks {
                return "heartbeatIntervalTicks must be in 1..<electionTimeoutTicks"
            }
            if messageEntriesBytesMax < 1 || inflightMessagesMax < 1 || inflightBytesMax < 1 {
                return "flow-control limits must be positive"
            }
            if uncommittedBytesMax < 1 { return "uncommittedBytesMax must be positive" }
            if case .lease(let drift) = readMode {
                if !checkQuorum { return "lease reads need checkQuorum" }
                if drift < 0 || drift >= electionTimeoutTicks {
                    return "the lease drift bound must be in 0..<electionTimeoutTicks"
                }
            }
            if storageStallTicksMax < 1 || snapshotChunkBytes < 1 || snapshotChunkTimeoutTicks < 1 {
                return "storage and snapshot limits must be positive"
            }
            if proposalTimeoutTicks < 1 { return "proposalTimeoutTicks must be positive" }
            return nil
        }
    }

    /// The election-timeout generator: SplitMix64 (Steele, Lea & Flood, 2014) from the injected
    /// seed. Small on purpose: the core draws one number per timeout reset.
    struct Random {
        var state: UInt64

        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }

        /// Uniform in `0..<bound` (bound > 0); the modulo bias is below 2⁻⁵⁰ for timeouts.
        mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }
    }
}
