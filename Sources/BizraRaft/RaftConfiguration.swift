extension Raft {
    /// Who votes (with what weight) and who only replicates.
    ///
    /// During joint consensus (Raft dissertation §4.3) `voters.outgoing` holds the old voters and
    /// `voters.incoming` the new; every election and every commit needs a weighted quorum of both.
    /// Learners (etcd-io/raft's non-voting members) receive the log but never vote or campaign.
    package struct Configuration: Equatable, Sendable, CustomStringConvertible {
        package var voters: JointConfig
        /// Sorted ascending; disjoint from the voters.
        package private(set) var learners: [NodeID]

        package init(voters: JointConfig, learners: [NodeID] = []) {
            self.voters = voters
            self.learners = learners.sorted()
        }

        /// A plain configuration: `weights` are the voters, no joint state.
        package init(weights: [NodeID: UInt64], learners: [NodeID] = []) {
            self.init(voters: JointConfig(incoming: MajorityConfig(weights)), learners: learners)
        }

        package var isJoint: Bool { voters.isJoint }

        package func isVoter(_ id: NodeID) -> Bool { voters.contains(id) }

        package func isLearner(_ id: NodeID) -> Bool { learners.contains(id) }

        package func isMember(_ id: NodeID) -> Bool { isVoter(id) || isLearner(id) }

        /// Every voter and learner, sorted ascending.
        package var members: [NodeID] { (voters.ids + learners).sorted() }

        package var description: String {
            func text(_ config: MajorityConfig) -> String {
                config.ids.map { "\($0):\(config.weight(of: $0) ?? 0)" }.joined(separator: " ")
            }
            var parts = ["voters=(\(text(voters.incoming)))"]
            if voters.isJoint { parts.append("outgoing=(\(text(voters.outgoing)))") }
            if !learners.isEmpty { parts.append("learners=(\(learners.map(String.init).joined(separator: " ")))") }
            return parts.joined(separator: " ")
        }

        mutating func setLearners(_ ids: [NodeID]) { learners = ids.sorted() }
    }

    /// One step of a membership or weight change.
    package enum ConfigChangeStep: Equatable, Sendable {
        /// Adds a voter (or promotes a learner) with a positive weight.
        case addVoter(NodeID, weight: UInt64)
        /// Adds a learner; a voter cannot be demoted in one step (remove it, then add it back).
        case addLearner(NodeID)
        /// Removes a voter or a learner.
        case remove(NodeID)
        /// Changes a voter's weight; always goes through joint consensus.
        case setWeight(NodeID, weight: UInt64)
    }

    /// A configuration change as proposed and as stored in a `configChange` entry.
    package enum ConfigChange: Equatable, Sendable {
        /// Changes the members. A single voter added or removed while every voter weight (before
        /// and after) is equal takes effect in one step, as in Raft §4.1; anything else enters
        /// joint consensus, and the leader proposes `leaveJoint` once the entry is applied.
        case change([ConfigChangeStep])
        /// Leaves joint consensus: the incoming voters become the configuration.
        case leaveJoint
    }

    /// Why a configuration change was refused.
    package enum ConfigChangeRefusal: Error, Equatable, Sendable, CustomStringConvertible {
        case changeInFlight(pendingIndex: Index)
        case alreadyJoint
        case notJoint
        case empty
        case noVotersLeft
        case badWeight(NodeID)
        case weightTotal(UInt64)
        case unknownMember(NodeID)
        case voterToLearner(NodeID)
        case duplicateStep(NodeID)
        case tooManyMembers(Int)
        case notLeader
        case transferInProgress
        case malformed

        package var description: String {
            switch self {
            case .changeInFlight(let index):
                return "a configuration change at index \(index) is not applied yet; retry after it is"
            case .alreadyJoint: return "the configuration is joint; wait for the automatic leave-joint entry"
            case .notJoint: return "leave-joint proposed while the configuration is not joint"
            case .empty: return "the change has no steps"
            case .noVotersLeft: return "the change would leave no voters"
            case .badWeight(let id): return "voter \(id) needs a weight in 1...\(Raft.Limits.voterWeightMax)"
            case .weightTotal(let total):
                return "the weights would sum to \(total); the limit is \(Raft.MajorityConfig.weightTotalMax)"
            case .unknownMember(let id): return "node \(id) is not a member"
            case .voterToLearner(let id): return "voter \(id) cannot become a learner in one step; remove it first"
            case .duplicateStep(let id): return "node \(id) appears in more than one step"
            case .tooManyMembers(let count):
                return "the change would make \(count) members; the limit is \(Raft.Limits.membersMax)"
            case .notLeader: return "this node is not the leader"
            case .transferInProgress: return "a leadership transfer is in progress"
            case .malformed: return "the configuration change entry does not decode"
            }
        }
    }
}

extension Raft.Configuration {
    /// The configuration after applying `change`, or why it is refused. Checked by the leader when
    /// a change is proposed (against the latest configuration in the log, which is the applied one
    /// because only one change may be in flight) and again by every node when the entry applies.
    package func applying(_ change: Raft.ConfigChange) throws(Raft.ConfigChangeRefusal) -> Raft.Configuration {
        switch change {
        case .leaveJoint:
            guard isJoint else { throw .notJoint }
            return Raft.Configuration(voters: Raft.JointConfig(incoming: voters.incoming), learners: learners)
        case .change(let steps):
            guard !isJoint else { throw .alreadyJoint }
            return try applying(steps)
        }
    }

