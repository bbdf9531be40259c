import BizraCrypto
import BizraRaft

extension KV {
    /// The proof that a committed log entry wrote a key: the entry (enough to recompute its chain
    /// hash), and the RFC 6962 audit path of that hash in the Merkle tree of the first `treeSize`
    /// entries, whose root a member published (`bizra consensus status`). Checked offline by
    /// `verify` (`bizra verify-proof FILE`), with no access to the cluster.
    package struct InclusionProof: Codable, Equatable, Sendable {
        package var node: String
        package var key: String
        package var value: String
        package var entry: ProvenEntry
        package var proof: Raft.MerkleProof
        package var root: Digest256

        package init(
            node: String, key: String, value: String, entry: ProvenEntry, proof: Raft.MerkleProof, root: Digest256
        ) {
            self.node = node
            self.key = key
            self.value = value
            self.entry = entry
            self.proof = proof
            self.root = root
        }

        /// A log entry in a proof; `payload` is hex.
        package struct ProvenEntry: Codable, Equatable, Sendable {
            package var term: UInt64
            package var index: UInt64
            package var kind: UInt8
            package var originNode: UInt64
            package var originSequence: UInt64
            package var payload: String
            /// The chain hash of the entry at `index - 1` (zero for index 1).
            package var previousHash: Digest256
            package var hash: Digest256

            package init(_ entry: Raft.Entry, previousHash: Digest256) {
                term = entry.term
                index = entry.index
                kind = entry.kind.rawValue
                originNode = entry.origin.node
                originSequence = entry.origin.sequence
                payload = Hex.encode(entry.payload)
                self.previousHash = previousHash
                hash = entry.hash
            }
        }

        /// Why the proof does not hold, or nil when it does: the entry's hash is recomputed from
        /// its fields, its payload must be a put or cas of `key` to `value`, the audit path must
        /// lead from the hash to `root`, and `root` must be `trustedRoot` when one is given.
        package func problem(trustedRoot: Digest256?) -> String? {
            guard let kind = Raft.EntryKind(rawValue: entry.kind), kind == .normal else {
                return "the entry is not an application command"
            }
            guard let payload = try? Hex.decode(entry.payload) else { return "the entry's payload is not hex" }
            let origin = Raft.ProposalID(node: entry.originNode, sequence: entry.originSequence)
            let hash = Raft.Entry.link(
                previous: entry.previousHash, term: entry.term, index: entry.index, kind: kind, origin: origin,
                payload: payload)
            guard hash == entry.hash else { return "the entry's fields do not hash to its hash" }
            guard let command = try? KV.Command(decoding: payload) else { return "the payload is not a KV command" }
            let written: (key: [UInt8], value: [UInt8])
            switch command.operation {
            case .put(let key, let value, _), .compareAndSwap(let key, _, let value, _): written = (key, value)
            default: return "the entry does not write a key"
            }
            guard written.key == Array(key.utf8), written.value == Array(value.utf8) else {
                return "the entry writes another key or value"
            }
            guard entry.index >= 1, proof.leafIndex == entry.index - 1 else {
                return "the audit path is for another position"
            }
            guard proof.verify(leaf: entry.hash, root: root) else {
                return "the audit path does not lead to the root"
            }
            if let trustedRoot, trustedRoot != root { return "the proof's root is not the trusted root" }
            return nil
        }
    }
}
