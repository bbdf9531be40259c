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
        /// The log is verified to be a hash chain up to this index, which had this hash.
        var verifiedIndex: Raft.Index = 0
        var verifiedHash = Digest256.zero
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
        // Through the buffer so that the node is borrowed, not copied: a copy retains every
        // array of the core, which cost a tenth of the run.
        sim.nodes.withUnsafeBufferPointer { nodes in
            guard nodes[id] != nil else {
                views[id].up = false
                return nil
            }
            if let violation = nodes[id]!.violation { return violation }
            // `status` hashes the Merkle root, so it is read only after inputs that can move the
            // commit index (messages, write completions, boots).
            if nodes[id]!.commitMayHaveChanged || !views[id].up {
                let status = nodes[id]!.raft.status
                let hash = nodes[id]!.raft.entryHash(at: status.commit)
                if let violation = checkCommit(id, status, hash, recovered: nodes[id]!.recoveredCommit) {
                    return violation
                }
            }
            if let restored = nodes[id]!.restoredLately,
                let violation = checkApplied(id, restored.index, restored.chainHead, restored.state)
            {
                return violation
            }
            for applied in nodes[id]!.appliedLately {
                if let violation = checkApplied(id, applied.index, applied.hash, applied.state) { return violation }
            }
            if let violation = checkChain(id, nodes[id]!.raft) { return violation }
            guard nodes[id]!.raft.role == .leader else { return nil }
            return checkLeader(id, nodes[id]!.raft, blockedLinks: sim.network.blockedLinkCount)
        }
    }

    /// Monotonic commit, and the committed chain.
    private func checkCommit(_ id: NodeID, _ status: Raft.Status, _ hash: Digest256?, recovered: Raft.Index)
        -> String?
    {
        if !views[id].up {
            views[id] = NodeView(up: true, commit: status.commit)
            if status.commit != recovered {
                return "node \(id) restarted with commit \(status.commit), but its disk holds \(recovered)"
            }
        } else if status.commit < views[id].commit {
            return "node \(id)'s commit index went back from \(views[id].commit) to \(status.commit) while it ran"
        }
        views[id].commit = status.commit
        guard let hash else {
            return "node \(id) commits \(status.commit) but holds no entry there (log \(status.firstIndex)..."
                + "\(status.lastIndex))"
        }
        if let violation = record(status.commit, hash, "committed", id) { return violation }
        if commitByTerm[status.term, default: 0] < status.commit { commitByTerm[status.term] = status.commit }
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

    /// Every node's log is a hash chain, and entries with equal index and term are equal.
    /// Verification resumes after the last verified entry; if that entry changed (truncated,
    /// compacted, replaced by a snapshot, or the node restarted) it starts over at the node's
    /// snapshot, which the log always holds the hash of.
    private func checkChain(_ id: NodeID, _ raft: borrowing Raft.Node) -> String? {
        var view = views[id]
        if raft.entryHash(at: view.verifiedIndex) != view.verifiedHash {
            let anchor = raft.snapshot.metadata
            guard raft.entryHash(at: anchor.index) == anchor.chainHead else {
                return "node \(id)'s log does not hold its snapshot's chain head at \(anchor.index)"
            }
            view.verifiedIndex = anchor.index
            view.verifiedHash = anchor.chainHead
        }
        var previous = view.verifiedHash
        var index = view.verifiedIndex
        while let entry = raft.entry(at: index + 1) {
            index += 1
            guard entry.index == index, entry.links(after: previous) else {
                return "node \(id)'s entry \(index) (term \(entry.term)) does not link to entry \(index - 1)"
            }
            let key = IndexTerm(index: index, term: entry.term)
            if let known = entryHashes[key] {
                if known != entry.hash {
                    return "log matching: node \(id) holds entry \(index) of term \(entry.term) with a different hash "
                        + "than another node's"
                }
            } else {
                entryHashes[key] = entry.hash
            }
            previous = entry.hash
        }
        view.verifiedIndex = index
        view.verifiedHash = previous
        views[id] = view
        return nil
    }

    /// Election safety and leader completeness. Runs after `checkChain`, so the log is verified
    /// up to its last entry (`verifiedIndex`).
    private func checkLeader(_ id: NodeID, _ raft: borrowing Raft.Node, blockedLinks: Int) -> String? {
        let term = raft.term
        if let other = leaderOfTerm[term] {
            return other == id ? nil : "nodes \(other) and \(id) both led term \(term)"
        }
        leaderOfTerm[term] = id
        if blockedLinks > 0 { coverage.hit("raft.leaderElectedDuringPartition") }
        var required: Raft.Index = 0
        for (commitTerm, index) in commitByTerm where commitTerm < term { required = max(required, index) }
        guard required > 0 else { return nil }
        let lastIndex = views[id].verifiedIndex
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
