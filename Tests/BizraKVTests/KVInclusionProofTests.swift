import BizraCrypto
import BizraRaft
import Testing

@testable import BizraKV

@Suite struct KVInclusionProofTests {
    /// A chained log of `count` puts (`k<i>` = `v<i>`) and the proof for the entry at `index`.
    static func proof(count: Int, index: Int) -> KV.InclusionProof {
        var entries: [Raft.Entry] = []
        var previous = Digest256.zero
        for i in 1...count {
            let command = KV.Command(
                client: 9, sequence: UInt64(i),
                operation: .put(key: Array("k\(i)".utf8), value: Array("v\(i)".utf8), lease: 0))
            let entry = Raft.Entry(
                term: 2, index: UInt64(i), kind: .normal, origin: Raft.ProposalID(node: 1, sequence: UInt64(i)),
                payload: command.encoded, previous: previous)
            entries.append(entry)
            previous = entry.hash
        }
        let leaves = entries.map(\.hash)
        let entry = entries[index - 1]
        return KV.InclusionProof(
            node: "n1", key: "k\(index)", value: "v\(index)",
            entry: .init(entry, previousHash: index > 1 ? leaves[index - 2] : .zero),
            proof: Raft.MerkleProof.make(leaves: leaves, leafIndex: UInt64(index - 1)),
            root: Raft.Merkle.root(of: leaves))
    }

    @Test func aProofOfEveryEntryOfEveryTreeSizeHolds() {
        for count in 1...9 {
            for index in 1...count {
                let proof = Self.proof(count: count, index: index)
                #expect(proof.problem(trustedRoot: proof.root) == nil, "size \(count), entry \(index)")
            }
        }
    }

    @Test func anyTamperingIsCaught() {
        let good = Self.proof(count: 7, index: 5)
        var value = good
        value.value = "forged"
        #expect(value.problem(trustedRoot: nil) == "the entry writes another key or value")
        var term = good
        term.entry.term = 3
        #expect(term.problem(trustedRoot: nil) == "the entry's fields do not hash to its hash")
        var path = good
        path.proof.path[0] = .zero
        #expect(path.problem(trustedRoot: nil) == "the audit path does not lead to the root")
        let other = Self.proof(count: 8, index: 5)
        #expect(good.problem(trustedRoot: other.root) == "the proof's root is not the trusted root")
        var position = good
        position.proof.leafIndex = 3
        #expect(position.problem(trustedRoot: nil) == "the audit path is for another position")
    }
}
