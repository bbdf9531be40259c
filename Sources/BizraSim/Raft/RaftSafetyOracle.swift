import BizraCrypto
import BizraRaft

/// Raft's safety properties (Figure 3 of the paper) plus the shell's, checked after every
/// simulator event on the nodes the event touched (`Simulator.lastTouched`), so the cost per
/// event is O(1) apart from hashing the entries that are new to a node's log.
///
/// - **Election safety**: at most one leader per term, over the whole run.
/// - **Log matching**: two entries with the same index and term have the same hash, and every
///   node's log is a valid hash chain (each new entry is re-hashed and must link to its
///   predecessor); by the chain, equal hashes mean equal prefixes.
/// - **Leader completeness**: a node that becomes leader of term L holds every entry seen
///   committed while some node was in a term below L (its hash at the highest such index
///   matches the committed chain).
/// - **State-machine safety**: no two nodes commit or apply different entries at one index, and
///   the register state after applying index i is the same on every node (snapshots included).
/// - **Monotonic commit**: a node's commit index never decreases while it runs; after a
///   crash it restarts at exactly what its disk held (`RaftSim.Recovery.commit`).
/// - **Contract**: the adapter's `violation` (an outcome without its entry, an apply gap, an
///   unusable recovered log, a chain break the core reported) is a failure.
///
/// A reference type because `SimInvariant` sees the simulator read-only while these checks
/// remember the run; one instance serves one run on one thread, hence `@unchecked Sendable`.
final class RaftSafetyOracle: @unchecked Sendable {
    struct NodeView {
        var up = false
        var commit: Raft.Index = 0
    }

    struct IndexTerm: Hashable {
        var index: Raft.Index
        var term: Raft.Term
    }

    private var views: [NodeView]
    private var leaderOfTerm: [Raft.Term: NodeID] = [:]
    /// Hash of the committed entry at each index (index 0: the all-zero hash), as far as seen.
    private var chain: [Digest256?] = [.zero]
    /// Register state digest after applying each index, as far as seen.
    private var states: [UInt64?]
    /// The highest commit index seen by a node while in each term.
    private var commitByTerm: [Raft.Term: Raft.Index] = [:]
    private var entryHashes: [IndexTerm: Digest256] = [:]
    private(set) var coverage = SimCoverage()

    init(clusterSize: Int, keyCount: Int) {
        views = Array(repeating: NodeView(), count: clusterSize)
        states = [RaftSim.StateMachine(keyCount: keyCount).digest]
    }

    var invariant: SimInvariant<RaftSimNode> {
        SimInvariant(name: "raftSafety") { [self] sim in check(sim) }
    }

    /// Marks the nodes booted before the first event (their first check is not a restart).
    func start(_ sim: Simulator<RaftSimNode>) {
        for node in 0..<sim.clusterSize where sim.nodes[node] != nil {
            views[node].up = true
            views[node].commit = sim.nodes[node]!.recoveredCommit
        }
    }

    func check(_ sim: Simulator<RaftSimNode>) -> String? {
        switch sim.lastTouched {
        case .none: return nil
        case .node(let node): return check(node, sim)
        case .all:
            for node in 0..<sim.clusterSize {
                if let violation = check(node, sim) { return violation }
            }
            return nil
        }
    }

    private func check(_ id: NodeID, _ sim: Simulator<RaftSimNode>) -> String? {
        // Through the buffer and by stored property, so that the node is not copied (a copy
        // retains every array of the core); the node did the work on its core in `observe()`.
        sim.nodes.withUnsafeBufferPointer { nodes in
            guard nodes[id] != nil else {
                views[id].up = false
                return nil
            }
            if let violation = nodes[id]!.violation { return violation }
            if nodes[id]!.commitMayHaveChanged || !views[id].up,
                let violation = checkCommit(id, nodes[id]!.observation, recovered: nodes[id]!.recoveredCommit)
            {
                return violation
            }
            if let restored = nodes[id]!.restoredLately,
                let violation = checkApplied(id, restored.index, restored.chainHead, restored.state)
            {
                return violation
            }
            for applied in nodes[id]!.appliedLately {
                if let violation = checkApplied(id, applied.index, applied.hash, applied.state) { return violation }
            }
            for entry in nodes[id]!.observation.newEntries {
                if let violation = checkLogMatching(id, entry.index, entry.term, entry.hash) { return violation }
            }
            guard nodes[id]!.observation.role == .leader else { return nil }
            let term = nodes[id]!.observation.term
            if let other = leaderOfTerm[term] {
                return other == id ? nil : "nodes \(other) and \(id) both led term \(term)"
            }
            leaderOfTerm[term] = id
            if sim.network.blockedLinkCount > 0 { coverage.hit("raft.leaderElectedDuringPartition") }
            return checkLeaderCompleteness(id, nodes[id]!.raft, lastIndex: nodes[id]!.observation.lastIndex)
        }
    }