    private func applying(_ steps: [Raft.ConfigChangeStep]) throws(Raft.ConfigChangeRefusal) -> Raft.Configuration {
        guard !steps.isEmpty else { throw .empty }
        var weights: [Raft.NodeID: UInt64] = [:]
        for id in voters.incoming.ids { weights[id] = voters.incoming.weight(of: id) }
        var learnerSet = Set(learners)
        var seen = Set<Raft.NodeID>()
        for step in steps {
            let id = step.node
            guard seen.insert(id).inserted else { throw .duplicateStep(id) }
            switch step {
            case .addVoter(_, let weight):
                guard (1...Raft.Limits.voterWeightMax).contains(weight) else { throw .badWeight(id) }
                weights[id] = weight
                learnerSet.remove(id)
            case .addLearner:
                guard weights[id] == nil else { throw .voterToLearner(id) }
                learnerSet.insert(id)
            case .remove:
                guard weights[id] != nil || learnerSet.contains(id) else { throw .unknownMember(id) }
                weights[id] = nil
                learnerSet.remove(id)
            case .setWeight(_, let weight):
                guard weights[id] != nil else { throw .unknownMember(id) }
                guard (1...Raft.Limits.voterWeightMax).contains(weight) else { throw .badWeight(id) }
                weights[id] = weight
            }
        }
        guard !weights.isEmpty else { throw .noVotersLeft }
        let total = weights.values.reduce(0, +)
        guard total <= Raft.MajorityConfig.weightTotalMax else { throw .weightTotal(total) }
        guard weights.count + learnerSet.count <= Raft.Limits.membersMax else {
            throw .tooManyMembers(weights.count + learnerSet.count)
        }
        let incoming = Raft.MajorityConfig(weights)
        let learnerList = learnerSet.sorted()
        if Raft.Configuration.isSafeInOneStep(from: voters.incoming, to: incoming) {
            return Raft.Configuration(voters: Raft.JointConfig(incoming: incoming), learners: learnerList)
        }
        return Raft.Configuration(
            voters: Raft.JointConfig(incoming: incoming, outgoing: voters.incoming), learners: learnerList)
    }

    /// Whether going from `old` to `new` directly keeps every quorum of one intersecting every
    /// quorum of the other: at most one voter added or removed, no weight changed, and all
    /// weights equal on both sides (with unequal weights even a one-voter change can produce two
    /// disjoint quorums; `QuorumOracleTests` shows one).
    static func isSafeInOneStep(from old: Raft.MajorityConfig, to new: Raft.MajorityConfig) -> Bool {
        guard old.hasEqualWeights, new.hasEqualWeights else { return false }
        if let oldWeight = old.ids.first.flatMap(old.weight(of:)),
            let newWeight = new.ids.first.flatMap(new.weight(of:)), oldWeight != newWeight
        {
            return false
        }
        let oldIDs = Set(old.ids)
        let newIDs = Set(new.ids)
        return oldIDs.symmetricDifference(newIDs).count <= 1
    }
}

extension Raft.ConfigChangeStep {
    /// The node this step is about.
    package var node: Raft.NodeID {
        switch self {
        case .addVoter(let id, _), .addLearner(let id), .remove(let id), .setWeight(let id, _): return id
        }
    }
}

// MARK: Encoding (the payload of a `configChange` entry)

extension Raft.ConfigChange {
    /// Layout: tag (0 = change, 1 = leave-joint); for a change, a 1-byte step count, then per step
    /// a 1-byte kind (0 addVoter, 1 addLearner, 2 remove, 3 setWeight), the node id and the weight
    /// (0 where none), both 8 bytes big-endian.
    package var encoded: [UInt8] {
        var writer = Raft.ByteWriter(capacity: 2 + 17 * 4)
        switch self {
        case .leaveJoint: writer.u8(1)
        case .change(let steps):
            writer.u8(0)
            writer.u8(UInt8(clamping: steps.count))
            for step in steps.prefix(Int(UInt8.max)) {
                let (kind, id, weight): (UInt8, UInt64, UInt64)
                switch step {
                case .addVoter(let node, let w): (kind, id, weight) = (0, node, w)
                case .addLearner(let node): (kind, id, weight) = (1, node, 0)
                case .remove(let node): (kind, id, weight) = (2, node, 0)
                case .setWeight(let node, let w): (kind, id, weight) = (3, node, w)
                }
                writer.u8(kind)
                writer.u64(id)
                writer.u64(weight)
            }
        }
        return writer.bytes
    }

    /// Decodes `encoded`; nil when the bytes are not a configuration change.
    package init?(decoding bytes: [UInt8]) {
        var reader = Raft.ByteReader(bytes)
        guard let tag = try? reader.u8("configChange.tag") else { return nil }
        if tag == 1 {
            guard reader.remaining == 0 else { return nil }
            self = .leaveJoint
            return
        }
        guard tag == 0, let count = try? reader.u8("configChange.count"), reader.remaining == Int(count) * 17 else {
            return nil
        }
        var steps: [Raft.ConfigChangeStep] = []
        for _ in 0..<count {
            guard let kind = try? reader.u8("step.kind"), let id = try? reader.u64("step.id"),
                let weight = try? reader.u64("step.weight")
            else { return nil }
            switch kind {
            case 0: steps.append(.addVoter(id, weight: weight))
            case 1: steps.append(.addLearner(id))
            case 2: steps.append(.remove(id))
            case 3: steps.append(.setWeight(id, weight: weight))
            default: return nil
            }
        }
        self = .change(steps)
    }
}
