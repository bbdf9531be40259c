import BizraCrypto

extension Raft {
    /// What a node's storage held when it (re)started.
    package struct Recovered: Sendable {
        package var hardState: HardState
        /// The latest durable snapshot; `Snapshot.bootstrap(_:)` for a brand-new node.
        package var snapshot: Snapshot
        /// The durable entries after the snapshot, in order.
        package var entries: [Entry]

        package init(hardState: HardState = HardState(), snapshot: Snapshot, entries: [Entry] = []) {
            self.hardState = hardState
            self.snapshot = snapshot
            self.entries = entries
        }

        /// A brand-new member of a cluster whose initial voters and weights are `configuration`.
        package static func bootstrap(_ configuration: Configuration) -> Recovered {
            Recovered(snapshot: .bootstrap(configuration))
        }
    }

    /// Why recovered state cannot be used. The shell MUST refuse to serve rather than run on it.
    package struct RecoveryError: Error, Equatable, Sendable, CustomStringConvertible {
        package var index: Index
        package var problem: String

        package var description: String { "recovered log is unusable at index \(index): \(problem)" }
    }

    /// One member's protocol state machine. Feed it inputs (`tick`, `step`, `propose`,
    /// `readIndex`, `proposeConfigChange`, `transferLeadership`, `persisted`, `compact`) and act on
    /// `takeReady()` after each batch of them (see `Raft.Ready` for the caller's obligations).
    ///
    /// A value type with no IO, clock or global randomness: the simulator replays any run of it
    /// from a seed, and the transcripts in Tests/BizraRaftTests/Scenarios drive it step by step.
    package struct Node {
        package let settings: Settings
        var random: Random

        // Persistent state (Figure 2) and the log.
        package internal(set) var term: Term
        package internal(set) var vote: NodeID?
        var log: Log
        package internal(set) var configuration: Configuration
        /// The Merkle frontier of the applied prefix (leaves are entry hashes).
        package internal(set) var merkle: MerkleFrontier
        /// The latest snapshot this node holds (sent to followers that fell behind compaction).
        package internal(set) var snapshot: Snapshot

        // Volatile state.
        package internal(set) var role = Role.follower
        package internal(set) var leader: NodeID?
        var electionElapsed = 0
        var heartbeatElapsed = 0
        var randomizedElectionTimeout = 0
        /// Ticks since start; the clock of leases, stalls and timeouts.
        var tickCount = 0
        var votes: [NodeID: Bool] = [:]

        // Leader state.
        var progress: [NodeID: Progress] = [:]
        var transferee: NodeID?
        var transferElapsed = 0
        /// The index of the latest configuration change in the log (one in flight at a time).
        var pendingConfigIndex: Index = 0
        var uncommittedBytes = 0
        var reads = ReadState()
        /// Set while a leader removed from the configuration hands over (RaftMembership.swift).
        var departure: Departure?
        /// Entries were appended, or the commit index advanced, since the last `Ready`: the
        /// followers are owed appends, sent together by `flushAppends` (RaftReplication.swift).
        var appendsOwed = false
        var commitOwed = false

        // Proposals whose outcome is still owed (see RaftProposals.swift).
        var proposals = ProposalTracker()

        // Snapshot being received.
        var incomingSnapshot: (metadata: SnapshotMetadata, totalBytes: UInt64, data: [UInt8])?

        // Durability bookkeeping (see RaftStorage.swift).
        var writes = WriteTracker()

        // Outputs collected until `takeReady()`.
        var outbox: [Message] = []
        var readResults: [ReadResult] = []
        var outcomes: [ProposalOutcome] = []
        var events: [Event] = []
        var snapshotToApply: Snapshot?
        var forwardBuffer: [ForwardedProposal] = []
        /// Withheld messages whose writes became durable, sent with the next `Ready`.
        var releasedMessages: [Message] = []

        /// Starts (or restarts) a member from what its storage held.
        package init(settings: Settings, recovered: Recovered) throws(RecoveryError) {
            if let problem = settings.problem { preconditionFailure("Raft settings: \(problem)") }
            self.settings = settings
            random = Random(state: settings.randomSeed ^ (settings.id &* 0x9E37_79B9_7F4A_7C15))
            let metadata = recovered.snapshot.metadata
            var previous = metadata.chainHead
            for (offset, entry) in recovered.entries.enumerated() {
                let expected = metadata.index + 1 + UInt64(offset)
                guard entry.index == expected else {
                    throw RecoveryError(index: expected, problem: "found index \(entry.index) instead")
                }
                guard entry.links(after: previous) else {
                    throw RecoveryError(index: expected, problem: "the entry's hash does not link to its predecessor")
                }
                previous = entry.hash
            }
            term = recovered.hardState.term
            vote = recovered.hardState.vote
            log = Log(snapshot: metadata, entries: recovered.entries, committed: recovered.hardState.commit)
            configuration = metadata.configuration
            merkle = metadata.merkle
            snapshot = recovered.snapshot
            writes.lastHardState = HardState(term: term, vote: vote, commit: log.committed)
            resetElectionTimeout()
        }

        package var id: NodeID { settings.id }

        /// Whether this node may campaign: a voter of the current configuration.
        var isPromotable: Bool { configuration.isVoter(id) }

        package var status: Status {
            Status(
                id: id, role: role, term: term, vote: vote, leader: leader, commit: log.committed,
                applied: log.applied, persisted: log.persisted, lastIndex: log.lastIndex, firstIndex: log.firstIndex,
                merkleRoot: merkle.root, merkleSize: merkle.size, configuration: configuration,
                followers: role == .leader
                    ? configuration.members.filter { $0 != id }.compactMap { peer in
                        progress[peer].map {
                            FollowerStatus(id: peer, match: $0.match, next: $0.next, state: $0.state.rawValue)
                        }
                    } : [],
                transferee: transferee)
        }

        /// The commit index and the log's bounds, without what `status` computes (the Merkle root
        /// is hashed on every call): for callers that poll after each input.
        package var commitIndex: Index { log.committed }
        package var logBounds: (first: Index, last: Index) { (log.firstIndex, log.lastIndex) }

        /// The hash of the entry at `index`, if the node still holds it.
        package func entryHash(at index: Index) -> Digest256? { log.hash(at: index) }

        /// The entry at `index`, if the node still holds it (not compacted away).
        package func entry(at index: Index) -> Entry? { log.entry(at: index) }

        // MARK: Ticks

        /// Advances logical time by one tick. The caller decides the tick length (bizra-consensus
        /// uses 10 ms); every timeout in `Settings` is in ticks.
        package mutating func tick() {
            tickCount += 1
            if role == .leader {
                tickLeader()
            } else {
                electionElapsed += 1
                if isPromotable, electionElapsed >= randomizedElectionTimeout {
                    electionElapsed = 0
                    campaign(transfer: false)
                }
            }
            proposals.expire(now: tickCount, timeoutTicks: settings.proposalTimeoutTicks, into: &outcomes)
            reads.expireForwarded(
                now: tickCount, timeoutTicks: settings.electionTimeoutTicks * 2, into: &readResults)
        }

        private mutating func tickLeader() {
            heartbeatElapsed += 1
            electionElapsed += 1
            if let stalledTicks = writes.oldestInFlightAge(now: tickCount),
                stalledTicks >= settings.storageStallTicksMax
            {
                becomeFollower(term: term, leader: nil, reason: "storage stalled for \(stalledTicks) ticks")
                return
            }
            if departure != nil {
                finishDepartureIfDone()
                if role != .leader { return }
            }
            if electionElapsed >= settings.electionTimeoutTicks {
                electionElapsed = 0
                if settings.checkQuorum, !hasActiveQuorum() {
                    becomeFollower(term: term, leader: nil, reason: "check-quorum: no quorum heard from")
                    return
                }
            }
            if let target = transferee {
                transferElapsed += 1
                if transferElapsed >= settings.electionTimeoutTicks {
                    transferee = nil
                    events.append(.transferAborted(to: target))
                }
            }
            if heartbeatElapsed >= settings.heartbeatIntervalTicks {
                heartbeatElapsed = 0
                broadcastHeartbeat()
            }
            resendStalledSnapshotChunks()
        }

        /// Whether voters holding a quorum of the weight were heard from since the last check;
        /// resets the marks for the next round.
        mutating func hasActiveQuorum() -> Bool {
            var active: [NodeID] = [id]
            for peer in configuration.voters.ids where peer != id {
                if progress[peer]?.recentActive == true { active.append(peer) }
                progress[peer]?.recentActive = false
            }
            return configuration.voters.isQuorum(active)
        }

        mutating func resetElectionTimeout() {
            electionElapsed = 0
            randomizedElectionTimeout =
                settings.electionTimeoutTicks + random.below(settings.electionTimeoutTicks)
        }

        // MARK: Sending

        mutating func send(_ body: Message.Body, to peer: NodeID, term messageTerm: Term? = nil) {
            outbox.append(Message(from: id, to: peer, term: messageTerm ?? term, body: body))
        }
    }

    /// A read-only view of a node for status output, logs and tests.
    package struct Status: Equatable, Sendable {
        package var id: NodeID
        package var role: Role
        package var term: Term
        package var vote: NodeID?
        package var leader: NodeID?
        package var commit: Index
        package var applied: Index
        package var persisted: Index
        package var lastIndex: Index
        package var firstIndex: Index
        /// The Merkle root of entries 1...merkleSize (the applied prefix of the committed log).
        package var merkleRoot: Digest256
        package var merkleSize: UInt64
        package var configuration: Configuration
        package var followers: [FollowerStatus]
        package var transferee: NodeID?
    }

    package struct FollowerStatus: Equatable, Sendable {
        package var id: NodeID
        package var match: Index
        package var next: Index
        package var state: String
    }
}