    /// Monotonic commit, and the committed chain.
    private func checkCommit(_ id: NodeID, _ seen: RaftObservation, recovered: Raft.Index) -> String? {
        if !views[id].up {
            views[id] = NodeView(up: true, commit: seen.commit)
            if seen.commit != recovered {
                return "node \(id) restarted with commit \(seen.commit), but its disk holds \(recovered)"
            }
        } else if seen.commit < views[id].commit {
            return "node \(id)'s commit index went back from \(views[id].commit) to \(seen.commit) while it ran"
        }
        views[id].commit = seen.commit
        guard let hash = seen.commitHash else {
            return "node \(id) commits \(seen.commit) but holds no entry there (\(seen.logDescription))"
        }
        if let violation = record(seen.commit, hash, "committed", id) { return violation }
        if commitByTerm[seen.commitTerm, default: 0] < seen.commit { commitByTerm[seen.commitTerm] = seen.commit }
        return nil
    }

    /// State-machine safety: what the node applied (or restored) agrees with every other node.
    private func checkApplied(_ id: NodeID, _ index: Raft.Index, _ hash: Digest256, _ state: UInt64) -> String? {
        if let violation = record(index, hash, "applied", id) { return violation }
        return recordState(index, state, id)
    }

    private func record(_ index: Raft.Index, _ hash: Digest256, _ how: String, _ id: NodeID) -> String? {
        let slot = Int(index)
        if slot >= chain.count { chain += Array(repeating: nil, count: slot - chain.count + 1) }
        guard let known = chain[slot] else {
            chain[slot] = hash
            return nil
        }
        if known != hash {
            return "node \(id) \(how) entry \(index) with hash \(hash.hex.prefix(16)), but \(known.hex.prefix(16)) "
                + "was committed there"
        }
        return nil
    }

    private func recordState(_ index: Raft.Index, _ state: UInt64, _ id: NodeID) -> String? {
        let slot = Int(index)
        if slot >= states.count { states += Array(repeating: nil, count: slot - states.count + 1) }
        guard let known = states[slot] else {
            states[slot] = state
            return nil
        }
        if known != state {
            return "node \(id)'s registers after index \(index) differ from another node's (state \(state) vs \(known))"
        }
        return nil
    }

    /// Log matching: entries with equal index and term have equal hashes (the node verified its
    /// own chain in `observe()`, so by the chain they have equal prefixes).
    private func checkLogMatching(_ id: NodeID, _ index: Raft.Index, _ term: Raft.Term, _ hash: Digest256) -> String? {
        let key = IndexTerm(index: index, term: term)
        guard let known = entryHashes[key] else {
            entryHashes[key] = hash
            return nil
        }
        if known != hash {
            return "log matching: node \(id) holds entry \(index) of term \(term) with a different hash than another "
                + "node's"
        }
        return nil
    }

    /// Leader completeness, when a node is first seen leading a term (rare, so reading the core
    /// through the simulator is affordable here).
    private func checkLeaderCompleteness(_ id: NodeID, _ raft: Raft.Node, lastIndex: Raft.Index) -> String? {
        let term = raft.term
        var required: Raft.Index = 0
        for (commitTerm, index) in commitByTerm where commitTerm < term { required = max(required, index) }
        guard required > 0 else { return nil }
        if required > lastIndex {
            return "node \(id) leads term \(term) without committed entry \(required) (its log ends at \(lastIndex))"
        }
        let anchor = max(required, raft.snapshot.metadata.index)
        guard Int(anchor) < chain.count, let committed = chain[Int(anchor)] else { return nil }
        if raft.entryHash(at: anchor) != committed {
            return "node \(id) leads term \(term) with an entry \(anchor) that differs from the committed one"
        }
        return nil
    }
}
