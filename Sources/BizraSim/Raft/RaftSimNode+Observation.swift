import BizraCrypto
import BizraRaft

/// What the safety oracle needs of a node after each input, computed by the node itself where
/// the core is at hand in place: reading it through the simulator from the oracle copied the
/// whole core on every event (a tenth of a run) and hashed the Merkle root in `status`.
package struct RaftObservation: Sendable {
    package var role = Raft.Role.follower
    package var term: Raft.Term = 0
    /// The commit index, its entry's hash and the term it was seen in; refreshed only after
    /// inputs that can move it (`RaftSimNode.commitMayHaveChanged`).
    package var commit: Raft.Index = 0
    package var commitHash: Digest256?
    package var commitTerm: Raft.Term = 0
    package var logDescription = ""
    /// The log is a verified hash chain up to `lastIndex` (its end), whose hash is `lastHash`.
    package var lastIndex: Raft.Index = 0
    package var lastHash = Digest256.zero
    /// Entries verified by the last input (new to this node's log): index, term, hash.
    package var newEntries: [(index: Raft.Index, term: Raft.Term, hash: Digest256)] = []
}

extension RaftSimNode {
    /// Refreshes `observation` at the end of an input: role, term, the commit index when it can
    /// have moved, and the hash chain of the entries new to the log. Each new entry is re-hashed
    /// and must link to its predecessor; when the entry verified last changed (truncated,
    /// compacted, replaced by a snapshot, or the node restarted), verification starts over at the
    /// node's snapshot, whose chain head the log always holds. A broken link is a `violation`.
    mutating func observe() {
        observation.role = raft.role
        observation.term = raft.term
        if commitMayHaveChanged {
            observation.commit = raft.commitIndex
            observation.commitHash = raft.entryHash(at: observation.commit)
            observation.commitTerm = raft.term
            if observation.commitHash == nil {
                let bounds = raft.logBounds
                observation.logDescription = "log \(bounds.first)...\(bounds.last)"
            }
        }
        observation.newEntries.removeAll(keepingCapacity: true)
        if raft.entryHash(at: observation.lastIndex) != observation.lastHash {
            let anchor = raft.snapshot.metadata
            guard raft.entryHash(at: anchor.index) == anchor.chainHead else {
                violation = violation ?? "node \(id)'s log does not hold its snapshot's chain head at \(anchor.index)"
                return
            }
            observation.lastIndex = anchor.index
            observation.lastHash = anchor.chainHead
        }
        while let entry = raft.entry(at: observation.lastIndex + 1) {
            let index = observation.lastIndex + 1
            guard entry.index == index, entry.links(after: observation.lastHash) else {
                violation =
                    violation ?? "node \(id)'s entry \(index) (term \(entry.term)) does not link to entry \(index - 1)"
                return
            }
            observation.newEntries.append((index, entry.term, entry.hash))
            observation.lastIndex = index
            observation.lastHash = entry.hash
        }
    }
}
